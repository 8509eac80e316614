"""Processes that race the engine from outside the test process: plain functions (no fixtures) that child
processes import. Each opens its own Engine on the shared Valkey, waits at the gate until every participant is
ready, works until the stop key is set (or its count is done), and returns what it saw."""

from __future__ import annotations

import contextlib
import time
from decimal import Decimal
from typing import Any

import redis
from tests_helpers import outside_client, wait_at_gate

from mockexchange_ccxt import Engine, Settings
from mockexchange_ccxt.errors import InsufficientFunds

STOP_KEY = "test:stop"


def stopped(valkey: redis.Redis) -> bool:
    return bool(valkey.exists(STOP_KEY))


def place_buys(settings: Settings, symbol: str, limit: str, amount: str, count: int, participants: int) -> list[str]:
    """Place ``count`` limit buys at ``limit``, as fast as one connection allows; returns their ids."""
    ids: list[str] = []
    with Engine(settings) as engine:
        wait_at_gate(engine.store.url, participants)
        for _ in range(count):
            with contextlib.suppress(InsufficientFunds):
                ids.append(engine.create_order(symbol, "buy", "limit", amount, limit)["id"])
    return ids


def swing_and_watch(
    settings: Settings, symbol: str, high: str, low: str, limit: str, swings: int, participants: int
) -> list[str]:
    """Swing the price between ``high`` (buys at ``limit`` rest) and ``low`` (they cross) through ``set_price``,
    which settles at once. At the end of each low phase, note the open buys at ``limit``: they are crossed. A
    crossed order may be in flight (its booking script just ran and its own settlement is one round trip away),
    so the suspects are looked at again a moment later: one still open is an order booked crossed and left so.
    Returns those ids."""
    crossed: list[str] = []
    with Engine(settings) as engine:
        wait_at_gate(engine.store.url, participants)
        for _ in range(swings):
            engine.set_price(symbol, high)
            time.sleep(0.002)
            engine.set_price(symbol, low)
            time.sleep(0.005)
            suspects = [
                o["id"] for o in engine.fetch_orders(status="open", symbol=symbol) if o["price"] >= Decimal(limit)
            ]
            if suspects:
                time.sleep(0.05)
                crossed += [i for i in suspects if engine.fetch_order(i)["status"] == "open"]
    return crossed


def fill_and_refill(settings: Settings, symbol: str, participants: int) -> int:
    """Churn: place a resting buy and cancel it again, until the stop key is set; returns how many."""
    done = 0
    with Engine(settings) as engine:
        valkey = outside_client(engine.store.url)
        wait_at_gate(engine.store.url, participants)
        while not stopped(valkey):
            order = engine.create_order(symbol, "buy", "limit", "0.001", "1000")
            engine.cancel_order(order["id"])
            done += 1
    return done


def count_open_in_book(settings: Settings, symbol: str, participants: int) -> list[int]:
    """Read the size of the symbol's buy book (one command: an atomic snapshot) until the stop key is set;
    returns the distinct sizes seen."""
    seen: set[int] = set()
    with Engine(settings) as engine:
        valkey = outside_client(engine.store.url)
        book = engine.keys.book(symbol, "buy")
        wait_at_gate(engine.store.url, participants)
        while not stopped(valkey):
            seen.add(int(engine.store.read("ZCARD", book)))
    return sorted(seen)


def cross_now_and_then(settings: Settings, symbol: str, prices: list[str], participants: int) -> dict[str, Any]:
    """Write the given prices through ``set_price`` one after the other (each settles at once)."""
    filled = 0
    with Engine(settings) as engine:
        wait_at_gate(engine.store.url, participants)
        for price in prices:
            filled += engine.set_price(symbol, price)
    return {"filled": filled}


def cancel_these(settings: Settings, ids: list[str], participants: int) -> list[str]:
    """Cancel each id once; returns those the engine canceled (others had filled or fired first)."""
    from mockexchange_ccxt.errors import OrderNotOpen

    canceled: list[str] = []
    with Engine(settings) as engine:
        wait_at_gate(engine.store.url, participants)
        for order_id in ids:
            with contextlib.suppress(OrderNotOpen):
                canceled.append(engine.cancel_order(order_id)["id"])
    return canceled


def outside_feed_settler(settings: Settings, symbol: str, prices: list[str], participants: int) -> int:
    """An outside feed writing the hash straight into Valkey, each write settled by this process's own
    ``process_price_tick`` (a second settler racing the one that sets prices)."""
    filled = 0
    with Engine(settings) as engine:
        wait_at_gate(engine.store.url, participants)
        for price in prices:
            engine.store.call("HSET", engine.keys.price(symbol), "price", price, "timestamp", str(engine.now_ms()))
            filled += engine.process_price_tick(symbol)
    return filled
