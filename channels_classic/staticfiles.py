"""Static files in development: the ``http.request`` consumer runserver and runworker route
when DEBUG is on and ``django.contrib.staticfiles`` is installed.

``StaticFilesHandler`` answers requests under STATIC_URL from the staticfiles finders, as
Django's own development server does, without the middleware; a missing file there gets
Django's 404 page in DEBUG and falls through to the views otherwise (as in 1.x). Other paths
go through the views. ``StaticFilesConsumer`` is the view consumer that uses it. Neither is
meant for production: serve static files with WhiteNoise or a web server there.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse
from urllib.request import url2pathname

from django.apps import apps
from django.conf import settings
from django.contrib.staticfiles import utils
from django.contrib.staticfiles.views import serve
from django.http import Http404
from django.http.response import HttpResponseBase
from django.views import debug

from .handler import AsgiHandler, ViewConsumer


class StaticFilesHandler(AsgiHandler):
    """An ``AsgiHandler`` that serves STATIC_URL itself (see the module docstring)."""

    def __init__(self) -> None:
        super().__init__()
        self.base_url = urlparse(self.get_base_url())

    def get_base_url(self) -> str:
        utils.check_settings()
        return str(settings.STATIC_URL)

    def _should_handle(self, path: str) -> bool:
        """True for paths under STATIC_URL, unless STATIC_URL names another host."""
        return path.startswith(self.base_url.path) and not self.base_url.netloc

    def file_path(self, url: str) -> str:
        """The path of the file under the static roots that ``url`` asks for."""
        return url2pathname(url[len(self.base_url.path) :])

    def serve(self, request: Any) -> HttpResponseBase:
        return serve(request, self.file_path(request.path), insecure=True)

    def get_response(self, request: Any) -> HttpResponseBase:
        if self._should_handle(request.path):
            try:
                return self.serve(request)
            except Http404 as error:
                if settings.DEBUG:
                    return debug.technical_404_response(request, error)
        return super().get_response(request)


class StaticFilesConsumer(ViewConsumer):
    """The view consumer that serves static files too (``StaticFilesHandler``)."""

    handler_class = StaticFilesHandler


def view_consumer(*, insecure: bool = False, static: bool = True) -> ViewConsumer:
    """The default HTTP consumer for runworker and runserver: a ``StaticFilesConsumer``,
    which serves static files too, when staticfiles is installed and DEBUG (or ``insecure``)
    is on, unless ``static`` is False; else a ``ViewConsumer``."""
    if static and apps.is_installed("django.contrib.staticfiles") and (settings.DEBUG or insecure):
        return StaticFilesConsumer()
    return ViewConsumer()
