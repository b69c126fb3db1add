"""The interface server: the ASGI application that bridges sockets to the channel layer."""

from .app import InterfaceApp as InterfaceApp
