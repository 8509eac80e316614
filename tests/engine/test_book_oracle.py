"""FILL_MODEL=book against an independent model of its rules (``book_oracle.py``): random books (rewritten at new
and at the same timestamps) and random orders of two accounts (market, limit GTC/IOC/FOK/PO, both sides, cancels).
After every step each order's status, fills (price, amount, cost, fee, taker or maker), cost, fee and average,
and both accounts' free and used balances must equal the model's to the last unit; and no level ever gave more
than it offered."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from mockexchange_ccxt import Engine, ReplayClock, Settings
from mockexchange_ccxt.errors import InsufficientFunds, OrderImmediatelyFillable

from .book_oracle import Market, Order, Refused, of_units, units

SYMBOL, BASE, QUOTE = "TST/USDT", "TST", "USDT"
ACCOUNTS = ("main", "bob")
FUNDS = {QUOTE: Decimal(5000), BASE: Decimal(40)}
T0 = 1_700_000_000_000

bid_prices = st.lists(
    st.sampled_from([Decimal(p) for p in ("99.5", "99", "98.5", "98", "97")]), max_size=4, unique=True
)
ask_prices = st.lists(
    st.sampled_from([Decimal(p) for p in ("100.5", "101", "101.5", "102", "103")]), max_size=4, unique=True
)
level_amounts = st.decimals(min_value=Decimal("0.001"), max_value=Decimal(3), places=3)
writes = st.tuples(
    st.just("write"), st.booleans(), bid_prices, ask_prices, st.lists(level_amounts, min_size=8, max_size=8)
)
orders = st.tuples(
    st.just("order"),
    st.sampled_from(ACCOUNTS),
    st.sampled_from(("buy", "sell")),
    st.sampled_from(
        (("market", "IOC"), ("limit", "GTC"), ("limit", "GTC"), ("limit", "IOC"), ("limit", "FOK"), ("limit", "PO"))
    ),
    st.decimals(min_value=Decimal("0.01"), max_value=Decimal(4), places=2),
    st.sampled_from([Decimal(p) / 2 for p in range(194, 208)]),  # 97 .. 103.5
)
cancels = st.tuples(st.just("cancel"), st.integers(min_value=0, max_value=20))
operations = st.lists(st.one_of(writes, orders, orders, cancels), min_size=8, max_size=30)


def _book(bids: list[Decimal], asks: list[Decimal], amounts: list[Decimal]) -> tuple[list[Any], list[Any]]:
    bid_levels = [(p, amounts[i]) for i, p in enumerate(sorted(bids, reverse=True))]
    ask_levels = [(p, amounts[4 + i]) for i, p in enumerate(sorted(asks))]
    return bid_levels, ask_levels


def _compare_order(model: Order, order: dict[str, Any]) -> None:
    assert order["status"] == model.status, (order, model)
    assert order["filled"] == of_units(model.filled) and order["remaining"] == of_units(model.remaining)
    assert order["cost"] == of_units(model.cost) and order["fee"]["cost"] == of_units(model.fee)
    assert order["average"] == model.average()
    trades = [(t["price"], t["amount"], t["cost"], t["fee"]["cost"], t["takerOrMaker"]) for t in order["trades"]]
    assert trades == [(f.price, of_units(f.amount), of_units(f.cost), of_units(f.fee), f.role) for f in model.fills]


def _compare_balances(engines: dict[str, Engine], market: Market) -> None:
    for name, engine in engines.items():
        balance = engine.fetch_balance()
        for asset in (BASE, QUOTE):
            entry = balance.get(asset, {"free": 0, "used": 0})
            expected = market.balances.get(name, {})
            assert entry["free"] == of_units(expected.get(f"free:{asset}", 0)), (name, asset, entry, expected)
            assert entry["used"] == of_units(expected.get(f"used:{asset}", 0)), (name, asset, entry, expected)


def _run(
    base: Settings, ops: list[tuple[Any, ...]], maker: Decimal, taker: Decimal, step: Decimal, bps: Decimal
) -> Counter[str]:
    markets = json.dumps({SYMBOL: {"precision": {"amount": str(step)}}})
    settings = replace(
        base,
        fill_model="book",
        maker_commission=maker,
        taker_commission=taker,
        max_slippage_bps=bps,
        markets_file=markets,
    )
    market = Market(BASE, QUOTE, maker, taker, step, bps)
    with Engine(settings, clock=ReplayClock()) as engine:
        engine.store.call("FLUSHALL")
        engines = {"main": engine, "bob": engine.for_account("bob")}
        for name, view in engines.items():
            for asset, amount in FUNDS.items():
                view.fund(asset, amount)
                market.add(name, f"free:{asset}", units(amount))
        stamp = T0
        most_offered: dict[int, dict[str, int]] = {}
        engine.set_price(SYMBOL, "100", timestamp=stamp, bids=[["99", "1"]], asks=[["101", "1"]])
        market.write(stamp, [(Decimal(99), Decimal(1))], [(Decimal(101), Decimal(1))])
        for op in ops:
            if op[0] == "write":
                _, same, bids, asks, amounts = op
                stamp += 0 if same else 1000
                bid_levels, ask_levels = _book(bids, asks, amounts)
                bid = bid_levels[0][0] if bid_levels else Decimal("99.9")
                ask = ask_levels[0][0] if ask_levels else Decimal("100.1")
                engine.set_price(
                    SYMBOL,
                    "100",
                    timestamp=stamp,
                    bid=bid,
                    ask=ask,
                    bids=[[str(p), str(a)] for p, a in bid_levels],
                    asks=[[str(p), str(a)] for p, a in ask_levels],
                )
                market.write(stamp, bid_levels, ask_levels)
            elif op[0] == "order":
                _, name, side, (kind, tif), amount, limit = op
                price = limit if kind == "limit" else None
                try:
                    flags = {"time_in_force": tif}
                    placed = engines[name].create_order(SYMBOL, side, kind, amount, price, **flags)
                except (InsufficientFunds, OrderImmediatelyFillable):
                    placed = None
                model = Order(name, "", 0, side, kind, tif, units(amount), price)
                if placed is None:
                    with pytest.raises(Refused):
                        market.place(model)
                else:
                    model.id, model.since = placed["id"], placed["timestamp"]
                    market.place(model)
                    _compare_order(model, placed)
            else:
                open_orders = [o for o in market.orders if o.status == "open"]
                if open_orders:
                    victim = open_orders[op[1] % len(open_orders)]
                    engines[victim.account].cancel_order(victim.id)
                    market.cancel(victim)
            _compare_balances(engines, market)
            for model in market.orders:
                _compare_order(model, engines[model.account].fetch_order(model.id))
            # no level gave more than the snapshot ever offered there (a rewrite at the same timestamp keeps
            # what was taken, though it may offer less)
            taken = engine.store.read("HGETALL", engine.keys.depth_taken(SYMBOL))
            offered = most_offered.setdefault(stamp, {})
            for side, levels in market.levels.items():
                for price, amount in levels:
                    field = f"{side[0]}:{price.normalize():f}"
                    offered[field] = max(offered.get(field, 0), amount)
            if taken:  # what it counts is the snapshot of its own timestamp (an older one, until someone takes)
                counted = most_offered[int(taken.pop("ts"))]
                assert all(int(units) <= counted.get(field, 0) for field, units in taken.items()), (taken, counted)
    return Counter(
        what
        for order in market.orders
        for what, happened in (
            ("walked", sum(f.role == "taker" for f in order.fills) > 1),
            ("partly", any(f.role == "maker" and f.amount < order.amount for f in order.fills)),
            ("maker", any(f.role == "maker" for f in order.fills)),
            ("short", order.kind == "market" and order.status == "canceled" and order.filled > 0),
        )
        if happened
    )


rates = st.sampled_from((Decimal(0), Decimal("0.001"), Decimal("0.0025"), Decimal("0.0123457")))

_THIN = [Decimal(1)] * 4 + [Decimal("0.5"), Decimal("0.5"), Decimal(1), Decimal(1)]
#: A sequence that meets every case the test counts: a buy rests below the ask, the next snapshot's asks fill it
#: partly (maker), a later snapshot fills the rest, and the one after is walked by a market buy larger than it
#: (taker fills on two levels, the rest canceled). The random examples explore; this one makes sure each run
#: checks these cases against the model.
COVERING: list[tuple[Any, ...]] = [
    ("write", False, [Decimal(99)], [Decimal(103)], [Decimal(1)] * 8),
    ("order", "main", "buy", ("limit", "GTC"), Decimal(2), Decimal(102)),
    ("write", False, [Decimal(99)], [Decimal("100.5"), Decimal(101)], _THIN),
    ("write", False, [Decimal(99)], [Decimal("100.5"), Decimal(101)], _THIN),
    ("write", False, [Decimal(99)], [Decimal("100.5"), Decimal(101)], _THIN),
    ("order", "bob", "buy", ("market", "IOC"), Decimal(3), Decimal(100)),
]


@pytest.mark.slow
def test_fills_follow_the_rules_of_the_book(settings: Settings) -> None:
    stats: Counter[str] = Counter()

    @hsettings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        ops=operations,
        maker=rates,
        taker=rates,
        step=st.sampled_from((Decimal("0.00000001"), Decimal("0.01"))),
        bps=st.sampled_from((Decimal(0), Decimal(50), Decimal(200), Decimal(500))),
    )
    @example(ops=COVERING, maker=Decimal("0.001"), taker=Decimal("0.001"), step=Decimal("0.01"), bps=Decimal(500))
    def run(ops: list[tuple[Any, ...]], maker: Decimal, taker: Decimal, step: Decimal, bps: Decimal) -> None:
        stats.update(_run(settings, ops, maker, taker, step, bps))

    run()
    # the examples did walk the book, fill resting orders (and some partly), and end market orders short
    assert stats["walked"] and stats["partly"] and stats["maker"] and stats["short"], stats
