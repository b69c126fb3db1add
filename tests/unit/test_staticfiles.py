"""channels_classic/staticfiles.py: development static files through the worker, beside the
views, as runserver and runworker route them with DEBUG on."""

from __future__ import annotations

import pytest

from channels_classic.layers.facade import ClassicLayer
from channels_classic.layers.inmemory import InMemoryChannelLayer
from channels_classic.staticfiles import StaticFilesConsumer, StaticFilesHandler, view_consumer
from tests.unit.test_handler import replies, request


@pytest.fixture
def layer() -> ClassicLayer:
    return ClassicLayer(InMemoryChannelLayer(capacity=1000), alias="test")


@pytest.fixture
def debug(settings, transactional_db):
    settings.DEBUG = True
    settings.ROOT_URLCONF = "tests.unit.test_handler"
    settings.MIDDLEWARE = []
    settings.ALLOWED_HOSTS = ["testserver"]


def body(layer: ClassicLayer, path: str) -> tuple[int, bytes]:
    message = request(layer, path, headers=[(b"host", b"testserver")])
    StaticFilesConsumer()(message)
    sent = replies(layer, message)
    return sent[0]["status"], b"".join(reply.get("content", b"") for reply in sent)


def test_a_file_under_static_url_comes_from_the_finders(layer, debug):
    """The test project's style sheet is served from its app's static folder, whole."""
    status, content = body(layer, "/static/project/page.css")
    assert status == 200 and b"color: teal" in content


def test_a_missing_file_is_debugs_404_and_other_paths_reach_the_views(layer, debug):
    """A missing file under STATIC_URL gets Django's technical 404 page; any other path goes
    through the views."""
    status, content = body(layer, "/static/project/nope.js")
    assert status == 404 and b"nope.js" in content
    assert body(layer, "/hello/") == (200, b"hello")


def test_static_url_on_another_host_is_left_to_the_views(layer, debug, settings):
    """With STATIC_URL naming another host there is nothing to serve here."""
    settings.STATIC_URL = "https://cdn.example.com/static/"
    assert not StaticFilesHandler()._should_handle("/static/project/page.css")


def test_the_default_consumer_serves_static_files_only_in_debug(settings):
    """runworker's and runserver's http.request consumer serves static files with DEBUG on
    (or insecure), through views alone otherwise."""
    settings.DEBUG = True
    assert isinstance(view_consumer(), StaticFilesConsumer)
    assert not isinstance(view_consumer(static=False), StaticFilesConsumer)
    settings.DEBUG = False
    assert not isinstance(view_consumer(), StaticFilesConsumer)
    assert isinstance(view_consumer(insecure=True), StaticFilesConsumer)
