"""``manage.py rundelay``: send the messages of ``asgi.delay`` when they are due."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import connections, router

from .... import logs
from ....heap import freeze_startup_heap
from ....layers.registry import DEFAULT_CHANNEL_LAYER
from ....management.layers import shared_layer
from ...models import DelayedMessage
from ...protocol import DELAY_CHANNEL
from ...server import DelayServer


class Command(BaseCommand):
    help = f"Runs the delay server: messages sent to {DELAY_CHANNEL} go out when they are due."
    server_class = DelayServer

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--layer", default=DEFAULT_CHANNEL_LAYER, help="layer alias")
        parser.add_argument(
            "--sleep",
            type=float,
            help="ignored, kept for 1.x command lines: messages go out when due, without polling",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["sleep"] is not None:
            self.stderr.write(
                f"--sleep {options['sleep']} is ignored: the delay server sends each message "
                "when it is due, without polling; drop the option."
            )
        layer = shared_layer(options["layer"], "the delay server")
        database = router.db_for_write(DelayedMessage)
        table = DelayedMessage._meta.db_table
        if table not in connections[database].introspection.table_names():
            raise CommandError(
                f"The table {table!r} is missing from the database {database!r}: run "
                f"'manage.py migrate {DelayedMessage._meta.app_label}'."
            )
        # Only now: a refused command leaves the process's logging as it was.
        logs.configure(options["verbosity"])
        server = self.server_class(layer)
        self.stderr.write(f"Running delay server against channel layer {layer}")
        freeze_startup_heap()
        server.run()
