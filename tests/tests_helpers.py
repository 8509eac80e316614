"""Helpers shared by test modules."""

from __future__ import annotations

from typing import Any

from mockexchange_ccxt import Engine


def keyspace(engine: Engine) -> dict[str, Any]:
    """Every key with its type and full value, to prove that a refused call changed nothing."""
    store = engine.store
    dump: dict[str, Any] = {}
    for key in store.read("KEYS", "*"):
        kind = store.read("TYPE", key)
        if kind == "hash":
            dump[key] = store.read("HGETALL", key)
        elif kind == "zset":
            dump[key] = store.read("ZRANGE", key, 0, -1, "WITHSCORES")
        elif kind == "set":
            dump[key] = sorted(store.read("SMEMBERS", key))
        else:
            dump[key] = store.read("DUMP", key) if kind != "string" else store.read("GET", key)
    return dump
