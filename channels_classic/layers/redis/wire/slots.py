"""Redis Cluster's hash slots: which of the 16384 slots a key belongs to.

A key's slot is the CRC16 (XMODEM) of its name modulo 16384, or of its hash tag when it has
one: the text between the first '{' and the first '}' after it, if not empty. Keys with the
same tag share a slot, so one command or script may touch them together.
"""

from __future__ import annotations

#: Hash slots in a Redis Cluster.
SLOT_COUNT = 16384


def _table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
        table.append(crc & 0xFFFF)
    return tuple(table)


_CRC16 = _table()


def crc16(data: bytes) -> int:
    """CRC16-CCITT (XMODEM: polynomial 0x1021, initial value 0), the checksum Redis hashes with."""
    crc = 0
    for byte in data:
        crc = ((crc << 8) & 0xFFFF) ^ _CRC16[((crc >> 8) ^ byte) & 0xFF]
    return crc


def hash_slot(key: bytes) -> int:
    """The slot of ``key``, hash tag included."""
    start = key.find(b"{")
    if start >= 0:
        end = key.find(b"}", start + 1)
        if end > start + 1:
            key = key[start + 1 : end]
    return crc16(key) % SLOT_COUNT
