"""The tick loop: settles prices written straight into Valkey by an outside feed, survives broken feed keys,
and starts and stops on request."""

from __future__ import annotations

import time
from decimal import Decimal

from tests_helpers import wait_for

from mockexchange_ccxt import Engine

from .conftest import EngineFactory


def test_run_once_settles_active_symbols_and_returns_the_count(btc: Engine) -> None:
    btc.create_order("BTC/USDT", "buy", "limit", "0.1", "49000")
    btc.create_order("ETH/USDT", "buy", "limit", "1", "2400")
    btc.create_order("ETH/USDT", "buy", "limit", "1", "2300")
    assert sorted(btc.tick_loop.active_symbols()) == ["BTC/USDT", "ETH/USDT"]
    btc.store.call("HSET", "sym_BTC/USDT", "price", "48000", "timestamp", "1700000000")
    btc.store.call("HSET", "sym_ETH/USDT", "price", "2350", "timestamp", "1700000000")
    assert btc.tick_loop.run_once() == 2
    assert list(btc.tick_loop.active_symbols()) == ["ETH/USDT"]
    assert btc.tick_loop.run_once() == 0


def test_loop_settles_an_outside_write_and_stops(btc: Engine) -> None:
    placed = btc.create_order("BTC/USDT", "buy", "limit", "0.1", "49000")
    order = placed["id"]
    btc.start_tick_loop()
    assert btc.tick_loop.running
    btc.store.call("HSET", "sym_BTC/USDT", "price", "48000", "timestamp", "1700000000")
    assert wait_for(lambda: btc.fetch_order(order)["status"] == "closed")
    # the feed's time (2023) is before the order's: the fill is timed at the order, never before it
    assert btc.fetch_order(order)["lastTradeTimestamp"] == max(1_700_000_000_000, placed["timestamp"])
    assert btc.balance("BTC")["total"] == Decimal("0.1")
    btc.stop_tick_loop()
    assert not btc.tick_loop.running
    later = btc.create_order("BTC/USDT", "buy", "limit", "0.1", "47000")["id"]
    passes = btc.tick_loop.passes
    btc.store.call("HSET", "sym_BTC/USDT", "price", "46000")
    time.sleep(0.3)  # six intervals: a running loop would have settled it
    assert btc.tick_loop.passes == passes
    assert btc.fetch_order(later)["status"] == "open"
    btc.start_tick_loop()  # and it can start again
    assert wait_for(lambda: btc.fetch_order(later)["status"] == "closed")
    btc.stop_tick_loop()


def test_broken_feed_keys_do_not_kill_the_loop(btc: Engine) -> None:
    btc.set_price("X/USDT", "10")
    btc.set_price("Y/USDT", "10")
    stuck_x = btc.create_order("X/USDT", "buy", "limit", "1", "9")["id"]
    stuck_y = btc.create_order("Y/USDT", "buy", "limit", "1", "9")["id"]
    good = btc.create_order("BTC/USDT", "buy", "limit", "0.1", "49000")["id"]
    btc.store.call("DEL", "sym_X/USDT")
    btc.store.call("SET", "sym_X/USDT", "8")  # wrong key type
    btc.store.call("HSET", "sym_Y/USDT", "price", "eight", "timestamp", "1700000000")  # malformed
    btc.start_tick_loop()
    passes = btc.tick_loop.passes
    assert wait_for(lambda: btc.tick_loop.passes >= passes + 3)  # several passes over the broken symbols
    assert btc.tick_loop.running
    btc.store.call("HSET", "sym_BTC/USDT", "price", "48000", "timestamp", "1700000000")
    assert wait_for(lambda: btc.fetch_order(good)["status"] == "closed")
    assert btc.fetch_order(stuck_x)["status"] == "open"
    assert btc.fetch_order(stuck_y)["status"] == "open"
    btc.store.call("DEL", "sym_X/USDT")
    btc.store.call("HSET", "sym_X/USDT", "price", "8", "timestamp", "1700000000")  # the feed recovers
    assert wait_for(lambda: btc.fetch_order(stuck_x)["status"] == "closed")
    assert btc.tick_loop.running
    btc.stop_tick_loop()
    assert btc.balance("USDT")["used"] == Decimal("9.009")  # only Y's reservation is left


def test_close_stops_the_loop(engine: Engine, make_engine: EngineFactory) -> None:
    other = make_engine()
    other.start_tick_loop()
    assert other.tick_loop.running
    other.close()
    assert not other.tick_loop.running
