"""``manage.py runserver``: the whole stack in one process, for development.

The interface server (daphne, in this process) and N worker threads share one event loop
and, normally, the in-memory layer; Django's autoreloader restarts it all when code changes.
``--noworker`` leaves the consumers to ``runworker`` processes on a shared (Redis) layer;
``--noasgi`` runs Django's plain WSGI development server instead. A routing that fails to load
stops the server until a file it was loading from changes (``channels_classic.reloading``).
A system check error stops it before the autoreloader starts, with the check's message (in
the reloader's thread it would be a traceback, and the reloader would wait for a code change).
"""

from __future__ import annotations

import asyncio
import datetime
import os
import threading
from dataclasses import replace
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.management.base import CommandError
from django.utils import autoreload

from ... import logs
from ...defaults import InterfaceOptions
from ...interface import InterfaceApp
from ...layers.facade import ClassicLayer
from ...layers.registry import DEFAULT_CHANNEL_LAYER, channel_layers, get_channel_layer
from ...layers.sync import runner
from ...reloading import RoutingWatch
from ...staticfiles import view_consumer
from ...worker import Worker

if apps.is_installed("django.contrib.staticfiles"):
    from django.contrib.staticfiles.management.commands.runserver import (
        Command as BaseRunserver,
    )
else:
    from django.core.management.commands.runserver import Command as BaseRunserver

#: Worker threads runserver starts (1 with --nothreading).
RUNSERVER_THREADS = 4
#: runserver's HTTP timeout default (shorter than production's).
RUNSERVER_HTTP_TIMEOUT = 60
#: Seconds a WebSocket opening handshake may take (daphne's websocket_handshake_timeout).
RUNSERVER_WEBSOCKET_HANDSHAKE_TIMEOUT = 5
#: The console word for each WebSocket event daphne reports (1.x's runserver words).
WEBSOCKET_ACTIONS = {
    "connecting": "HANDSHAKING",
    "connected": "CONNECT",
    "rejected": "REJECT",
    "disconnected": "DISCONNECT",
}


