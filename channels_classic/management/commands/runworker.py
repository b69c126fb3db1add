"""``manage.py runworker``: run consumers for the messages on a channel layer."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from ... import logs, metrics
from ...heap import freeze_startup_heap
from ...layers.registry import DEFAULT_CHANNEL_LAYER
from ...message import Message
from ...signals import worker_process_ready
from ...staticfiles import view_consumer
from ...worker import Worker
from ..layers import shared_layer


class Command(BaseCommand):
    help = "Runs a worker: consumers for the messages of the channel layer's routed channels."
    worker_class = Worker

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--layer", default=DEFAULT_CHANNEL_LAYER, help="layer alias")
        parser.add_argument(
            "--only-channels", action="append", metavar="GLOB", help="listen only on these"
        )
        parser.add_argument(
            "--exclude-channels", action="append", metavar="GLOB", help="never listen on these"
        )
        parser.add_argument(
            "--threads",
            type=int,
            default=getattr(settings, "CHANNELS_WORKER_THREADS", 1),
            help="consumers run at once (default: settings.CHANNELS_WORKER_THREADS or 1)",
        )
        parser.add_argument(
            "--metrics-port",
            type=int,
            metavar="PORT",
            help="serve Prometheus metrics on this port (docs/metrics.md)",
        )
        parser.add_argument(
            "--metrics-address",
            default=metrics.DEFAULT_ADDRESS,
            metavar="ADDRESS",
            help=f"the address to serve metrics on (default {metrics.DEFAULT_ADDRESS})",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        verbosity = options["verbosity"]
        if options["threads"] < 1:
            raise CommandError(f"--threads must be at least 1, got {options['threads']}")
        layer = shared_layer(options["layer"], "a worker")
        layer.router.check_default(http_consumer=view_consumer())
        worker = self.worker_class(
            layer,
            threads=options["threads"],
            only_channels=options["only_channels"],
            exclude_channels=options["exclude_channels"],
            callback=self._log_dispatch if verbosity > 1 else None,
        )
        channels = worker.channel_names()
        if not channels:
            raise CommandError(
                f"No channels to listen on: routed {sorted(layer.router.channels)}, "
                f"--only-channels {options['only_channels']}, --exclude-channels "
                f"{options['exclude_channels']}. Check channel_routing and these options."
            )
        # Only now: a refused command leaves the process's logging as it was.
        logs.configure(verbosity)
        if options["metrics_port"] is not None:
            try:
                metrics.enable(options["metrics_port"], options["metrics_address"])
            except (metrics.MetricsUnavailable, OSError) as error:
                raise CommandError(str(error)) from error
        self.stderr.write(
            f"Running worker against channel layer {layer} with {options['threads']} "
            f"thread(s), on: {', '.join(channels)}"
        )
        worker_process_ready.send(sender=worker)
        freeze_startup_heap()
        try:
            worker.run()
        finally:
            metrics.process_exited()

    def _log_dispatch(self, channel: str, message: Message) -> None:
        reply = message.reply_channel.name if message.reply_channel else "-"
        self.stderr.write(f"{channel} (reply {reply})")
