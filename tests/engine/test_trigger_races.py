"""Trigger orders racing across processes: one process sweeps the price through hundreds of triggers with
``set_price``, another writes prices straight into the feed and settles them itself, a third cancels half of
the orders meanwhile. No order fills twice or is released twice: each ends with at most one trade, every order
a cancel succeeded on is canceled and never filled, and once the rest are canceled every reservation and every
pending credit is back to exactly zero, with each asset's total equal to funding plus the trades."""

from __future__ import annotations

import multiprocessing
import random
from concurrent.futures import ProcessPoolExecutor
from decimal import Decimal

import pytest
from books import expected_totals

from mockexchange_ccxt import Engine, Settings

from .race_workers import cancel_these, cross_now_and_then, outside_feed_settler

SYMBOL = "TRG/USDT"
FUNDS = {"USDT": Decimal(10_000_000), "TRG": Decimal(10_000)}


@pytest.mark.slow
def test_triggers_settlers_and_cancels_racing_never_fill_or_release_twice(engine: Engine, settings: Settings) -> None:
    engine.set_price(SYMBOL, "10000")
    for asset, amount in FUNDS.items():
        engine.fund(asset, amount)
    rng = random.Random(7)
    ids: list[str] = []
    for i in range(300):
        down, up = 9700 - i, 10300 + i
        ids.append(engine.create_order(SYMBOL, "sell", "market", "0.5", stop_loss_price=down)["id"])
        ids.append(engine.create_order(SYMBOL, "buy", "stop_loss_limit", "0.1", up + 50, stop_price=up)["id"])
        ids.append(engine.create_order(SYMBOL, "buy", "market", "0.1", take_profit_price=down - 1)["id"])
        ids.append(engine.create_order(SYMBOL, "sell", "limit", "0.2", up, trigger_price=up + 1)["id"])
    victims = rng.sample(ids, len(ids) // 2)
    sweep = [str(p) for p in (*range(10000, 9300, -10), *range(9300, 10700, 10), *range(10700, 9999, -10))]
    outside = [str(p) for p in (*range(10000, 10700, 7), *range(10700, 9300, -7))]
    with ProcessPoolExecutor(3, mp_context=multiprocessing.get_context("spawn")) as pool:
        setter = pool.submit(cross_now_and_then, settings, SYMBOL, sweep, 3)
        feed = pool.submit(outside_feed_settler, settings, SYMBOL, outside, 3)
        canceler = pool.submit(cancel_these, settings, victims, 3)
        setter.result(timeout=300)
        feed.result(timeout=300)
        canceled = set(canceler.result(timeout=300))
    trades = engine.fetch_my_trades(SYMBOL)
    traded = [t["order"] for t in trades]
    assert len(traded) == len(set(traded)), "an order traded twice"
    assert not canceled & set(traded), "an order canceled by a bot also traded"
    assert all(engine.fetch_order(i)["status"] == "canceled" for i in canceled)
    statuses = {engine.fetch_order(i)["status"] for i in ids}
    assert {"closed", "canceled"} <= statuses
    engine.cancel_all_orders(SYMBOL)
    raw = engine.store.read("HGETALL", engine.keys.balances)
    for asset in FUNDS:
        for kind in ("used", "held", "pend"):
            assert raw.get(f"{kind}:{asset}", "0") == "0", (kind, asset, raw)
    totals = engine.fetch_balance()["total"]
    expected = expected_totals(engine, FUNDS)
    assert {a: totals[a] for a in FUNDS} == {a: expected[a] for a in FUNDS}
