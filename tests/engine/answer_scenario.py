"""A scenario that leaves every kind of stored order behind, and every answer that reads them, as JSON text.

The answers were captured once (``answers_golden.json``, written by running this file: ``python
tests/engine/answer_scenario.py``) with the records stored in their first, verbose form; ``test_record_format``
replays the scenario and compares every answer with them, so a change of how records are stored can not
change an answer. Timestamps come from a ``ReplayClock`` and ids from fresh accounts, so the answers repeat.

Run as a script it regenerates the golden file on a throwaway embedded Valkey: only do that for a change that
means to change answers.
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from mockexchange_ccxt import Engine, ReplayClock, Settings
from mockexchange_ccxt.binance import shapes
from mockexchange_ccxt.routes import Call, dispatch
from mockexchange_ccxt.web.app import to_json

GOLDEN = Path(__file__).with_name("answers_golden.json")
T0 = 1_700_000_000_000
BOOK_ETH = {"bids": [["2499", "0.5"], ["2498", "1"]], "asks": [["2501", "0.4"], ["2502", "0.4"], ["2503", "5"]]}

EngineFactory = Callable[[Settings], Engine]


def _touch_orders(engine: Engine, out: dict[str, Any]) -> None:
    """Every touch-model kind: market (by amount and by cost), limits that rest, fill later, get canceled,
    IOC/FOK, post-only, stop-loss and take-profit triggers (one fires), a clientOrderId, a held-back fill."""
    engine.fund("USDT", "100000")
    engine.fund("BTC", "2")
    placed = [
        engine.create_order("BTC/USDT", "buy", "market", "0.01"),
        engine.create_order("BTC/USDT", "sell", "market", "0.005", client_order_id="cid-sell-1"),
        engine.create_order("BTC/USDT", "buy", "limit", "0.01", "49000"),
        engine.create_order("BTC/USDT", "buy", "limit", "0.02", "48000", client_order_id="cid-rest-2"),
        engine.create_order("BTC/USDT", "sell", "limit", "0.03", "52000"),
        engine.create_order("BTC/USDT", "buy", "limit", "0.01", "40000", time_in_force="IOC"),
        engine.create_order("BTC/USDT", "buy", "limit", "0.01", "60000", time_in_force="FOK"),
        engine.create_order("BTC/USDT", "buy", "limit", "0.01", "45000", post_only=True),
        engine.create_order("BTC/USDT", "sell", "stop_loss_limit", "0.02", "47000", stop_loss_price="47950"),
        engine.create_order("BTC/USDT", "sell", "take_profit", "0.01", take_profit_price="55000"),
        engine.create_order("BTC/USDT", "buy", "market", cost="100"),
        engine.create_order("BTC/USDT", "buy", "stop_loss", "0.001", trigger_price="51000"),
        engine.create_order("ETH/USDT", "buy", "limit", "1", "2400"),
    ]
    out["placed"] = placed
    out["canceled"] = engine.cancel_order(placed[4]["id"])
    engine.set_price("BTC/USDT", "47900", timestamp=T0 + 60_000)  # fills two limits, fires the stop-loss
    engine.set_price("BTC/USDT", "46900", timestamp=T0 + 120_000)  # fills the fired stop-loss limit
    out["canceled_all"] = engine.cancel_all_orders("ETH/USDT")


def _book_orders(engine: Engine, out: dict[str, Any]) -> None:
    """FILL_MODEL=book: a taker that walks levels (several trades), a limit that fills partly, then whole."""
    engine.fund("USDT", "100000")
    engine.set_price("ETH/USDT", "2500", timestamp=T0 + 180_000, bid="2499", ask="2501", **BOOK_ETH)
    placed = [
        engine.create_order("ETH/USDT", "buy", "market", "0.6"),
        engine.create_order("ETH/USDT", "buy", "limit", "1", "2502", client_order_id="book-partial"),
        engine.create_order("ETH/USDT", "buy", "limit", "2", "2490"),
    ]
    engine.set_price("ETH/USDT", "2500", timestamp=T0 + 240_000, bid="2499", ask="2501", **BOOK_ETH)
    engine.set_price("ETH/USDT", "2480", timestamp=T0 + 300_000, bid="2479", ask="2481")
    placed.append(engine.create_order("ETH/USDT", "sell", "limit", "0.1", "2600", time_in_force="IOC"))
    out["placed"] = placed


def _reads(engine: Engine) -> dict[str, Any]:
    """Every read of orders and trades, by each face that has its own code path."""
    call = lambda route, **parts: dispatch(engine, Call(route, **parts))  # noqa: E731
    orders = engine.fetch_orders()
    reads: dict[str, Any] = {
        "orders": orders,
        "open": engine.fetch_orders("open"),
        "closed": engine.fetch_orders("closed"),
        "canceled": engine.fetch_orders("canceled"),
        "btc": engine.fetch_orders(symbol="BTC/USDT"),
        "tail": engine.fetch_orders(tail=3),
        "since": engine.fetch_orders(since=T0 + 60_000, limit=4),
        "trades": engine.fetch_my_trades(),
        "trades_eth": engine.fetch_my_trades("ETH/USDT"),
        "trades_since": engine.fetch_my_trades(since=T0 + 60_000, limit=3),
        "rest_orders": call("orders", query={"status": "closed"}),
        "rest_trades": call("trades", query={"limit": "5"}),
    }
    for order in orders:
        oid = order["id"]
        reads[f"order {oid}"] = call("order", path={"oid": oid})
        reads[f"trades {oid}"] = call("order_trades", path={"oid": oid})
        reads[f"binance order {oid}"] = shapes.order_view(order)
        if order["clientOrderId"]:
            reads[f"by client id {oid}"] = engine.fetch_order_by_client_id(order["clientOrderId"])
    for trade in reads["trades"]:
        reads[f"binance trade {trade['id']}"] = shapes.trade_view(trade)
    return reads


def answers(make: EngineFactory, settings: Settings) -> dict[str, str]:
    """Run the scenario on a flushed server; each answer as the REST face writes it."""
    out: dict[str, Any] = {}
    main = make(settings)
    main.store.call("FLUSHALL")
    main.set_price("BTC/USDT", "50000", timestamp=T0)
    main.set_price("ETH/USDT", "2500", timestamp=T0)
    touch: dict[str, Any] = {}
    _touch_orders(main, touch)
    main.accounts.create("second")
    second = main.for_account("second")
    second.fund("USDT", "1000")
    second_out = {"placed": [second.create_order("BTC/USDT", "buy", "market", "0.001")]}
    book_engine = make(replace(settings, fill_model="book"))
    book_engine.accounts.create("book")
    book = book_engine.for_account("book")
    book_out: dict[str, Any] = {}
    _book_orders(book, book_out)
    for name, view, written in (("main", main, touch), ("second", second, second_out), ("book", book, book_out)):
        out.update({f"{name} {key}": value for key, value in written.items()})
        out.update({f"{name} {key}": value for key, value in _reads(view).items()})
    return {key: to_json(value).decode() for key, value in out.items()}


def main() -> None:
    from mockexchange_ccxt.engine import EmbeddedValkey

    server = EmbeddedValkey(persistent=False)
    url = server.start()
    engines: list[Engine] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:

            def make(settings: Settings) -> Engine:
                engines.append(Engine(settings, clock=ReplayClock(T0)))
                return engines[-1]

            found = answers(make, Settings(redis_url=url, data_dir=Path(tmp)))
            GOLDEN.write_text(json.dumps(found, indent=1, sort_keys=True) + "\n", encoding="utf-8")
            print(f"{len(found)} answers written to {GOLDEN.name}", file=sys.stderr)
    finally:
        for engine in engines:
            engine.close()
        server.stop()


if __name__ == "__main__":
    main()
