"""What a live-server process runs: ``python -m channels_classic.test.serve daphne|worker
<run directory>`` (started by ``ChannelLiveServerTestCase``, see ``process``).

The process is configured with the settings the test process saw, every one of them (its
test databases, the layers' TEST_CONFIG as their CONFIG, its overrides), through
``settings.configure()``: it serves what the test expects, whatever its environment says. A
setting whose value refers to code that needs the app registry (a routing list of consumers
that import models) is set once Django is set up.
"""

from __future__ import annotations

import pickle
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .. import logs
from .process import DAPHNE, READY_POLL, WORKER, LiveServerState, RunDirectory

#: The verbosity of the processes' logs (info: lifecycle, warnings, errors).
LOG_VERBOSITY = 1


def configure(settings_values: dict[str, bytes]) -> None:
    """Configures Django with the pickled settings, then sets it up."""
    import django
    from django.conf import settings
    from django.core.exceptions import AppRegistryNotReady

    values, needs_apps = {}, {}
    for name, data in settings_values.items():
        try:
            values[name] = pickle.loads(data)
        except AppRegistryNotReady:
            needs_apps[name] = data
    settings.configure(**values)
    django.setup()
    for name, data in needs_apps.items():
        setattr(settings, name, pickle.loads(data))


def serve_daphne(run_directory: RunDirectory, state: LiveServerState) -> None:
    """Serves the layer's interface app with daphne on a free port of ``state.host`` and
    reports the port; returns when SIGTERM or SIGINT stopped it."""
    # daphne.server installs Twisted's asyncio reactor: it must come before the reactor.
    from daphne.endpoints import build_endpoint_description_strings
    from daphne.server import Server
    from django.conf import settings
    from twisted.internet import reactor as twisted_reactor

    from ..layers.registry import get_channel_layer

    reactor: Any = twisted_reactor  # zope interfaces confuse mypy

    def report_port() -> None:
        if server.listening_addresses:
            run_directory.mark_ready(DAPHNE, str(server.listening_addresses[0][1]))
        else:
            reactor.callLater(READY_POLL, report_port)

    server = Server(
        application=get_channel_layer(state.alias),
        endpoints=build_endpoint_description_strings(host=state.host, port=0),
        signal_handlers=True,
        root_path=getattr(settings, "FORCE_SCRIPT_NAME", None) or "",
        ready_callable=report_port,
    )
    server.run()


def run_worker(run_directory: RunDirectory, state: LiveServerState) -> None:
    """Runs a worker on the layer's routes plus the default ones, Django's views (and static
    files with ``state.serve_static``) for HTTP; returns when SIGTERM or SIGINT stopped it."""
    from ..layers.registry import get_channel_layer
    from ..signals import worker_ready
    from ..staticfiles import view_consumer
    from ..worker import Worker

    layer = get_channel_layer(state.alias)
    # insecure: static files are served whatever DEBUG is, as 1.x's live server did.
    layer.router.check_default(
        http_consumer=view_consumer(insecure=True, static=state.serve_static)
    )
    worker = Worker(layer, threads=state.worker_threads)

    def report_ready(sender: object, **kwargs: object) -> None:
        if sender is worker:
            run_directory.mark_ready(WORKER, "listening")

    worker_ready.connect(report_ready, weak=False)
    worker.run()


def main(argv: Sequence[str]) -> None:
    if len(argv) != 2 or argv[0] not in (DAPHNE, WORKER):
        raise SystemExit(
            f"usage: python -m channels_classic.test.serve {DAPHNE}|{WORKER} <run directory> "
            f"(got {list(argv)}); ChannelLiveServerTestCase starts these processes"
        )
    role, path = argv
    run_directory = RunDirectory(Path(path))
    state = run_directory.read_state()
    configure(state.settings)
    logs.configure(LOG_VERBOSITY)
    if role == DAPHNE:
        serve_daphne(run_directory, state)
    else:
        run_worker(run_directory, state)


if __name__ == "__main__":
    main(sys.argv[1:])
