"""Data binding: model changes go out to groups of sockets as they are saved,
and sockets may ask for changes, which run as the socket's user if ``has_permission`` allows.

Subclass ``WebsocketBinding`` (or ``WebsocketBindingWithMembers`` to send attributes that are
not fields), and name its ``consumer`` in a ``WebsocketDemultiplexer``'s streams::

    class PostBinding(WebsocketBinding):
        model = "blog.Post"
        stream = "posts"
        fields = ["title", "body"]

        @classmethod
        def group_names(cls, instance):
            return [f"blog-{instance.blog_id}"]

        def has_permission(self, user, action, pk):
            return user.is_authenticated and action == "update"

Needs Django set up (it imports ``channels_classic.auth``); binding classes start listening to
their models once Django is ready.
"""

from .base import Binding
from .websockets import WebsocketBinding, WebsocketBindingWithMembers

__all__ = ["Binding", "WebsocketBinding", "WebsocketBindingWithMembers"]
