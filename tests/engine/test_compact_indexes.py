"""An order is in three sorted sets, not five: one symbol's orders are read from the account's ids and every
symbol's trades from the symbols' trade indexes, merged, with the same order and paging as the indexes that
are no longer written; entries that earlier versions wrote there stay harmless and leave with retention."""

from __future__ import annotations

from typing import Any

from mockexchange_ccxt import Engine, ReplayClock

from .conftest import EngineFactory

T0 = 1_700_000_000_000


def _trading(engine: Engine) -> list[dict[str, Any]]:
    """Trades on two symbols, several in one millisecond, so that a cut by ``limit`` falls inside a tie."""
    engine.fund("USDT", "100000")
    for step in range(4):
        stamp = T0 + step * 1000
        engine.set_price("BTC/USDT", "50000", timestamp=stamp)
        engine.set_price("ETH/USDT", "2500", timestamp=stamp)
        for symbol in ("ETH/USDT", "BTC/USDT", "ETH/USDT"):
            engine.create_order(symbol, "buy", "market", "0.001")
    engine.create_order("BTC/USDT", "buy", "limit", "0.001", "40000")
    return engine.fetch_my_trades()


def test_trades_of_every_symbol_merge_in_time_then_id_order(make_engine: EngineFactory) -> None:
    engine = make_engine(ReplayClock())
    trades = _trading(engine)
    key = [(t["timestamp"], int(t["id"])) for t in trades]
    assert key == sorted(key) and len(trades) == 12
    assert {t["symbol"] for t in trades} == {"BTC/USDT", "ETH/USDT"}
    for limit in (1, 2, 4, 5, 12, 50):
        assert engine.fetch_my_trades(limit=limit) == trades[-limit:]
        for since in (T0, T0 + 1000, T0 + 3000, T0 + 9000):
            kept = [t for t in trades if t["timestamp"] >= since]
            assert engine.fetch_my_trades(since=since, limit=limit) == kept[:limit]
    assert engine.fetch_my_trades("ETH/USDT", limit=3) == [t for t in trades if t["symbol"] == "ETH/USDT"][-3:]
    assert engine.fetch_my_trades("SOL/USDT") == []


def test_one_symbols_orders_page_like_the_accounts(make_engine: EngineFactory) -> None:
    engine = make_engine(ReplayClock())
    _trading(engine)
    orders = engine.fetch_orders()
    btc = [o for o in orders if o["symbol"] == "BTC/USDT"]
    assert engine.fetch_orders(symbol="BTC/USDT") == btc
    assert engine.fetch_orders(symbol="BTC/USDT", tail=2) == btc[-2:]
    assert (
        engine.fetch_orders(symbol="BTC/USDT", since=T0 + 1000, limit=3)
        == [o for o in btc if o["timestamp"] >= T0 + 1000][:3]
    )
    assert engine.fetch_orders("closed", "ETH/USDT") == [o for o in orders if o["symbol"] == "ETH/USDT"]


def test_index_entries_written_before_change_nothing_and_leave_with_retention(make_engine: EngineFactory) -> None:
    """Orders indexed as earlier versions did (their ids by symbol, their trades account-wide) read the same
    and are trimmed whole."""
    engine = make_engine(ReplayClock())
    _trading(engine)
    keys = engine.keys
    orders, trades = engine.fetch_orders(), engine.fetch_my_trades()
    for order in orders:
        engine.store.call("ZADD", keys.symbol_ids(order["symbol"]), order["id"], order["id"])
    for trade in trades:
        engine.store.call("ZADD", keys.fills, trade["timestamp"], trade["id"])
    assert (engine.fetch_orders(), engine.fetch_my_trades()) == (orders, trades)
    assert engine.fetch_orders(symbol="ETH/USDT") == [o for o in orders if o["symbol"] == "ETH/USDT"]
    trimmer = make_engine(ReplayClock(), order_retention_max=1)
    assert trimmer.trim_orders() == len(trades) - 1
    kept = engine.fetch_my_trades()
    assert kept == trades[-1:]
    left = {
        member
        for key in (keys.fills, keys.symbol_ids("BTC/USDT"), keys.symbol_ids("ETH/USDT"))
        for member in engine.store.read("ZRANGE", key, 0, -1)
    }
    assert left == {kept[0]["id"], orders[-1]["id"]}  # the last trade's order and the open one
