"""Valkey Cluster topology: which primary serves a command, found from any node's URL.

A cluster splits the keyspace into 16,384 hash slots, each served by one primary. The store asks any node for
the slot map (``CLUSTER SLOTS``), routes each command to the primary of its key's slot, and asks again when a
node answers ``MOVED`` (the slot moved, or a replica was promoted) or cannot be reached (a failover is under
way). Every script of the engine touches keys of one slot (one hash tag), so a script's first key decides.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from redis.crc import key_slot

SLOTS = 16384

#: Commands whose keys start after ``numkeys`` (EVAL family): KEYS come at index 3 when numkeys > 0.
_SCRIPT_COMMANDS = frozenset({"EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO", "FCALL", "FCALL_RO"})

#: Commands without a key: any primary may serve them (a broadcast command goes to every one, see store).
KEYLESS = frozenset(
    {"PING", "ECHO", "INFO", "TIME", "CLIENT", "CLUSTER", "SCAN", "KEYS", "DBSIZE", "FLUSHALL", "FLUSHDB"}
    | {"SCRIPT", "CONFIG", "DEBUG", "WAIT", "MEMORY", "COMMAND", "HELLO", "ASKING", "READONLY", "LASTSAVE"}
    | {"FUNCTION"}
)

#: Commands that act on a whole server and so go to every primary of a cluster.
BROADCAST = frozenset({"FLUSHALL", "FLUSHDB", "SCRIPT", "FUNCTION", "CONFIG", "KEYS"})


def command_name(command: Sequence[Any]) -> str:
    name = command[0]
    return (name.decode() if isinstance(name, bytes) else str(name)).upper()


def command_key(command: Sequence[Any]) -> str | bytes | None:
    """The key that decides where a command runs (None: it has none)."""
    name = command_name(command)
    if name in _SCRIPT_COMMANDS:
        return command[3] if len(command) > 3 and int(command[2]) > 0 else None
    if name in KEYLESS or len(command) < 2:
        return None
    key = command[1]
    return key if isinstance(key, str | bytes) else str(key)


def slot_of(key: str | bytes) -> int:
    return int(key_slot(key.encode() if isinstance(key, str) else key))


@dataclass(frozen=True)
class SlotMap:
    """The cluster's layout: the primary (``host:port``) of every slot, and every node known."""

    owners: tuple[str, ...]
    primaries: tuple[str, ...]
    replicas: tuple[str, ...]

    @classmethod
    def parse(cls, reply: list[Any], default_host: str) -> SlotMap:
        """From ``CLUSTER SLOTS``: ``[[start, end, [host, port, id], replica..., ], ...]``."""
        owners = [""] * SLOTS
        primaries: list[str] = []
        replicas: list[str] = []
        for entry in reply:
            start, end, primary, *others = entry
            address = _address(primary, default_host)
            owners[int(start) : int(end) + 1] = [address] * (int(end) - int(start) + 1)
            if address not in primaries:
                primaries.append(address)
            replicas += [_address(node, default_host) for node in others]
        return cls(tuple(owners), tuple(primaries), tuple(dict.fromkeys(replicas)))

    def owner(self, key: str | bytes | None) -> str:
        """The primary serving ``key`` (a keyless command goes to the first primary)."""
        if key is None:
            return self.primaries[0]
        return self.owners[slot_of(key)] or self.primaries[0]

    @property
    def complete(self) -> bool:
        """True when every slot has a primary (a cluster being formed or failing over may have holes)."""
        return all(self.owners)


def _address(node: list[Any], default_host: str) -> str:
    host = node[0]
    host = host.decode() if isinstance(host, bytes) else str(host)
    return f"{host or default_host}:{int(node[1])}"


def cluster_enabled(info: str) -> bool:
    """Whether ``INFO cluster`` says the server runs in cluster mode."""
    return any(line.strip() == "cluster_enabled:1" for line in info.splitlines())
