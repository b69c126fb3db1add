"""Running the consumer of one message, as a worker thread does (SPEC W5–W8, E1–E10, SG1).

The message is routed, the consumer signals fire around the call, and the 1.x exceptions
keep their meaning: ``DenyConnection`` on ``websocket.connect`` closes the socket (403),
a ``ChannelSocketException`` runs against the socket, ``ConsumeLater`` asks for a requeue.
Anything else a consumer raises is logged with its name and the channel, and that is all:
unlike 1.x, nothing a consumer does can end the worker (Q1–Q3). ``SystemExit`` and
``KeyboardInterrupt`` are not caught here: they are how a consumer asks the process to end.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.dispatch import Signal

from .exceptions import ChannelSocketException, ConsumeLater, DenyConnection
from .message import Message
from .routing import dotted_name
from .signals import consumer_finished, consumer_started

logger = logging.getLogger(__name__)

#: Called with (channel, message) before each consumer runs (runworker -v 2 logs with it).
Callback = Callable[[str, Message], None]


def run_consumer(message: Message, sender: type, callback: Callback | None = None) -> bool:
    """Runs the routed consumer of ``message``, with ``sender`` (the worker's class, as in 1.x)
    as the consumer signals' sender; True if it raised ConsumeLater (requeue it)."""
    channel = message.channel.name
    assert message.channel_layer is not None
    match = message.channel_layer.router.match(message)
    if match is None:
        logger.error(
            "worker: no route matches a message on %s (keys: %s); check channel_routing",
            channel,
            ", ".join(sorted(message.content)),
        )
        return False
    consumer, kwargs = match
    name = dotted_name(consumer)
    logger.debug("worker: dispatching %s to %s", channel, name)
    if callback is not None:
        callback(channel, message)
    _signal(consumer_started, sender, environ={})
    try:
        consumer(message, **kwargs)
    except DenyConnection:
        _deny(message, name)
    except ChannelSocketException as error:
        try:
            error.run(message)
        except Exception:
            logger.exception(
                "worker: %s raised by %s could not act on its socket", type(error).__name__, name
            )
    except ConsumeLater:
        return True
    except Exception:
        logger.exception("worker: consumer %s failed on a message from %s", name, channel)
    finally:
        _signal(consumer_finished, sender)
    return False


def _deny(message: Message, consumer: str) -> None:
    """DenyConnection: refuses the socket of a connect; anywhere else it is a mistake."""
    if message.channel.name == "websocket.connect" and message.reply_channel is not None:
        message.reply_channel.send({"close": True})
    else:
        logger.error(
            "worker: %s raised DenyConnection on %s; it only refuses sockets from "
            "websocket.connect consumers",
            consumer,
            message.channel.name,
        )


def _signal(sent: Signal, sender: type, **kwargs: Any) -> None:
    """Sends a consumer signal; a receiver that raises is logged, never fatal."""
    for receiver, result in sent.send_robust(sender=sender, **kwargs):
        if isinstance(result, Exception):
            logger.error(
                "worker: %s receiver %s failed", sent, dotted_name(receiver), exc_info=result
            )
