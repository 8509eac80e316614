"""The participants of the shared-book test (FILL_MODEL=book): bots that take a thin book over HTTP and in process,
on two accounts, and a feed that writes its snapshots. Plain functions that run in spawned processes.

Every snapshot has prices of its own (its number is in the last decimals), so a taker's trade says which snapshot
and level it took from; and snapshots are timed after the bots' own clock, so a resting order's trade (timed at
the snapshot that filled it) says which snapshot it took from too.
"""

from __future__ import annotations

import random
import time
from decimal import Decimal
from typing import Any

import ccxt
from tests_helpers import wait_at_gate

from mockexchange_ccxt import Engine, MockExchange, Settings
from mockexchange_ccxt.errors import InsufficientFunds

SYMBOL = "THN/USDT"
#: Snapshots are timed from here on, one second apart: later than any order the bots place.
FIRST_SNAPSHOT = 4_000_000_000_000
SNAPSHOTS = 80
LEVELS = 4


def snapshot(number: int) -> dict[str, Any]:
    """The book of snapshot ``number``: thin levels around 100, prices marked with the snapshot's number."""
    rng = random.Random(number)
    mark = Decimal(number) / 10**7
    bids = [
        [str(Decimal("99.5") - j / Decimal(2) + mark), str(Decimal(rng.randint(1, 20)) / 100)] for j in range(LEVELS)
    ]
    asks = [
        [str(Decimal("100.5") + j / Decimal(2) + mark), str(Decimal(rng.randint(1, 20)) / 100)] for j in range(LEVELS)
    ]
    return {"timestamp": FIRST_SNAPSHOT + number * 1000, "bids": bids, "asks": asks, "price": str(Decimal(100) + mark)}


def write_snapshots(settings: Settings, participants: int, pause: float = 0.02) -> int:
    """Write every snapshot through the engine (each settles at once)."""
    with Engine(settings) as engine:
        wait_at_gate(engine.store.url, participants)
        for number in range(1, SNAPSHOTS + 1):
            book = snapshot(number)
            engine.set_price(
                SYMBOL,
                book["price"],
                timestamp=book["timestamp"],
                bid=book["bids"][0][0],
                ask=book["asks"][0][0],
                bids=book["bids"],
                asks=book["asks"],
            )
            time.sleep(pause)
    return SNAPSHOTS


def _order(rng: random.Random) -> tuple[str, str, Decimal, Decimal | None]:
    side = rng.choice(("buy", "sell"))
    amount = Decimal(rng.randint(1, 40)) / 100
    if rng.random() < 0.6:
        return side, "market", amount, None
    return side, "limit", amount, Decimal(rng.randint(980, 1020)) / 10


def engine_bot(settings: Settings, account: str, seed: int, operations: int, participants: int) -> int:
    """Market and limit orders of one account, in process; returns how many were accepted."""
    rng = random.Random(seed)
    placed = 0
    with Engine(settings) as root:
        engine = root.for_account(account)
        wait_at_gate(root.store.url, participants)
        for _ in range(operations):
            side, kind, amount, price = _order(rng)
            try:
                engine.create_order(SYMBOL, side, kind, amount, price)
                placed += 1
            except InsufficientFunds:
                pass
    return placed


def http_bot(url: str, key: str, redis_url: str, seed: int, operations: int, participants: int) -> int:
    """The same over HTTP through the ccxt class (the server's two workers), as the account of ``key``."""
    rng = random.Random(seed)
    exchange = MockExchange({"apiKey": key, "options": {"serverUrl": url}})
    exchange.load_markets()
    wait_at_gate(redis_url, participants)
    placed = 0
    for _ in range(operations):
        side, kind, amount, price = _order(rng)
        try:
            exchange.create_order(SYMBOL, kind, side, float(amount), None if price is None else float(price))
            placed += 1
        except ccxt.InsufficientFunds:
            pass
    return placed
