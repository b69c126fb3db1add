"""The delay server: messages sent to ``asgi.delay`` reach their destination
channel once their delay has passed.

Add ``"channels_classic.delay"`` to ``INSTALLED_APPS``, run ``manage.py migrate`` and
``manage.py rundelay`` (several may share the database: each message is sent once). Then
send ``{"channel": <destination>, "content": <message dict>, "delay": <milliseconds>}`` to
``asgi.delay``, or call ``send_delayed``.

Importing this package needs no configured settings (the model lives in ``.models``).
"""

from .protocol import DELAY_CHANNEL, DelayRequest, InvalidDelayRequest, delay_request, send_delayed

#: 1.x's pointer to the app config (Django 5 finds it without one; kept for code that reads it).
default_app_config = "channels_classic.delay.apps.DelayConfig"

__all__ = [
    "DELAY_CHANNEL",
    "DelayRequest",
    "InvalidDelayRequest",
    "default_app_config",
    "delay_request",
    "send_delayed",
]
