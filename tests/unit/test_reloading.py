"""The files runserver's autoreloader is told to watch when the routing fails to load (the
whole cycle, break and fix, runs in tests/e2e/management/test_runserver.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils.autoreload import StatReloader, autoreload_started

import channels_classic.routing as router_module
from channels_classic.reloading import RoutingWatch, files_of
from channels_classic.routing import Router


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A folder on sys.path for modules the test writes; they are forgotten after it."""
    monkeypatch.syspath_prepend(str(tmp_path))
    before = set(sys.modules)
    yield tmp_path
    for name in set(sys.modules) - before:
        del sys.modules[name]


def routing_error(project: Path, routing: str, **modules: str) -> BaseException:
    """The error the router raises for a ``broken_routing`` module of text ``routing``."""
    (project / "broken_routing.py").write_text(routing)
    for name, text in modules.items():
        (project / f"{name}.py").write_text(text)
    with pytest.raises(Exception) as raised:
        Router.resolve_routing("broken_routing.channel_routing")
    return raised.value


def test_a_routing_that_imports_a_missing_name_names_itself(project):
    """The router's ImproperlyConfigured comes from its own module; the routing file that
    failed is among the files, through the ImportError it was raised from."""
    error = routing_error(project, "from json import no_such_name\n")
    assert isinstance(error, ImproperlyConfigured)
    assert Path(router_module.__file__) in files_of(error)
    assert project / "broken_routing.py" in files_of(error)


def test_a_failing_consumer_module_is_among_the_files(project):
    """An error raised while a consumer module imports names that module too."""
    error = routing_error(
        project,
        "from broken_consumers import echo\nchannel_routing = []\n",
        broken_consumers="raise ImportError('consumers are broken')\n",
    )
    assert {project / "broken_routing.py", project / "broken_consumers.py"} <= files_of(error)


def test_a_syntax_error_names_its_file(project):
    """A syntax error's file is named even though no frame of it ran."""
    error = routing_error(
        project, "from broken_consumers import echo\n", broken_consumers="def echo(:\n"
    )
    assert isinstance(error, SyntaxError)
    assert project / "broken_consumers.py" in files_of(error)


@pytest.mark.parametrize("error_first", [True, False], ids=["error first", "reloader first"])
def test_the_reloader_gets_the_files_whichever_comes_first(project, error_first):
    """The files of an error reach the reloader's watched files whether the error comes
    before or after the reloader starts (they run in different threads)."""
    error = routing_error(project, "from json import no_such_name\n")
    watch, reloader = RoutingWatch(), StatReloader()
    watch.connect()  # weakly: the receiver goes with ``watch``
    if error_first:
        watch.watch_files_of(error)
    assert project / "broken_routing.py" not in set(reloader.watched_files())
    autoreload_started.send(sender=reloader)
    if not error_first:
        watch.watch_files_of(error)
    assert project / "broken_routing.py" in set(reloader.watched_files())
