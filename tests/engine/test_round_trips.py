"""One round trip per order, cancel and deposit on a single Valkey; an order planned from a remembered quote that
the feed replaced meanwhile fills at the new price, never the old one (on both stores).

Round trips are counted by the server: ``total_reads_processed`` of ``INFO stats`` grows by one per request the
server reads (a pipeline of several commands is one), whatever the commands' scripts call inside.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
import redis
from books import check_books

from mockexchange_ccxt import Engine
from mockexchange_ccxt.errors import BadSymbol, InvalidOrder, OrderNotFound, OrderNotOpen


@pytest.fixture
def outside(btc: Engine) -> Iterator[redis.Redis]:
    """Another client of the same Valkey (a feed process): writes that the engine does not see coming."""
    if btc.store.cluster:
        client: Any = redis.RedisCluster.from_url(btc.store.url, decode_responses=True)
    else:
        client = redis.Redis.from_url(btc.store.url, decode_responses=True)
    yield client
    client.close()


def round_trips(btc: Engine, outside: redis.Redis, action: Callable[[], Any], times: int = 5) -> float:
    """Requests the server read per ``action`` (the observer's own INFO request subtracted), after a first
    ``action`` that is not counted (it may load the script into the server)."""

    def reads() -> int:
        return int(outside.info("stats")["total_reads_processed"])

    action()
    before = reads()
    for _ in range(times):
        action()
    return (reads() - before - 1) / times


def test_an_order_planned_at_a_replaced_quote_fills_at_the_new_price(btc: Engine, outside: redis.Redis) -> None:
    first = btc.create_order("BTC/USDT", "buy", "market", "0.1")
    assert first["average"] == Decimal(50000)  # the engine now remembers 50,000
    outside.hset(btc.keys.price("BTC/USDT"), mapping={"price": "51000", "timestamp": "1700000000"})
    second = btc.create_order("BTC/USDT", "buy", "market", "0.1")
    assert second["average"] == Decimal(51000) and second["cost"] == Decimal(5100)
    outside.hset(btc.keys.price("BTC/USDT"), mapping={"price": "49000", "bid": "48990", "ask": "49010"})
    sell = btc.create_order("BTC/USDT", "sell", "market", "0.2")
    assert sell["average"] == Decimal(48990)
    check_books(btc, {"USDT": Decimal(100000)})


def test_a_limit_planned_to_rest_at_a_replaced_quote_takes_the_new_one(btc: Engine, outside: redis.Redis) -> None:
    btc.create_order("BTC/USDT", "buy", "market", "0.01")  # remembers ask 50,000: a buy at 49,000 would rest
    outside.hset(btc.keys.price("BTC/USDT"), mapping={"price": "48000", "timestamp": "1700000000"})
    order = btc.create_order("BTC/USDT", "buy", "limit", "0.1", "49000")
    assert order["status"] == "closed" and order["average"] == Decimal(48000)
    assert btc.fetch_orders(status="open") == []


def test_a_refusal_at_a_remembered_quote_is_checked_at_the_feed_now(btc: Engine, outside: redis.Redis) -> None:
    """A sell of 0.001 BTC at 1 USDT would cost nothing (refused); at 50,000 it is fine: the order is judged at
    the feed's quote, not the remembered one."""
    outside.hset(btc.keys.price("BTC/USDT"), mapping={"price": "0.000001", "timestamp": "1700000000"})
    btc.fund("BTC", "1")
    with pytest.raises(InvalidOrder):
        btc.create_order("BTC/USDT", "sell", "market", "0.001")  # remembers 0.000001
    outside.hset(btc.keys.price("BTC/USDT"), mapping={"price": "50000", "timestamp": "1700000001"})
    assert btc.create_order("BTC/USDT", "sell", "market", "0.001")["average"] == Decimal(50000)


def test_a_quote_that_became_unpriced_or_crossed_refuses_as_before(btc: Engine, outside: redis.Redis) -> None:
    btc.create_order("BTC/USDT", "buy", "market", "0.01")
    before = btc.fetch_balance()
    outside.hset(btc.keys.price("BTC/USDT"), mapping={"bid": "50100", "ask": "50200"})  # bid above the price
    with pytest.raises(InvalidOrder, match="no valid price"):
        btc.create_order("BTC/USDT", "buy", "market", "0.01")
    assert btc.can_execute("BTC/USDT", "buy", "market", "0.01")["code"] == "INVALID_ORDER"
    outside.delete(btc.keys.price("BTC/USDT"))
    with pytest.raises(BadSymbol):
        btc.create_order("BTC/USDT", "buy", "market", "0.01")
    assert btc.fetch_balance()["USDT"] == before["USDT"]


def test_can_execute_answers_at_the_feed_now(btc: Engine, outside: redis.Redis) -> None:
    btc.can_execute("BTC/USDT", "buy", "market", "0.01")
    outside.hset(btc.keys.price("BTC/USDT"), mapping={"price": "60000", "timestamp": "1700000000"})
    verdict = btc.can_execute("BTC/USDT", "buy", "market", "0.01")
    assert verdict["ok"] and verdict["price"] == Decimal(60000)


def test_one_round_trip_per_order_cancel_and_deposit_on_a_single_node(btc: Engine, outside: redis.Redis) -> None:
    if btc.store.cluster:
        pytest.skip("on Valkey Cluster an order reads the feed first (two steps)")
    assert round_trips(btc, outside, lambda: btc.create_order("BTC/USDT", "buy", "market", "0.001")) == 1
    assert round_trips(btc, outside, lambda: btc.create_order("BTC/USDT", "sell", "market", "0.001")) == 1
    ids: list[str] = []

    def rest() -> None:
        ids.append(btc.create_order("BTC/USDT", "buy", "limit", "1", "100")["id"])

    assert round_trips(btc, outside, rest) == 1
    assert round_trips(btc, outside, lambda: btc.cancel_order(ids.pop())) == 1
    assert round_trips(btc, outside, lambda: btc.cancel_all_orders("BTC/USDT")) == 1
    assert round_trips(btc, outside, lambda: btc.fund("USDT", "1")) == 1
    assert round_trips(btc, outside, lambda: btc.edit_balance("ETH", free="1")) == 1

    # a replaced quote costs one more: the script answers what the feed holds, and the order is planned again
    def after_a_write() -> None:
        outside.hincrby(btc.keys.price("BTC/USDT"), "timestamp", 1)
        btc.create_order("BTC/USDT", "buy", "market", "0.001")

    assert round_trips(btc, outside, after_a_write) == 1 + 2


def test_an_order_after_set_price_needs_no_read_first(btc: Engine, outside: redis.Redis) -> None:
    """set_price remembers the quote it wrote, as a read would give it: a back-test that writes a price before
    each order pays one round trip for each (a small timestamp, read back as seconds, included)."""
    if btc.store.cluster:
        pytest.skip("on Valkey Cluster an order reads the feed first (two steps)")
    prices = iter(range(50_000, 50_100))

    def tick_then_order() -> None:
        btc.set_price("BTC/USDT", next(prices), bid="49999", ask="50200")
        btc.create_order("BTC/USDT", "buy", "market", "0.001")

    assert round_trips(btc, outside, tick_then_order) == 1 + 1
    batches = iter(range(1_800_000_000_000, 1_900_000_000_000, 1000))

    def batch_then_order() -> None:  # set_prices remembers the last tick it wrote, too
        start = next(batches)
        btc.set_prices("BTC/USDT", [(start + i, 50_000 + i) for i in range(10)])  # one script, nothing to settle
        btc.create_order("BTC/USDT", "buy", "market", "0.001")

    assert round_trips(btc, outside, batch_then_order) == 1 + 1
    btc.set_price("ETH/USDT", "3000", timestamp=7)  # the hash holds "7", which reads as 7 s
    assert round_trips(btc, outside, lambda: btc.create_order("ETH/USDT", "buy", "market", "0.001")) == 1
    outside.hset(btc.keys.price("ETH/USDT"), mapping={"price": "3100", "timestamp": "8"})
    assert btc.create_order("ETH/USDT", "buy", "market", "0.001")["average"] == Decimal(3100)


def test_a_cancel_that_names_the_symbol_needs_no_read_and_only_cancels_an_order_of_it(
    btc: Engine, make_engine: Any, outside: redis.Redis
) -> None:
    """Another process (nothing remembered) that names the order's symbol cancels in one round trip; one that
    names another symbol finds no such order there and changes nothing, in either path."""
    other = make_engine()
    first = btc.create_order("BTC/USDT", "buy", "limit", "0.1", "40000")
    second = btc.create_order("BTC/USDT", "buy", "limit", "0.1", "40000")
    btc.set_price("ETH/USDT", "3000")
    for engine in (btc, other):
        with pytest.raises(OrderNotFound, match="not an order of ETH/USDT"):
            engine.cancel_order(first["id"], "ETH/USDT")
        with pytest.raises(OrderNotFound, match="not an order of ETH/USDT"):
            engine.cancel_orders([first["id"], second["id"]], "ETH/USDT")
    assert [order["status"] for order in btc.fetch_orders(symbol="BTC/USDT")] == ["open", "open"]
    assert other.cancel_order(first["id"], "BTC/USDT")["status"] == "canceled"
    assert btc.fetch_order(first["id"], "BTC/USDT")["status"] == "canceled"
    assert other.cancel_orders([second["id"]], "BTC/USDT")[0]["status"] == "canceled"
    if not btc.store.cluster:
        ids = [btc.create_order("BTC/USDT", "buy", "limit", "0.1", "40000")["id"] for _ in range(6)]
        assert round_trips(other, outside, lambda: other.cancel_order(ids.pop(), "BTC/USDT")) == 1


def test_cancel_by_remembered_symbol_refuses_as_the_read_path(btc: Engine, make_engine: Any) -> None:
    resting = btc.create_order("BTC/USDT", "buy", "limit", "0.1", "40000")
    other = make_engine()  # another process: knows nothing of the order, reads it first
    assert other.cancel_order(resting["id"])["status"] == "canceled"
    with pytest.raises(OrderNotOpen):
        btc.cancel_order(resting["id"])
    again = btc.create_order("BTC/USDT", "buy", "limit", "0.1", "40000")
    btc.store.call("HDEL", btc.keys.orders, again["id"])  # gone (as a reset would leave it)
    with pytest.raises(OrderNotFound, match="does not exist"):
        btc.cancel_order(again["id"])
