"""Running the consumer of one message, as a worker thread does.

The message is routed, the consumer signals fire around the call, and the 1.x exceptions
keep their meaning: ``DenyConnection`` on ``websocket.connect`` closes the socket (403),
a ``ChannelSocketException`` runs against the socket, ``ConsumeLater`` asks for a requeue.
Anything else a consumer raises is logged with its name and the channel, and that is all:
unlike 1.x, nothing a consumer does can end the worker. Failures that repeat (a
consumer that raises on every message, frames on a path no route takes) are logged in full
once, then counted (``failure_log``). ``SystemExit`` and
``KeyboardInterrupt`` are not caught here: they are how a consumer asks the process to end.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from django.dispatch import Signal

from .. import metrics
from ..exceptions import ChannelSocketException, ConsumeLater, DenyConnection
from ..failure_log import FailureLog
from ..message import Message
from ..routing import dotted_name
from ..signals import consumer_finished, consumer_started

logger = logging.getLogger(__name__)
failures = FailureLog(logger)

#: Called with (channel, message) before each consumer runs (runworker -v 2 logs with it).
Callback = Callable[[str, Message], None]


def run_consumer(message: Message, sender: type, callback: Callback | None = None) -> bool:
    """Runs the routed consumer of ``message``, with ``sender`` (the worker's class, as in 1.x)
    as the consumer signals' sender; True if it raised ConsumeLater (requeue it)."""
    channel = message.channel.name
    assert message.channel_layer is not None
    match = message.channel_layer.router.match(message)
    if match is None:
        keys = ", ".join(sorted(message.content))
        failures.failed(
            ("no route", channel, keys),
            None,
            "worker: no route matches a message on %s (keys: %s); check channel_routing",
            "worker: no route matched a message on %s (keys: %s)",
            channel,
            keys,
        )
        return False
    consumer, kwargs = match
    name = dotted_name(consumer)
    logger.debug("worker: dispatching %s to %s", channel, name)
    if callback is not None:
        callback(channel, message)
    _signal(consumer_started, sender, environ={})
    started = time.perf_counter()
    failed = False
    try:
        consumer(message, **kwargs)
    except DenyConnection:
        _deny(message, name)
    except ChannelSocketException as error:
        try:
            error.run(message)
        except Exception as failure:
            failures.failed(
                ("socket exception", name),
                failure,
                "worker: %s raised by %s could not act on its socket",
                "worker: %s raised by %s could not act on its socket",
                type(error).__name__,
                name,
            )
    except ConsumeLater:
        return True
    except Exception as error:
        failed = True
        failures.failed(
            ("consumer", name, channel),
            error,
            "worker: consumer %s failed on a message from %s",
            "worker: consumer %s on channel %s failed",
            name,
            channel,
        )
    finally:
        metrics.recorder.consumer_ran(name, time.perf_counter() - started, failed)
        _signal(consumer_finished, sender)
    return False


def _deny(message: Message, consumer: str) -> None:
    """DenyConnection: refuses the socket of a connect; anywhere else it is a mistake."""
    if message.channel.name == "websocket.connect" and message.reply_channel is not None:
        message.reply_channel.send({"close": True})
    else:
        failures.failed(
            ("deny", consumer, message.channel.name),
            None,
            "worker: %s raised DenyConnection on %s; it only refuses sockets from "
            "websocket.connect consumers",
            "worker: %s raised DenyConnection on %s",
            consumer,
            message.channel.name,
        )


def _signal(sent: Signal, sender: type, **kwargs: Any) -> None:
    """Sends a consumer signal; a receiver that raises is logged, never fatal."""
    for receiver, result in sent.send_robust(sender=sender, **kwargs):
        if isinstance(result, Exception):
            name = dotted_name(receiver)
            failures.failed(
                ("signal", sent, name),
                result,
                "worker: %s receiver %s failed",
                "worker: %s receiver %s failed",
                sent,
                name,
            )
