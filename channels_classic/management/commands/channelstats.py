"""``manage.py channelstats``: each channel's backlog and traffic, refreshed like ``top``."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from ...channelstats import watch
from ...layers.registry import DEFAULT_CHANNEL_LAYER
from ...layers.sync import runner
from ..layers import shared_layer

#: Clears a terminal and puts the cursor at its top.
CLEAR_SCREEN = "\x1b[H\x1b[2J"


class Command(BaseCommand):
    help = (
        "Shows how many messages wait on each routed channel and how fast it changes; with "
        "--metrics, how many the workers take and finish per second. Refreshes until Ctrl-C."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--layer", default=DEFAULT_CHANNEL_LAYER, help="layer alias")
        parser.add_argument(
            "--metrics",
            action="append",
            default=[],
            metavar="URL",
            help="a metrics endpoint to read rates from, e.g. http://127.0.0.1:9101/metrics "
            "(repeat for each worker and interface server)",
        )
        parser.add_argument(
            "--channel",
            action="append",
            metavar="NAME",
            help="show this channel (repeatable; default: every routed channel)",
        )
        parser.add_argument("--interval", type=float, default=2.0, help="seconds per refresh")
        parser.add_argument(
            "--count",
            type=int,
            metavar="N",
            help="refresh N times, then exit (default: until Ctrl-C)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["interval"] <= 0:
            raise CommandError(f"--interval must be positive, got {options['interval']}")
        layer = shared_layer(options["layer"], "channelstats")
        counter = layer.capabilities.waiting
        if counter is None:
            raise CommandError(
                f"The layer {layer} cannot count the messages waiting on its channels; "
                "channelstats needs the project's Redis layer"
            )
        channels = options["channel"] or sorted(
            name for name in layer.router.channels if "!" not in name
        )
        clear = CLEAR_SCREEN if sys.stdout.isatty() and options["count"] != 1 else ""

        def show(lines: list[str]) -> None:
            self.stdout.write(clear + "\n".join(lines))

        try:
            watch(
                lambda: runner.run(counter.count_waiting, channels),
                options["metrics"],
                interval=options["interval"],
                refreshes=options["count"],
                show=show,
            )
        except KeyboardInterrupt:
            pass
