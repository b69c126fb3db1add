"""Where a Redis Cluster serves each of the layer's shards: the slot map.

Each shard of the layer is one hash slot of the cluster (its keys share a hash tag). The
node serving a slot is learnt from ``CLUSTER SLOTS``, asked of any node known (those the
``hosts`` entry names, then those the cluster named): Redis 6.2, the embedded server, has no
``CLUSTER SHARDS``, and every later version still answers ``CLUSTER SLOTS``. The map is asked
before every new connection (``ConnectionSettings.locate``), so a connection lost in a
failover reconnects to the replica that took over; it asks the cluster again at most every
REFRESH_AFTER seconds, and a ``MOVED`` reply updates it at once (``ConnectionSettings.
moved_to``).
"""

from __future__ import annotations

import dataclasses
import functools
import threading
import time
from collections.abc import Sequence
from typing import Any

from .blocking import BlockingConnection
from .connection_settings import ClusterHosts, ConnectionSettings
from .redis_py import CONNECTION_ERRORS

#: The slot map is asked of the cluster again, before a new connection, once it is this old
#: (seconds): a connection lost in a failover finds the new master within a try or two.
REFRESH_AFTER = 0.25

Address = tuple[str, int]


class SlotMap:
    """The node serving each of ``slots``, as the cluster said last. Thread-safe: blocking
    connections ask it from their threads, the event loop's from a worker thread."""

    def __init__(self, cluster: ClusterHosts, slots: Sequence[int]) -> None:
        self.cluster = cluster
        self._slots = tuple(slots)
        self._nodes: list[Address] = list(cluster.seeds)
        self._owners: dict[int, Address] = {}
        self._asked_at = -REFRESH_AFTER
        self._lock = threading.Lock()

    def owner(self, slot: int) -> Address:
        """The node serving ``slot`` now; ConnectionError if the cluster cannot say."""
        with self._lock:
            if time.monotonic() - self._asked_at >= REFRESH_AFTER or slot not in self._owners:
                self._refresh()
            owner = self._owners.get(slot)
        if owner is None:
            raise ConnectionError(
                f"no node of {self.cluster.label} serves hash slot {slot}: the cluster does "
                "not cover every slot (CLUSTER ADDSLOTS them, or wait for its failover)"
            )
        return owner

    def moved(self, slot: int, address: Address) -> None:
        """Redis said ``slot`` is served at ``address`` now (MOVED): trusted for a while."""
        with self._lock:
            self._owners[slot] = address
            self._asked_at = time.monotonic()
            if address not in self._nodes:
                self._nodes.append(address)

    def _refresh(self) -> None:
        failures: list[str] = []
        for node in list(self._nodes):
            connection = BlockingConnection(self.cluster.node.at(node))
            try:
                (reply,) = connection.call_many([("CLUSTER", "SLOTS")])
            except CONNECTION_ERRORS as error:
                # What the node said, not the advice around it (the caller gives that).
                failures.append(f"{node[0]}:{node[1]}: {error.__cause__ or error}")
                continue
            finally:
                connection.close()
            if isinstance(reply, Exception):
                failures.append(f"{node[0]}:{node[1]}: {reply}")
                continue
            ranges = [_slot_range(node, entry) for entry in reply]
            self._owners = {
                slot: owner
                for slot in self._slots
                for start, end, owner in ranges
                if start <= slot <= end
            }
            masters = [owner for _, _, owner in ranges]
            self._nodes = list(dict.fromkeys([node, *masters, *self._nodes]))
            self._asked_at = time.monotonic()
            return
        raise ConnectionError(
            f"no node of {self.cluster.label} answered CLUSTER SLOTS ({'; '.join(failures)})"
        )


def _slot_range(asked: Address, entry: list[Any]) -> tuple[int, int, Address]:
    """(first slot, last slot, master) of one CLUSTER SLOTS entry. A master whose address is
    empty is the node that was asked (Redis says so for itself when it knows no other)."""
    start, end, master = entry[0], entry[1], entry[2]
    host = master[0].decode() if isinstance(master[0], bytes) else str(master[0])
    return int(start), int(end), (host or asked[0], int(master[1]))


def shard_servers(cluster: ClusterHosts, slots: Sequence[int]) -> list[ConnectionSettings]:
    """One ConnectionSettings per shard: shard ``i`` is served where slot ``slots[i]`` is."""
    slot_map = SlotMap(cluster, slots)
    return [
        dataclasses.replace(
            cluster.node,
            label=f"{cluster.label} shard {index} (slot {slot})",
            locate=functools.partial(slot_map.owner, slot),
            moved_to=functools.partial(slot_map.moved, slot),
        )
        for index, slot in enumerate(slots)
    ]
