"""Concurrency end to end: bots over HTTP against two granian workers, bots in process (ccxt class and Engine)
and an outside feed writing prices into Valkey, all at once on one account; then the books are checked to the
last unit.

Invariants checked after the load:
- every accepted order id is unique, every stored order was accepted by some bot, and each one is findable;
- no order filled twice, a canceled order never filled, every filled order has its one trade and exact fee;
- per asset, funded + what fills brought in - what they took out (fees included) = free + used;
- nothing is negative, and ``used`` is exactly what the open orders reserve;
- the tick loop of the workers settled every resting order that the last feed prices crossed.
"""

from __future__ import annotations

import multiprocessing
import time
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from books import check_books, check_fills, check_orders_consistent
from engine.support import SYMBOLS, trading_worker
from servers import start_server

from mockexchange_ccxt import Engine, MockExchange, Settings
from mockexchange_ccxt.engine import EmbeddedValkey

from .clients import STOP_KEY, Tally, ccxt_bot, outside_feed

KEY = "load-test-key"
OPERATIONS = 500  # per bot, times --heavy's scale; four bots
SEED_FUNDS = {"USDT": Decimal(2_000_000), "BTC": Decimal(40), "ETH": Decimal(800)}


def crossed_open_orders(engine: Engine) -> list[dict[str, Any]]:
    """Open limits that the current feed prices cross: the tick loop should have filled them."""
    quotes = {symbol: engine.ticker(symbol) for symbol in SYMBOLS}
    return [
        order
        for order in engine.fetch_orders(status="open")
        if (order["side"] == "buy" and order["price"] >= quotes[order["symbol"]]["ask"])
        or (order["side"] == "sell" and order["price"] <= quotes[order["symbol"]]["bid"])
    ]


def wait_until_settled(engine: Engine, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while crossed := crossed_open_orders(engine):
        assert time.monotonic() < deadline, f"the tick loop left {len(crossed)} crossed orders open: {crossed[:3]}"
        time.sleep(0.05)


@pytest.mark.slow
def test_bots_over_http_and_in_process_with_an_outside_feed_keep_the_books_exact(
    engine: Engine, settings: Settings, valkey_server: EmbeddedValkey, tmp_path: Path, load_scale: int
) -> None:
    server = start_server(
        tmp_path / "serve.log",
        {"REDIS_URL": valkey_server.url, "API_KEY": KEY, "TICK_LOOP_SEC": "0.01"},
        KEY,
        workers=2,
    )
    try:
        funded: dict[str, Decimal] = defaultdict(Decimal, SEED_FUNDS)
        for asset, amount in SEED_FUNDS.items():
            engine.fund(asset, amount)
        for symbol, mid in SYMBOLS.items():
            engine.set_price(symbol, mid)
        over_http = {"apiKey": KEY, "options": {"serverUrl": server.url}}
        in_process = {"options": {"redisUrl": valkey_server.url}}
        operations = OPERATIONS * load_scale
        participants = 5
        spawn = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(participants, mp_context=spawn) as pool:
            bots = [
                pool.submit(ccxt_bot, over_http, valkey_server.url, 1, operations, participants),
                pool.submit(ccxt_bot, over_http, valkey_server.url, 2, operations, participants),
                pool.submit(ccxt_bot, in_process, valkey_server.url, 3, operations, participants),
            ]
            engine_bot = pool.submit(trading_worker, settings, 4, operations, participants)
            feed = pool.submit(outside_feed, valkey_server.url, 5, participants)
            started = time.monotonic()
            tallies: list[Tally] = [bot.result(timeout=300) for bot in bots]
            engine_tally = engine_bot.result(timeout=300)
            elapsed = time.monotonic() - started
            engine.store.call("SET", STOP_KEY, "1")
            prices_written = feed.result(timeout=30)

        created = [order_id for tally in tallies for order_id in tally.created] + engine_tally["created"]
        canceled = {order_id for tally in tallies for order_id in tally.canceled} | set(engine_tally["canceled"])
        for tally in tallies:
            for asset, amount in tally.funded.items():
                funded[asset] += amount
        for asset, amount in engine_tally["funded"].items():
            funded[asset] += Decimal(amount)
        bot_operations = sum(tally.operations for tally in tallies) + operations
        print(
            f"\n{bot_operations} bot operations and {prices_written} feed prices in {elapsed:.1f} s; "
            f"{len(created)} orders; refused: {sum((t.refused for t in tallies), Counter())}"
        )
        assert bot_operations == 4 * operations and prices_written > 100

        wait_until_settled(engine)
        assert len(created) == len(set(created)), "an order id was handed out twice"
        orders = {order["id"]: order for order in engine.fetch_orders()}
        assert set(orders) == set(created), "stored orders and accepted orders differ"
        assert {orders[order_id]["status"] for order_id in canceled} == {"canceled"}, "a canceled order filled"
        statuses = Counter(order["status"] for order in orders.values())
        assert set(statuses) == {"open", "closed", "canceled"}, statuses
        exchange = MockExchange(over_http)
        for order_id in created[:: max(1, len(created) // 50)]:  # findable over HTTP too, and the same there
            assert exchange.fetch_order(order_id)["status"] == orders[order_id]["status"]
        makers = [trade for trade in engine.fetch_my_trades() if trade["takerOrMaker"] == "maker"]
        assert makers, "no resting order was ever settled"

        check_orders_consistent(engine)
        check_fills(engine)
        check_books(engine, funded)
        raw = engine.store.read("HGETALL", engine.keys.balances)
        assert all(int(units) >= 0 for units in raw.values())
        for asset in SEED_FUNDS:
            assert raw.get(f"held:{asset}", "0") == raw.get(f"used:{asset}", "0")
    finally:
        code = server.stop()
    assert code == 0, server.output()
    assert "Traceback" not in server.output()
