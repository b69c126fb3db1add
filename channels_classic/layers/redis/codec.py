"""How a message is stored in Redis, byte for byte as channels_redis 4 stores it.

A stored message is 12 random bytes (sorted-set members must be unique, and two equal
messages must not collapse into one) followed by the msgpack encoding of the message dict,
Fernet-encrypted when ``symmetric_encryption_keys`` are set. A message sent to a process
channel, or through a group, names its channel(s) under ``RESERVED_KEY``.
"""

from __future__ import annotations

import base64
import hashlib
import math
import random
from collections.abc import Sequence
from typing import Any

import msgpack

UNIQUE_PREFIX_LENGTH = 12
#: The key of a stored message that names the channel(s) it is for (channels_redis's).
RESERVED_KEY = "__asgi_channel__"
#: Encrypted messages are accepted this many seconds past the layer's expiry (clock skew).
DECRYPT_TTL_MARGIN = 10
#: How a Fernet token begins: its version byte, then the zeros of a timestamp below 2**36 s.
FERNET_TOKEN_START = b"gAAAAA"
#: What a message that is not a layer's says about its sender.
NOT_FROM_A_LAYER = (
    "something other than a channel layer (channels_redis or djchan) wrote to this key"
)


class UndecodableMessage(ValueError):
    """A stored message could not be decrypted or unpacked; the text says what it is."""


class MessageCodec:
    """Encodes message dicts into sorted-set members and back."""

    def __init__(self, expiry: float, symmetric_encryption_keys: Sequence[str | bytes] | None):
        self._decrypt_ttl = math.ceil(expiry) + DECRYPT_TTL_MARGIN
        self._crypter = (
            _make_crypter(symmetric_encryption_keys) if symmetric_encryption_keys else None
        )

    def encode_for(self, channel: str, message: Any, extra: dict[str, Any] | None = None) -> bytes:
        """The stored form of ``message`` (plus ``extra`` keys) for ``channel``; TypeError or
        ValueError, saying what to change, if it cannot be sent."""
        check_message(channel, message)
        try:
            return self.encode({**message, **extra} if extra else message)
        except (TypeError, ValueError, OverflowError) as error:
            raise TypeError(
                f"Message for {channel!r} cannot be encoded ({error}): messages may hold only "
                "str, bytes, int, float, bool, None, and lists and dicts of those"
            ) from error

    def encode(self, message: dict[str, Any]) -> bytes:
        """Returns the stored form of ``message``; TypeError if it holds unsupported types."""
        body: bytes = msgpack.packb(message)
        if self._crypter is not None:
            body = self._crypter.encrypt(body)
        return random.getrandbits(8 * UNIQUE_PREFIX_LENGTH).to_bytes(UNIQUE_PREFIX_LENGTH) + body

    def decode(self, member: bytes) -> dict[str, Any]:
        """Returns the message dict stored as ``member``; UndecodableMessage saying what it is
        instead if it is not one (the hint about keys only where keys can be the cause)."""
        body = member[UNIQUE_PREFIX_LENGTH:]
        if self._crypter is not None:
            try:
                body = self._crypter.decrypt(body, self._decrypt_ttl)
            except Exception as error:
                raise UndecodableMessage(
                    f"it could not be decrypted ({type(error).__name__}): it was sent with "
                    "other symmetric_encryption_keys, without encryption, or more than "
                    f"{self._decrypt_ttl} s ago. Give every process the same keys"
                ) from error
        elif body.startswith(FERNET_TOKEN_START):
            raise UndecodableMessage(
                "it is encrypted, and this layer has no symmetric_encryption_keys: give every "
                "process the same keys"
            )
        try:
            message = msgpack.unpackb(body)
        except Exception as error:
            raise UndecodableMessage(
                f"it is not msgpack ({type(error).__name__}: {error}); {NOT_FROM_A_LAYER}"
            ) from error
        if not isinstance(message, dict):
            raise UndecodableMessage(
                f"it is msgpack of a {type(message).__name__}, not of a message dict; "
                f"{NOT_FROM_A_LAYER}"
            )
        return message


def check_message(channel: str, message: Any) -> None:
    """Raises TypeError/ValueError, saying what to change, unless ``message`` can be sent."""
    if not isinstance(message, dict):
        raise TypeError(f"Message for {channel!r} must be a dict, got {type(message).__name__}")
    if RESERVED_KEY in message:
        raise ValueError(
            f"Message for {channel!r} contains the reserved key "
            f"{RESERVED_KEY!r}: the layer uses it for routing; rename that key"
        )


def _make_crypter(keys: Sequence[str | bytes]) -> Any:
    if isinstance(keys, (str, bytes)):
        raise ValueError(
            "symmetric_encryption_keys must be a list of keys (the first encrypts, all "
            "decrypt), got a single key: wrap it in a list"
        )
    try:
        from cryptography.fernet import Fernet, MultiFernet
    except ImportError as error:
        raise ValueError(
            "symmetric_encryption_keys needs the 'cryptography' package: pip install cryptography"
        ) from error
    fernets = []
    for key in keys:
        raw = key.encode("utf8") if isinstance(key, str) else key
        fernets.append(Fernet(base64.urlsafe_b64encode(hashlib.sha256(raw).digest())))
    return MultiFernet(fernets)