class Command(BaseRunserver):
    help = (
        "Starts the development server: interface server and worker threads in one process "
        "(or plain WSGI with --noasgi)."
    )

    def add_arguments(self, parser: Any) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--noworker",
            action="store_false",
            dest="run_worker",
            help="run no worker threads (run `manage.py runworker` against a shared layer)",
        )
        parser.add_argument(
            "--noasgi",
            action="store_false",
            dest="use_asgi",
            help="run Django's WSGI development server instead of the interface server",
        )
        parser.add_argument(
            "--http_timeout",
            type=int,
            default=RUNSERVER_HTTP_TIMEOUT,
            help="seconds an HTTP request waits for a response to start (then 503)",
        )
        parser.add_argument(
            "--websocket_handshake_timeout",
            type=int,
            default=RUNSERVER_WEBSOCKET_HANDSHAKE_TIMEOUT,
            help="seconds a WebSocket handshake may take",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["use_asgi"] and not options["run_worker"] and self._asgi_layer_is_local():
            raise CommandError(
                f"--noworker with the channel layer {get_channel_layer()}: no other process "
                "can reach it, so no worker could answer. Leave out --noworker to run worker "
                "threads in this process, or configure CHANNEL_LAYERS['default'] with the Redis "
                "layer and run `manage.py runworker` beside runserver."
            )
        self.routing_watch = RoutingWatch()
        if options["use_reloader"]:
            self.routing_watch.connect()
        if options["use_reloader"] and os.environ.get(autoreload.DJANGO_AUTORELOAD_ENV) != "true":
            self.check()  # in the process that starts the reloader (its child checks again)
        super().handle(*args, **options)

    @staticmethod
    def _asgi_layer_is_local() -> bool:
        return DEFAULT_CHANNEL_LAYER in channel_layers and get_channel_layer().local_only()

    def inner_run(self, *args: Any, **options: Any) -> None:
        if not options["use_asgi"] or DEFAULT_CHANNEL_LAYER not in channel_layers:
            return super().inner_run(*args, **options)
        logs.configure(options["verbosity"])
        self.stdout.write("Performing system checks...\n\n")
        self.check(display_num_errors=True)
        self.check_migrations()
        layer = get_channel_layer()
        try:
            router = layer.router
        except Exception as error:
            self.routing_watch.watch_files_of(error)
            raise
        router.check_default(
            http_consumer=view_consumer(
                insecure=options.get("insecure_serving", False),
                static=options.get("use_static_handler", True),
            )
        )
        base_options = InterfaceOptions.from_settings()
        layer.interface = InterfaceApp(
            layer, replace(base_options, http_timeout=float(options["http_timeout"]))
        )
        worker = None
        if options["run_worker"]:
            threads = RUNSERVER_THREADS if options["use_threading"] else 1
            worker = Worker(layer, threads=threads, install_signals=False)
        self.stdout.write(
            f"{datetime.datetime.now():%B %d, %Y - %X}\n"
            f"Django version {self.get_version()}, using settings {settings.SETTINGS_MODULE!r}\n"
            f"Starting djchan development server at http://{self._display_addr()}:{self.port}/\n"
            f"Channel layer {layer}, "
            + (f"{worker.threads} worker thread(s)" if worker else "no workers")
            + "\nQuit the server with CONTROL-C.\n"
        )
        self._serve(layer, worker, options)

    def _display_addr(self) -> str:
        return f"[{self.addr}]" if self._raw_ipv6 else self.addr

    def _serve(self, layer: ClassicLayer, worker: Worker | None, options: dict[str, Any]) -> None:
        from daphne.endpoints import build_endpoint_description_strings
        from daphne.server import Server
        from twisted.internet import defer, reactor

        def start_worker() -> None:
            if worker is None:
                return
            loop = asyncio.get_event_loop()
            runner.bind(loop)
            task = loop.create_task(worker.serve())

            def stop_worker() -> Any:
                worker.stop()
                return defer.Deferred.fromFuture(task)

            reactor.addSystemEventTrigger("before", "shutdown", stop_worker)  # type: ignore[arg-type]

        try:
            Server(
                application=layer,
                endpoints=build_endpoint_description_strings(host=self.addr, port=self.port),
                signal_handlers=not options["use_reloader"],
                action_logger=self.log_action,
                http_timeout=None,
                root_path=getattr(settings, "FORCE_SCRIPT_NAME", "") or "",
                websocket_handshake_timeout=options["websocket_handshake_timeout"],
                ready_callable=start_worker,
            ).run()
        except KeyboardInterrupt:
            if options.get("shutdown_message"):
                self.stdout.write(options["shutdown_message"])

    def log_action(self, protocol: str, action: str, details: dict[str, Any]) -> None:
        """One console line per HTTP request and WebSocket event, on the command's stderr, in
        1.x's format."""
        stamp = datetime.datetime.now().strftime("%Y/%m/%d %H:%M:%S")
        client = details.get("client") or "-"
        if protocol == "http" and action == "complete":
            status = details["status"]
            line = (
                f"[{stamp}] HTTP {details['method']} {details['path']} {status} "
                f"[{details['time_taken']:.2f}, {client}]"
            )
            style = self._status_style(status)
        elif protocol == "websocket":
            word = WEBSOCKET_ACTIONS.get(action, action.upper())
            line = f"[{stamp}] WebSocket {word} {details['path']} [{client}]"
            style = self.style.HTTP_INFO if action != "rejected" else self.style.HTTP_BAD_REQUEST
        else:
            return
        self.stderr.write(line, style)

    def _status_style(self, status: int) -> Any:
        """The console colour of a response status."""
        if status < 300:
            return self.style.HTTP_SUCCESS
        if status < 400:
            return self.style.HTTP_REDIRECT
        if status == 404:
            return self.style.HTTP_NOT_FOUND
        if status < 500:
            return self.style.HTTP_BAD_REQUEST
        return self.style.HTTP_SERVER_ERROR


class WorkerThread(threading.Thread):
    """1.x's runserver worker: a Worker on ``channel_layer`` in a thread of its own, with no
    signal handlers (``run()`` returns when ``worker.stop()`` is called). runserver itself
    runs its workers on the interface server's event loop; this is for code that started
    worker threads of its own the 1.x way. ``logger`` is accepted for 1.x callers."""

    def __init__(self, channel_layer: ClassicLayer, logger: Any = None) -> None:
        super().__init__(name="channels-worker", daemon=True)
        self.channel_layer = channel_layer
        self.logger = logger
        self.worker = Worker(channel_layer, install_signals=False)

    def run(self) -> None:
        self.worker.run()
