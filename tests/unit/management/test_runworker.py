"""``manage.py runworker`` as a command: its options, its refusals, the
worker_process_ready signal; run in this process on a Redis layer, its worker bounded with
stop_when_idle through the command's ``worker_class``."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from channels_classic import route
from channels_classic.layers.registry import channel_layers
from channels_classic.management.commands import runworker
from channels_classic.signals import worker_process_ready
from channels_classic.worker import Worker

ran: list[tuple[str, str]] = []


def job(message) -> None:
    ran.append((message.channel_layer.alias, message["name"]))


ROUTING = [route("test.job", job), route("test.skip", job)]


class BoundedWorker(Worker):
    """The command's worker, returning once the layer has nothing left for it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, install_signals=False, stop_when_idle=True, **kwargs)


class BoundedCommand(runworker.Command):
    worker_class = BoundedWorker


@pytest.fixture
def layers(redis_url: str, prefix: str) -> Iterator[None]:
    """Two Redis layer aliases with the test routes; channels_classic's logging as it was."""
    config = {"hosts": [redis_url]}
    backend = "channels_classic.layers.redis.RedisChannelLayer"
    settings = {
        alias: {"BACKEND": backend, "CONFIG": {**config, "prefix": f"{prefix}{alias}"}}
        | {"ROUTING": ROUTING}
        for alias in ("default", "other")
    }
    logger = logging.getLogger("channels_classic")
    saved = (list(logger.handlers), logger.level, logger.propagate)
    ran.clear()
    with override_settings(CHANNEL_LAYERS=settings):
        yield
        for alias in ("default", "other"):
            channel_layers[alias].flush()
    logger.handlers[:], logger.level, logger.propagate = saved


@pytest.fixture(autouse=True)
def steps(monkeypatch) -> list[str]:
    """What the command did, in order: when it froze its heap (recorded, not done: this test
    process must keep collecting its garbage), with how many jobs had run by then."""
    done: list[str] = []

    def freeze() -> None:
        done.append(f"frozen after {len(ran)} jobs")

    monkeypatch.setattr(runworker, "freeze_startup_heap", freeze)
    return done


def runworker_command(*args: str) -> str:
    """Runs the command; returns what it wrote to stderr."""
    stderr = io.StringIO()
    call_command(BoundedCommand(), *args, stderr=stderr)
    return stderr.getvalue()


def test_layer_option_runs_that_alias_and_fires_worker_process_ready(layers, steps):
    """--layer picks the alias; the routed channels and the default routes are listened on,
    worker_process_ready is sent once with the worker, and the heap is frozen after it,
    before any job runs."""
    channel_layers["other"].send("test.job", {"name": "on other"})
    channel_layers["default"].send("test.job", {"name": "on default"})
    ready = []

    def on_ready(sender, **kwargs):
        ready.append(sender)
        steps.append("ready")

    worker_process_ready.connect(on_ready)
    try:
        output = runworker_command("--layer", "other", "--threads", "2")
    finally:
        worker_process_ready.disconnect(on_ready)
    assert ran == [("other", "on other")]
    assert steps == ["ready", "frozen after 0 jobs"]
    assert len(ready) == 1 and isinstance(ready[0], BoundedWorker)
    assert ready[0].channel_layer.alias == "other" and ready[0].threads == 2
    assert "with 2 thread(s), on: http.request, test.job, test.skip, websocket.connect, " in output


def test_only_and_exclude_channels_choose_what_is_listened_on(layers):
    """--only-channels keeps the channels matching its globs, --exclude-channels drops
    those matching its own; messages elsewhere stay on the layer."""
    for name in ("test.job", "test.skip"):
        channel_layers["default"].send(name, {"name": name})
    output = runworker_command("--only-channels", "test.*", "--exclude-channels", "*.skip")
    assert output.rstrip().endswith("on: test.job")
    assert ran == [("default", "test.job")]
    assert channel_layers["default"].receive(["test.skip"]) == ("test.skip", {"name": "test.skip"})


def test_running_twice_in_one_process_adds_the_default_routes_once(layers):
    """The default routes go on the cached router once, however often the command runs."""
    runworker_command()
    routes = len(channel_layers["default"].router.root.routing)
    runworker_command()
    assert len(channel_layers["default"].router.root.routing) == routes == len(ROUTING) + 4


def test_fewer_than_one_thread_is_refused(layers):
    """--threads below 1 is a CommandError naming the value."""
    with pytest.raises(CommandError, match=r"--threads must be at least 1, got 0"):
        runworker_command("--threads", "0")


def test_no_channels_left_is_refused(layers):
    """Options that leave nothing to listen on are a CommandError listing what was routed
    and the options given."""
    with pytest.raises(
        CommandError,
        match=r"No channels to listen on: routed \['http.request', .*'test.job'.*\], "
        r"--only-channels \['nothing.\*'\], --exclude-channels None",
    ):
        runworker_command("--only-channels", "nothing.*")
