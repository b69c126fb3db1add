"""The small modules and classes kept for 1.x callers do what 1.x's did, or the nearest
thing: ``asgi``, ``log``, ``utils``, ``package_checks``, ``delay.worker``, ``WorkerGroup``,
runserver's ``WorkerThread``, ``test.http``, and 1.x's '?' channel names."""

from __future__ import annotations

import logging
import threading

import pytest

from channels_classic import asgi, log, package_checks, utils
from channels_classic.channel import Channel
from channels_classic.delay.server import DelayServer
from channels_classic.delay.worker import Worker as DelayWorker
from channels_classic.layers.facade import ClassicLayer
from channels_classic.management.commands.runserver import WorkerThread
from channels_classic.routing import route
from channels_classic.test.http import HttpClient
from channels_classic.worker import WorkerGroup
from tests.support.generic import make_layer

IN_MEMORY = "channels_classic.layers.inmemory.InMemoryChannelLayer"


def test_asgi_gives_the_wrapper_daphne_serves(settings):
    """get_channel_layer() returns the layer wrapper of the alias (the ASGI app and the 1.x
    layer API at once); the manager and the wrapper class are the project's own."""
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": IN_MEMORY, "ROUTING": []}}
    layer = asgi.get_channel_layer()
    assert isinstance(layer, asgi.ChannelLayerWrapper) and layer is asgi.channel_layers["default"]
    assert callable(layer) and layer.alias == "default"
    assert str(layer) == f"default ({IN_MEMORY})" and layer.local_only()
    wrapper = asgi.ChannelLayerWrapper(layer.channel_layer, "other", [])
    assert (wrapper.alias, wrapper.routing, wrapper.ChannelFull) == ("other", [], layer.ChannelFull)


def test_setup_logger_sends_the_logger_and_the_librarys_to_stderr():
    """setup_logger(name, verbosity) as 1.x's commands called it: INFO (DEBUG above 1) on its
    handler, not propagated; this library's own logger (channels_classic) comes along."""
    logger = log.setup_logger("django.channels", verbosity=2)
    try:
        assert logger.level == logging.DEBUG and log.handler in logger.handlers
        library = logging.getLogger("channels_classic")
        assert log.handler in library.handlers and not library.propagate
        assert log.setup_logger("django.channels").level == logging.INFO
        assert logger.handlers.count(log.handler) == 1
    finally:
        for name in ("django.channels", *log.COMPANION_LOGGERS):
            logging.getLogger(name).removeHandler(log.handler)
            logging.getLogger(name).propagate = True
            logging.getLogger(name).setLevel(logging.NOTSET)


def test_name_that_thing_names_functions_classes_methods_and_instances():
    assert utils.name_that_thing(route) == "channels_classic.routing.Route"
    assert utils.name_that_thing(Channel.send) == "channels_classic.channel.Channel.send"
    assert utils.name_that_thing(Channel("x")) == "channels_classic.channel.Channel"
    assert utils.name_that_thing(test_asgi_gives_the_wrapper_daphne_serves).startswith("tests.")


def test_package_checks_refuse_a_too_old_companion(monkeypatch):
    """check_all() passes with the installed packages; a version below required_versions
    is a RuntimeError starting as 1.x's did, with the pip command after it."""
    package_checks.check_all()
    monkeypatch.setitem(package_checks.required_versions, "daphne", "99.1")
    with pytest.raises(
        RuntimeError, match=r"^Your version of daphne is too old - it must be at least 99\.1 "
    ):
        package_checks.check_all()


def test_the_1x_delay_worker_is_the_delay_server_with_1x_arguments():
    worker = DelayWorker(make_layer(), signal_handlers=False, database_sleep_duration=2)
    assert isinstance(worker, DelayServer) and not worker.install_signals
    assert worker.database_sleep_duration == 2


def test_a_worker_group_runs_its_threads_with_1x_arguments():
    """WorkerGroup(layer, n_threads=N, signal_handlers=False) is a Worker with N threads that
    runs consumers at the same time."""
    started = threading.Barrier(3, timeout=10)

    def consumer(message):
        started.wait()

    layer = make_layer(route("test.work", consumer))
    for n in range(3):
        layer.send("test.work", {"n": n})
    group = WorkerGroup(layer, signal_handlers=False, n_threads=3, only_channels=["test.*"])
    assert (group.threads, group.install_signals) == (3, False)
    group.stop_when_idle = True
    group.run()
    assert group.handled == 3 and not started.broken


def test_runservers_1x_worker_thread_runs_a_worker_until_stopped():
    layer = make_layer(route("test.work", lambda message: message.reply_channel.send({"ok": 1})))
    thread = WorkerThread(layer)
    thread.start()
    layer.send("test.work", {"reply_channel": "test.reply"})
    assert layer.receive(["test.reply"], block=True) == ("test.reply", {"ok": 1})
    thread.worker.stop()
    thread.join(10)
    assert not thread.is_alive()


def test_httpclient_is_the_deprecated_wsclient():
    with pytest.warns(DeprecationWarning, match="HttpClient is deprecated: use"):
        client = HttpClient()
    assert client.reply_channel.startswith("default")


def test_single_reader_names_travel_under_valid_names(settings):
    """A 1.x '?' channel name works for sending, receiving and groups through the layer
    wrapper and Channel, which agree on the valid name it becomes."""
    layer: ClassicLayer = make_layer()
    layer.send("test.reply?abc", {"n": 1})
    assert layer.receive(["test.reply?abc"]) == ("test.reply__q__abc", {"n": 1})
    Channel("test.reply?abc", channel_layer=layer).send({"n": 2})
    assert layer.receive(["test.reply__q__abc"])[1] == {"n": 2}
    layer.group_add("room", "test.reply?abc")
    layer.send_group("room", {"n": 3})
    assert layer.receive(["test.reply?abc"])[1] == {"n": 3}
    layer.group_discard("room", "test.reply?abc")
    layer.send_group("room", {"n": 4})
    assert layer.receive(["test.reply?abc"]) == (None, None)
