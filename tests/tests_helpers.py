"""Helpers shared by test modules: a free loopback port, and a dump of the whole keyspace."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from typing import Any

import redis

from mockexchange_ccxt import Engine


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for(condition: Callable[[], object], timeout: float = 10.0) -> bool:
    """Poll ``condition`` until it holds or ``timeout`` seconds pass; whether it held (for an ``assert``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return bool(condition())


#: The counter at which concurrent test participants wait for each other.
GATE_KEY = "test:ready"


def outside_client(url: str) -> redis.Redis:
    """A plain redis-py client of the Valkey at ``url``, as a program outside the engine would open it: a
    cluster client when ``url`` is a node of a Valkey Cluster."""
    with redis.Redis.from_url(url) as probe:
        if probe.info("cluster").get("cluster_enabled") == 1:
            return redis.RedisCluster.from_url(url)  # type: ignore[return-value]
    return redis.Redis.from_url(url)


def wait_at_gate(url: str, participants: int) -> None:
    """Count this participant in and wait until all ``participants`` are, so that threads and slower-starting
    processes really run at the same time."""
    valkey = outside_client(url)
    valkey.incr(GATE_KEY)
    deadline = time.monotonic() + 60
    while int(valkey.get(GATE_KEY) or 0) < participants:
        if time.monotonic() > deadline:
            raise TimeoutError("the other participants never arrived")
        time.sleep(0.001)


def keyspace(engine: Engine) -> dict[str, tuple[str, Any]]:
    """Every key of the database with its type and full value, to prove that a refused call changed nothing."""
    store = engine.store
    snapshot: dict[str, tuple[str, Any]] = {}
    for name in sorted(store.scan_iter("*")):
        kind = store.read("TYPE", name)
        value: Any
        if kind == "string":
            value = store.read("GET", name)
        elif kind == "hash":
            value = store.read("HGETALL", name)
        elif kind == "zset":
            value = store.read("ZRANGE", name, 0, -1, "WITHSCORES")
        elif kind == "set":
            value = sorted(store.read("SMEMBERS", name))
        elif kind == "list":
            value = store.read("LRANGE", name, 0, -1)
        else:
            value = store.read("DUMP", name)
        snapshot[name] = (kind, value)
    return snapshot


def seed_markets(engine: Engine) -> None:
    """A flushed database with BTC/USDT at 50,000 and ETH/USDT at 2,500, a malformed feed hash (BAD/USDT) and a
    feed key of the wrong type (WT/USDT), and 100,000 USDT and 2 BTC funded: the ground of the generated tests,
    which then add the orders they aim at."""
    engine.store.call("FLUSHALL")
    engine.set_price("BTC/USDT", "50000")
    engine.set_price("ETH/USDT", "2500")
    engine.store.call("HSET", engine.keys.price("BAD/USDT"), "price", "abc", "timestamp", "1700000000")
    engine.store.call("SET", engine.keys.price("WT/USDT"), "8")
    engine.fund("USDT", "100000")
    engine.fund("BTC", "2")


class SeededAccount:
    """An account seeded by ``seed``, seeded again only after a call that may have changed it: a refused call
    is proven to change nothing, so the next generated example can start from the same snapshot."""

    def __init__(self, engine: Engine, seed: Callable[[Engine], None]) -> None:
        self.engine = engine
        self.seed = seed
        self.snapshot: dict[str, Any] | None = None

    def seeded(self) -> dict[str, Any]:
        """Seed if needed; the keyspace as it is now."""
        if self.snapshot is None:
            self.seed(self.engine)
            self.snapshot = keyspace(self.engine)
        return self.snapshot

    def touched(self) -> None:
        self.snapshot = None


def ccxt_pages(fetch: Callable[..., list[dict[str, Any]]], since: int, limit: int) -> list[str]:
    """The ids ccxt's paging loop collects: ``fetch(since=..., limit=...)`` again from the last timestamp + 1
    until a page comes back empty."""
    seen: list[str] = []
    while page := fetch(since=since, limit=limit):
        seen += [entry["id"] for entry in page]
        since = page[-1]["timestamp"] + 1
    return seen
