"""FILL_MODEL=book under concurrency: bots over HTTP (``mockexchange serve`` with two workers) and in process (two
accounts), all on one symbol with a thin book, while a feed writes snapshot after snapshot (each settled at once,
and again by the workers' tick loops and notifications). Afterwards, per snapshot, what every account's trades
took from each side never exceeds what that side offered (and a taker's trades never exceed their level); and
each account's books are exact to the last unit, partial fills included.
"""

from __future__ import annotations

import multiprocessing
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from books import check_books, check_fills, check_orders_consistent
from servers import start_server

from mockexchange_ccxt import Engine, Settings

from .book_bots import FIRST_SNAPSHOT, SNAPSHOTS, SYMBOL, engine_bot, http_bot, snapshot, write_snapshots

KEY = "book-sharing-key"
FUNDS = {"USDT": Decimal(1_000_000), "THN": Decimal(10_000)}
OPERATIONS = 150  # per bot, times --heavy's scale


def _offered(book: dict[str, Any]) -> dict[str, dict[Decimal, Decimal]]:
    return {side: {Decimal(p): Decimal(a) for p, a in book[side]} for side in ("bids", "asks")}


@pytest.mark.slow
def test_bots_in_processes_and_two_workers_never_take_more_than_a_snapshot_offers(
    engine: Engine, settings: Settings, valkey_server: Any, tmp_path: Path, load_scale: int
) -> None:
    settings = replace(settings, fill_model="book")
    server = start_server(
        tmp_path / "serve.log",
        {"REDIS_URL": valkey_server.url, "API_KEY": KEY, "TICK_LOOP_SEC": "0.01", "FILL_MODEL": "book"},
        KEY,
        workers=2,
    )
    try:
        with Engine(settings) as book_engine:
            accounts = {"main": book_engine, "bob": book_engine.for_account("bob")}
            for view in accounts.values():
                for asset, amount in FUNDS.items():
                    view.fund(asset, amount)
            first = snapshot(0)
            book_engine.set_price(
                SYMBOL, first["price"], timestamp=first["timestamp"], bids=first["bids"], asks=first["asks"]
            )
            operations = OPERATIONS * load_scale
            participants = 5
            with ProcessPoolExecutor(participants, mp_context=multiprocessing.get_context("spawn")) as pool:
                bots = [
                    pool.submit(http_bot, server.url, KEY, valkey_server.url, 1, operations, participants),
                    pool.submit(http_bot, server.url, KEY, valkey_server.url, 2, operations, participants),
                    pool.submit(engine_bot, settings, "main", 3, operations, participants),
                    pool.submit(engine_bot, settings, "bob", 4, operations, participants),
                ]
                feed = pool.submit(write_snapshots, settings, participants)
                placed = sum(bot.result(timeout=300) for bot in bots)
                assert feed.result(timeout=300) == SNAPSHOTS
            assert placed > operations  # most orders were accepted

            books = {FIRST_SNAPSHOT + n * 1000: _offered(snapshot(n)) for n in range(SNAPSHOTS + 1)}
            level_of = {price: (stamp, side) for stamp, book in books.items() for side in book for price in book[side]}
            took: dict[tuple[int, str], Decimal] = defaultdict(Decimal)  # (snapshot, side) -> amount
            at_level: dict[Decimal, Decimal] = defaultdict(Decimal)
            makers = takers = 0
            for view in accounts.values():
                for trade in view.fetch_my_trades():
                    side = "asks" if trade["side"] == "buy" else "bids"
                    if trade["takerOrMaker"] == "taker":
                        stamp, level_side = level_of[trade["price"]]  # a taker trades at a level's own price
                        assert level_side == side
                        at_level[trade["price"]] += trade["amount"]
                        takers += 1
                    else:
                        stamp = trade["timestamp"]  # a resting order's trade is timed at its snapshot
                        assert stamp in books, trade
                        makers += 1
                    took[(stamp, side)] += trade["amount"]
                check_orders_consistent(view)
                check_fills(view)
                check_books(view, FUNDS)
            assert takers and makers, (takers, makers)
            for price, amount in at_level.items():
                stamp, side = level_of[price]
                assert amount <= books[stamp][side][price], (price, amount)
            for (stamp, side), amount in took.items():
                assert amount <= sum(books[stamp][side].values()), (stamp, side, amount)
    finally:
        code = server.stop()
    assert code == 0, server.output()
    assert "Traceback" not in server.output()
