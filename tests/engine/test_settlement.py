"""Settlement: crossed resting orders fill exactly once at their limit, in batches, at scale, and when
several settlers race on one symbol."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from books import ceil_unit, check_books, check_orders_consistent, fee_of

from mockexchange_ccxt import Engine
from mockexchange_ccxt.errors import MockExchangeError

from .conftest import EngineFactory

RATE = Decimal("0.001")


def _buy_reservation(amount: Decimal, price: Decimal) -> Decimal:
    cost = ceil_unit(amount * price)
    return cost + fee_of(cost, RATE)


def test_settlement_touches_only_its_symbol(btc: Engine) -> None:
    btc_order = btc.create_order("BTC/USDT", "buy", "limit", "0.1", "49000")["id"]
    eth_order = btc.create_order("ETH/USDT", "buy", "limit", "1", "2400")["id"]
    assert btc.set_price("BTC/USDT", "2000") == 1
    assert btc.fetch_order(eth_order)["status"] == "open"
    assert btc.fetch_order(btc_order)["status"] == "closed"
    assert btc.process_price_tick("ETH/USDT") == 0
    check_books(btc, {"USDT": Decimal(100000)})


def test_small_batches_fill_both_books_completely(make_engine: EngineFactory) -> None:
    small = make_engine(settle_batch=7)
    small.set_price("BTC/USDT", "50000")
    small.fund("USDT", "1000000")
    small.fund("BTC", "100")
    buys = [small.create_order("BTC/USDT", "buy", "limit", "0.01", 49000 - i)["id"] for i in range(60)]
    sells = [small.create_order("BTC/USDT", "sell", "limit", "0.01", 51000 + i)["id"] for i in range(60)]
    assert small.set_price("BTC/USDT", "48970.5") == 30  # buys at 48971 and above: 30 orders, 5 batches
    assert [small.fetch_order(i)["status"] for i in buys] == ["closed"] * 30 + ["open"] * 30
    # a price below every buy's limit, then one above every sell's: two ticks cross all the rest
    small.store.call("HSET", "sym_BTC/USDT", "price", "40000", "timestamp", "1700000000")
    assert small.process_price_tick("BTC/USDT") == 30
    small.store.call("HSET", "sym_BTC/USDT", "price", "60000", "timestamp", "1700000000")
    assert small.process_price_tick("BTC/USDT") == 60
    assert {small.fetch_order(i)["status"] for i in buys + sells} == {"closed"}
    assert small.fetch_orders(status="open") == []
    assert small.store.read("SMEMBERS", small.keys.active_symbols) == []
    check_books(small, {"USDT": Decimal(1000000), "BTC": Decimal(100)})
    check_orders_consistent(small)


@pytest.mark.slow
def test_ten_thousand_resting_buys_one_tick_fills_exactly_the_crossed_half(btc: Engine) -> None:
    btc.fund("USDT", "3000000")
    funded = Decimal(3100000)
    count = 10_000
    amounts = [Decimal(1 + i % 7) / 1000 for i in range(count)]
    prices = [Decimal("40000.12345678") + i for i in range(count)]
    ids = [btc.create_order("BTC/USDT", "buy", "limit", a, p)["id"] for a, p in zip(amounts, prices, strict=True)]
    reserved = [_buy_reservation(a, p) for a, p in zip(amounts, prices, strict=True)]
    assert btc.balance("USDT") == {"free": funded - sum(reserved), "used": sum(reserved), "total": funded}

    half = count // 2
    assert btc.settings.settle_batch < half
    assert btc.set_price("BTC/USDT", prices[half]) == half  # orders half.. have limit >= the tick
    open_ids = [o["id"] for o in btc.fetch_orders(status="open")]
    assert open_ids == ids[:half]
    assert btc.balance("BTC") == {"free": sum(amounts[half:]), "used": 0, "total": sum(amounts[half:])}
    assert btc.balance("USDT") == {
        "free": funded - sum(reserved),
        "used": sum(reserved[:half]),
        "total": funded - sum(reserved[half:]),
    }
    for index in (half, half + 1, count - 1):
        order = btc.fetch_order(ids[index])
        assert (order["status"], order["average"]) == ("closed", prices[index])  # at its own limit
        assert order["fee"]["cost"] == fee_of(ceil_unit(amounts[index] * prices[index]), RATE)

    btc.store.call("HSET", "sym_BTC/USDT", "price", "1", "timestamp", "1700000000")  # an outside feed
    assert btc.process_price_tick("BTC/USDT") == half
    assert btc.fetch_orders(status="open") == []
    assert btc.balance("USDT") == {"free": funded - sum(reserved), "used": 0, "total": funded - sum(reserved)}
    assert btc.balance("BTC")["total"] == sum(amounts)
    assert len(btc.fetch_my_trades()) == count


@pytest.mark.slow
def test_racing_settlers_never_fill_an_order_twice(btc: Engine, make_engine: EngineFactory) -> None:
    btc.fund("BTC", "100")
    btc.fund("USDT", "400000")
    count = 1500
    for i in range(count):
        side, price = ("buy", 49000 - i % 500) if i % 2 else ("sell", 51000 + i % 500)
        btc.create_order("BTC/USDT", side, "limit", "0.01", price)
    settlers = [make_engine(settle_batch=25) for _ in range(3)] + [btc]
    filled: list[int] = []
    failures: list[BaseException] = []

    def settle(engine: Engine, barrier: threading.Barrier) -> None:
        try:
            barrier.wait()
            filled.append(engine.process_price_tick("BTC/USDT"))
        except BaseException as exc:  # reported below
            failures.append(exc)

    # a price below every buy, then one above every sell: each tick settled by four engines at once
    for price in ("40000", "60000"):
        btc.store.call("HSET", "sym_BTC/USDT", "price", price, "timestamp", "1700000000")
        barrier = threading.Barrier(len(settlers))
        threads = [threading.Thread(target=settle, args=(e, barrier)) for e in settlers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert failures == []
    assert sum(filled) == count
    assert len(btc.fetch_my_trades()) == count
    check_books(btc, {"USDT": Decimal(500000), "BTC": Decimal(100)})
    check_orders_consistent(btc)
    assert btc.fetch_balance()["used"] == {"BTC": 0, "USDT": 0}


def test_an_unfillable_resting_order_is_refused_or_does_not_block_settlement(engine: Engine) -> None:
    engine.set_price("BTC/USDT", "1000")
    engine.fund("BTC", "10001")
    try:
        engine.create_order("BTC/USDT", "sell", "limit", "10000", "90000000")
    except MockExchangeError as exc:
        assert exc.http_status == 400  # refusing it up front is fine
    small = engine.create_order("BTC/USDT", "sell", "limit", "1", "90000000")["id"]
    engine.set_price("BTC/USDT", "90000000")
    assert engine.fetch_order(small)["status"] == "closed"


def test_a_reservation_tampered_away_leaves_its_order_resting_and_the_rest_filled(btc: Engine) -> None:
    """Only a write straight into Valkey can make an open order's reservation vanish (edit_balance refuses). The
    settle script then fills the orders before it (the book is walked from the lowest limit up), leaves that one
    open in its book rather than drive a balance negative, and fills it once the reservation is back."""
    cheaper = btc.create_order("BTC/USDT", "buy", "limit", "0.1", "48000")["id"]
    dearer = btc.create_order("BTC/USDT", "buy", "limit", "0.1", "49000")["id"]
    reserved = btc.store.read("HGET", btc.keys.balances, "held:USDT")
    enough_for_one = str(int(reserved) // 2 + 1)  # covers the cheaper order's debit, not the dearer's after it
    btc.store.call("HSET", btc.keys.balances, "held:USDT", enough_for_one, "used:USDT", enough_for_one)
    assert btc.set_price("BTC/USDT", "47000") == 1
    assert btc.fetch_order(cheaper)["status"] == "closed"
    assert btc.fetch_order(dearer)["status"] == "open"
    assert btc.store.read("ZRANGE", btc.keys.book("BTC/USDT", "buy"), 0, -1) == [dearer]
    assert btc.store.read("ZRANGE", btc.keys.open_ids, 0, -1) == [dearer]
    assert all(int(units) >= 0 for units in btc.store.read("HGETALL", btc.keys.balances).values())
    btc.store.call("HINCRBY", btc.keys.balances, "held:USDT", reserved)
    btc.store.call("HINCRBY", btc.keys.balances, "used:USDT", reserved)
    assert btc.process_price_tick("BTC/USDT") == 1
    assert btc.fetch_order(dearer)["status"] == "closed"


def test_a_record_that_does_not_decode_leaves_what_settled_before_it_whole(btc: Engine) -> None:
    """A sell book holding a member whose record is not JSON (a write straight into Valkey): the settlement stops
    there with an error, and the buy it filled first is filled whole, its record and its money together."""
    buy = btc.create_order("BTC/USDT", "buy", "limit", "0.1", "49000")["id"]
    btc.store.call("ZADD", btc.keys.book("BTC/USDT", "sell"), 1, "999")
    btc.store.call("HSET", btc.keys.orders, "999", "{not json")
    with pytest.raises(MockExchangeError):
        btc.set_price("BTC/USDT", "48000")
    assert btc.fetch_order(buy)["status"] == "closed"
    assert btc.balance("BTC")["free"] == Decimal("0.1")
    assert btc.balance("USDT")["used"] == 0
