"""How a message is stored in Redis, byte for byte as channels_redis 4 stores it.

A stored message is 12 random bytes (sorted-set members must be unique, and two equal
messages must not collapse into one) followed by the msgpack encoding of the message dict,
Fernet-encrypted when ``symmetric_encryption_keys`` are set.
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
#: Encrypted messages are accepted this many seconds past the layer's expiry (clock skew).
DECRYPT_TTL_MARGIN = 10


class UndecodableMessage(ValueError):
    """A stored message could not be decrypted or unpacked."""


class MessageCodec:
    """Encodes message dicts into sorted-set members and back."""

    def __init__(self, expiry: float, symmetric_encryption_keys: Sequence[str | bytes] | None):
        self._decrypt_ttl = math.ceil(expiry) + DECRYPT_TTL_MARGIN
        self._crypter = (
            _make_crypter(symmetric_encryption_keys) if symmetric_encryption_keys else None
        )

    def encode(self, message: dict[str, Any]) -> bytes:
        """Returns the stored form of ``message``; TypeError if it holds unsupported types."""
        body: bytes = msgpack.packb(message)
        if self._crypter is not None:
            body = self._crypter.encrypt(body)
        return random.getrandbits(8 * UNIQUE_PREFIX_LENGTH).to_bytes(UNIQUE_PREFIX_LENGTH) + body

    def decode(self, member: bytes) -> dict[str, Any]:
        """Returns the message dict stored as ``member``; UndecodableMessage if it is not one."""
        body = member[UNIQUE_PREFIX_LENGTH:]
        try:
            if self._crypter is not None:
                body = self._crypter.decrypt(body, self._decrypt_ttl)
            message = msgpack.unpackb(body)
        except Exception as error:
            raise UndecodableMessage(f"{type(error).__name__}: {error}") from error
        if not isinstance(message, dict):
            raise UndecodableMessage(f"expected a dict, got {type(message).__name__}")
        return message


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
