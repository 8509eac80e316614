"""Helpers shared by the engine tests: keyspace snapshots, exact expected balances, invariant checks.

Plain functions (no fixtures) so that child processes of the concurrency tests can import them too.
"""

from __future__ import annotations

import random
import socket
import time
from collections import defaultdict
from decimal import ROUND_CEILING, Decimal
from typing import Any

from mockexchange_ccxt import Engine, Settings
from mockexchange_ccxt.errors import InsufficientFunds, OrderNotOpen

UNIT = Decimal("0.00000001")
ZERO = Decimal(0)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def ceil_unit(value: Decimal) -> Decimal:
    """Round up to a whole 1e-8 (what a buyer pays, and every fee)."""
    return value.quantize(UNIT, rounding=ROUND_CEILING)


def fee_of(cost: Decimal, rate: Decimal) -> Decimal:
    return ceil_unit(cost * rate)


def dump_keyspace(engine: Engine) -> dict[str, tuple[str, Any]]:
    """Every key of the database with its type and full value, to prove that a call changed nothing."""
    store = engine.store
    snapshot: dict[str, tuple[str, Any]] = {}
    cursor = "0"
    while True:
        cursor, names = store.read("SCAN", cursor, "COUNT", 1000)
        for name in names:
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
        if cursor == "0":
            return snapshot


def reservation(order: dict[str, Any]) -> tuple[str, Decimal]:
    """What an open order holds, from its public fields: a buy its cost at the limit price rounded up plus
    the fee at its (maker) rate in the quote asset; a sell its amount of the base asset."""
    base, quote = order["symbol"].split("/")
    if order["side"] == "buy":
        cost = ceil_unit(order["amount"] * order["price"])
        return quote, cost + fee_of(cost, order["fee"]["rate"])
    return base, order["amount"]


def open_reservations(engine: Engine) -> dict[str, Decimal]:
    held: dict[str, Decimal] = defaultdict(Decimal)
    for order in engine.fetch_orders(status="open"):
        asset, amount = reservation(order)
        held[asset] += amount
    return dict(held)


def expected_totals(engine: Engine, funded: dict[str, Decimal]) -> dict[str, Decimal]:
    """Funding plus the signed effect of every fill: a buy adds its amount of base and takes cost + fee of
    quote, a sell takes its amount of base and adds cost - fee of quote."""
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for asset, amount in funded.items():
        totals[asset] += amount
    for trade in engine.fetch_my_trades():
        base, quote = trade["symbol"].split("/")
        cost, fee = trade["cost"], trade["fee"]["cost"]
        assert trade["fee"]["currency"] == quote
        if trade["side"] == "buy":
            totals[base] += trade["amount"]
            totals[quote] -= cost + fee
        else:
            totals[base] -= trade["amount"]
            totals[quote] += cost - fee
    return dict(totals)


def check_books(engine: Engine, funded: dict[str, Decimal]) -> None:
    """The account's invariants: nothing negative, total = free + used, used = exactly what open orders hold
    (no admin edits in these tests), and every asset's total equals funding plus the signed fills."""
    balance = engine.fetch_balance()
    held = open_reservations(engine)
    expected = expected_totals(engine, funded)
    assets = set(balance["total"]) | set(held) | {a for a, v in expected.items() if v != 0}
    for asset in sorted(assets):
        entry = balance.get(asset, {"free": ZERO, "used": ZERO, "total": ZERO})
        assert entry["free"] >= 0, (asset, entry)
        assert entry["used"] >= 0, (asset, entry)
        assert entry["total"] == entry["free"] + entry["used"]
        assert entry["used"] == held.get(asset, ZERO), (asset, entry, held.get(asset))
        assert entry["total"] == expected.get(asset, ZERO), (asset, entry, expected.get(asset))


def check_orders_consistent(engine: Engine) -> None:
    """Every order is in exactly one coherent state: open (nothing filled), closed (all filled, one trade)
    or canceled (nothing filled, no trade)."""
    trade_ids = [t["order"] for t in engine.fetch_my_trades()]
    assert len(trade_ids) == len(set(trade_ids)), "an order has two trades"
    closed = set(trade_ids)
    for order in engine.fetch_orders():
        if order["status"] == "closed":
            assert order["filled"] == order["amount"] and order["remaining"] == 0
            assert order["id"] in closed
        else:
            assert order["status"] in ("open", "canceled")
            assert order["filled"] == 0 and order["remaining"] == order["amount"] and order["cost"] == 0
            assert order["id"] not in closed


# -- concurrency worker (runs in threads and in spawned processes) ----------------------------------------

SYMBOLS = {"BTC/USDT": Decimal(50000), "ETH/USDT": Decimal(2500)}


def trading_worker(settings: Settings, seed: int, operations: int, gate: int = 1) -> dict[str, Any]:
    """Random trading on the shared account with its own Engine; returns what it funded, the ids it
    created and the ids it canceled successfully. Waits until ``gate`` workers are ready, so that threads
    and slower-starting processes really trade at the same time."""
    rng = random.Random(seed)
    funded: dict[str, Decimal] = defaultdict(Decimal)
    created: list[str] = []
    canceled: list[str] = []
    with Engine(settings) as engine:
        engine.store.call("INCR", "test:ready")
        deadline = time.monotonic() + 60
        while int(engine.store.read("GET", "test:ready")) < gate and time.monotonic() < deadline:
            time.sleep(0.001)
        for _ in range(operations):
            symbol = rng.choice(sorted(SYMBOLS))
            mid = SYMBOLS[symbol]
            side = rng.choice(("buy", "sell"))
            amount = Decimal(rng.randint(1, 2000)) * (Decimal("0.00001") if symbol == "BTC/USDT" else Decimal("0.0001"))
            roll = rng.random()
            try:
                if roll < 0.25:
                    created.append(engine.create_order(symbol, side, "market", amount)["id"])
                elif roll < 0.6:
                    offset = Decimal(rng.randint(-300, 300)) / 10000
                    price = (mid * (1 + offset)).quantize(Decimal("0.01"))
                    created.append(engine.create_order(symbol, side, "limit", amount, price)["id"])
                elif roll < 0.75 and created:
                    victim = rng.choice(created)
                    try:
                        engine.cancel_order(victim)
                        canceled.append(victim)
                    except OrderNotOpen:
                        pass
                elif roll < 0.85:
                    asset = rng.choice(("USDT", "BTC", "ETH"))
                    gift = Decimal(rng.randint(1, 10**6)) / 10**4
                    engine.fund(asset, gift)
                    funded[asset] += gift
                else:
                    offset = Decimal(rng.randint(-300, 300)) / 10000
                    engine.set_price(symbol, (mid * (1 + offset)).quantize(Decimal("0.01")))
            except InsufficientFunds:
                pass
    return {"funded": {k: str(v) for k, v in funded.items()}, "created": created, "canceled": canceled}
