"""Orders: create_order (market, marketable and resting limits), can_execute, cancel, fetch_order(s),
trades and reset."""

from __future__ import annotations

from decimal import Decimal

import pytest
from tests_helpers import keyspace

from mockexchange_ccxt import Engine, ReplayClock
from mockexchange_ccxt.errors import BadRequest, OrderNotOpen

from .conftest import EngineFactory


def test_market_buy_fills_at_once_at_the_last_price(btc: Engine) -> None:
    order = btc.create_order("BTC/USDT", "buy", "market", "0.05")
    assert order["id"].isdigit()
    assert (order["status"], order["type"], order["side"], order["timeInForce"]) == ("closed", "market", "buy", "IOC")
    assert (order["price"], order["average"], order["amount"]) == (Decimal(50000), Decimal(50000), Decimal("0.05"))
    assert (order["filled"], order["remaining"], order["cost"]) == (Decimal("0.05"), 0, Decimal(2500))
    assert order["fee"] == {"currency": "USDT", "cost": Decimal("2.5"), "rate": Decimal("0.001")}
    assert order["fees"] == [order["fee"]]
    assert order["info"]["takerOrMaker"] == "taker"
    assert order["lastTradeTimestamp"] == order["timestamp"]
    assert btc.balance("USDT") == {"free": Decimal("97497.5"), "used": 0, "total": Decimal("97497.5")}
    assert btc.balance("BTC") == {"free": Decimal("0.05"), "used": 0, "total": Decimal("0.05")}
    assert btc.fetch_order(order["id"]) == order


def test_market_sell_receives_cost_minus_fee(btc: Engine) -> None:
    btc.fund("BTC", "1")
    order = btc.create_order("BTC/USDT", "sell", "market", "0.2")
    assert (order["status"], order["cost"], order["fee"]["cost"]) == ("closed", Decimal(10000), Decimal(10))
    assert btc.balance("BTC")["total"] == Decimal("0.8")
    assert btc.balance("USDT")["total"] == Decimal(109990)


def test_market_orders_use_bid_and_ask_when_the_feed_has_them(btc: Engine) -> None:
    btc.fund("BTC", "1")
    btc.set_price("BTC/USDT", "50000", bid="49990", ask="50010")
    assert btc.create_order("BTC/USDT", "buy", "market", "0.1")["price"] == Decimal(50010)
    assert btc.create_order("BTC/USDT", "sell", "market", "0.1")["price"] == Decimal(49990)


@pytest.mark.parametrize(("side", "limit"), [("buy", "51000"), ("buy", "50000"), ("sell", "49000"), ("sell", "50000")])
def test_marketable_limit_fills_at_the_touch_as_taker(btc: Engine, side: str, limit: str) -> None:
    btc.fund("BTC", "1")
    order = btc.create_order("BTC/USDT", side, "limit", "0.1", limit)
    assert order["status"] == "closed"
    assert (order["price"], order["average"]) == (Decimal(limit), Decimal(50000))  # its limit, and the fill
    assert order["info"]["takerOrMaker"] == "taker"
    assert order["timeInForce"] == "GTC"
    assert btc.fetch_balance()["used"] == {"BTC": 0, "USDT": 0}


def test_resting_buy_reserves_cost_plus_maker_fee_in_quote(btc: Engine) -> None:
    order = btc.create_order("BTC/USDT", "buy", "limit", "0.1", "49999.99999999")
    assert order["status"] == "open"
    assert (order["price"], order["filled"], order["remaining"]) == (Decimal("49999.99999999"), 0, Decimal("0.1"))
    assert order["cost"] == 0 and order["average"] is None and order["lastTradeTimestamp"] is None
    assert order["fee"]["cost"] == 0
    assert order["info"]["takerOrMaker"] == "maker"
    # cost 4999.999999999 rounds up to 5000.00000000; fee 5.0 exactly
    assert btc.balance("USDT") == {"free": Decimal("94995"), "used": Decimal("5005"), "total": Decimal(100000)}
    assert btc.balance("BTC")["total"] == 0


def test_resting_sell_reserves_its_amount_in_base(btc: Engine) -> None:
    btc.fund("BTC", "1")
    order = btc.create_order("BTC/USDT", "sell", "limit", "0.3", "50000.01")
    assert order["status"] == "open"
    assert btc.balance("BTC") == {"free": Decimal("0.7"), "used": Decimal("0.3"), "total": Decimal(1)}
    assert btc.balance("USDT") == {"free": Decimal(100000), "used": 0, "total": Decimal(100000)}


def test_client_order_id_is_kept(btc: Engine) -> None:
    order = btc.create_order("BTC/USDT", "buy", "limit", "0.1", "40000", client_order_id="bot-1:a/b=c+d_e.f")
    assert order["clientOrderId"] == "bot-1:a/b=c+d_e.f"
    assert btc.fetch_order(order["id"])["clientOrderId"] == "bot-1:a/b=c+d_e.f"
    assert btc.create_order("BTC/USDT", "buy", "market", "0.01")["clientOrderId"] is None


def test_order_ids_increase(btc: Engine) -> None:
    ids = [int(btc.create_order("BTC/USDT", "buy", "market", "0.001")["id"]) for _ in range(5)]
    assert ids == sorted(ids) and len(set(ids)) == 5


def test_can_execute_answers_without_changing_anything(btc: Engine) -> None:
    btc.create_order("BTC/USDT", "buy", "limit", "0.1", "40000", client_order_id="taken")
    before = keyspace(btc)
    verdict = btc.can_execute("BTC/USDT", "buy", "market", "0.1")
    assert verdict["ok"] is True and verdict["code"] is None and verdict["reason"] is None
    assert (verdict["price"], verdict["cost"], verdict["fee"]) == (Decimal(50000), Decimal(5000), Decimal(5))
    assert verdict["takerOrMaker"] == "taker"
    assert verdict["required"] == {"asset": "USDT", "amount": Decimal(5005)}
    assert verdict["free"] == Decimal(95996)
    resting = btc.can_execute("BTC/USDT", "sell", "limit", "0.1", "60000")
    assert (resting["ok"], resting["takerOrMaker"], resting["required"]["asset"]) == (False, "maker", "BTC")
    assert resting["code"] == "INSUFFICIENT_FUNDS" and "BTC" in resting["reason"]
    too_big = btc.can_execute("BTC/USDT", "buy", "market", "2")
    assert (too_big["ok"], too_big["code"]) == (False, "INSUFFICIENT_FUNDS")
    assert "USDT" in too_big["reason"]
    assert btc.can_execute("BTC/USDT", "hold", "market", "1")["code"] == "INVALID_ORDER"
    assert btc.can_execute("NOPE/USDT", "buy", "market", "1")["code"] == "BAD_SYMBOL"
    assert btc.can_execute("BTC/USDT", "buy", "limit", "0.1")["code"] == "INVALID_ORDER"
    dup = btc.can_execute("BTC/USDT", "buy", "market", "0.01", client_order_id="taken")
    assert (dup["ok"], dup["code"]) == (False, "DUPLICATE_CLIENT_ORDER_ID")
    assert btc.can_execute("BTC/USDT", "buy", "market", "0.01", client_order_id="fresh")["ok"] is True
    assert keyspace(btc) == before


def test_cancel_releases_exactly_the_reservation(btc: Engine) -> None:
    btc.fund("BTC", "0.5")
    buy = btc.create_order("BTC/USDT", "buy", "limit", "0.12345678", "43210.98765432")
    sell = btc.create_order("BTC/USDT", "sell", "limit", "0.5", "61000")
    before = btc.fetch_balance()
    # cost 5334.6893964221002896 -> 5334.68939643 (up), fee 5.33468939643 -> 5.33468940 (up)
    assert before["used"] == {"BTC": Decimal("0.5"), "USDT": Decimal("5340.02408583")}
    canceled = btc.cancel_order(buy["id"])
    assert canceled["status"] == "canceled"
    assert canceled["filled"] == 0 and canceled["remaining"] == canceled["amount"]
    assert canceled["lastUpdateTimestamp"] >= buy["timestamp"]
    assert btc.balance("USDT") == {"free": Decimal(100000), "used": 0, "total": Decimal(100000)}
    btc.cancel_order(int(sell["id"]))  # an int id is accepted
    assert btc.balance("BTC") == {"free": Decimal("0.5"), "used": 0, "total": Decimal("0.5")}
    assert btc.store.read("HGETALL", btc.keys.balances) == {
        "free:USDT": "10000000000000",
        "used:USDT": "0",
        "held:USDT": "0",
        "free:BTC": "50000000",
        "used:BTC": "0",
        "held:BTC": "0",
        "pend:BTC": "0",  # what the buy's fill would have brought in
        "pend:USDT": "0",  # what the sell's fill would have brought in
    }
    assert btc.store.read("SMEMBERS", btc.keys.active_symbols) == []
    assert btc.set_price("BTC/USDT", "40000") == 0  # a canceled order never fills


def test_second_cancel_and_cancel_of_a_filled_order_are_refused(btc: Engine) -> None:
    order = btc.create_order("BTC/USDT", "buy", "limit", "0.1", "40000")
    btc.cancel_order(order["id"])
    filled = btc.create_order("BTC/USDT", "buy", "market", "0.1")
    for order_id in (order["id"], filled["id"]):
        before = keyspace(btc)
        with pytest.raises(OrderNotOpen) as caught:
            btc.cancel_order(order_id)
        assert (caught.value.code, caught.value.http_status) == ("ORDER_NOT_OPEN", 409)
        assert keyspace(btc) == before


def test_fetch_orders_filters_and_orders_oldest_first(btc: Engine) -> None:
    btc.fund("ETH", "10")
    a = btc.create_order("BTC/USDT", "buy", "limit", "0.1", "40000")["id"]
    b = btc.create_order("ETH/USDT", "sell", "limit", "1", "3000")["id"]
    c = btc.create_order("BTC/USDT", "buy", "market", "0.01")["id"]
    d = btc.create_order("ETH/USDT", "buy", "limit", "1", "2000")["id"]
    e = btc.create_order("BTC/USDT", "buy", "limit", "0.1", "41000")["id"]
    btc.cancel_order(d)

    def ids(**filters: object) -> list[str]:
        return [o["id"] for o in btc.fetch_orders(**filters)]  # type: ignore[arg-type]

    assert ids() == [a, b, c, d, e]
    assert ids(status="open") == [a, b, e]
    assert ids(status="closed") == [c]
    assert ids(status="canceled") == [d]
    assert ids(symbol="ETH/USDT") == [b, d]
    assert ids(status="open", symbol="BTC/USDT") == [a, e]
    assert ids(tail=2) == [d, e]
    assert ids(status="open", tail=1) == [e]
    assert ids(symbol="BTC/USDT", tail=2) == [c, e]
    assert ids(symbol="DOGE/USDT") == []
    assert ids(tail=100) == [a, b, c, d, e]


def test_fetch_orders_pages_through_more_than_one_chunk(btc: Engine) -> None:
    created = [btc.create_order("ETH/USDT", "buy", "limit", "0.01", "1000")["id"] for _ in range(520)]
    btc.create_order("BTC/USDT", "buy", "limit", "0.001", "1000")
    assert [o["id"] for o in btc.fetch_orders(symbol="ETH/USDT")] == created
    assert [o["id"] for o in btc.fetch_orders(status="open", symbol="ETH/USDT", tail=515)] == created[-515:]
    assert len(btc.fetch_orders()) == 521


def test_order_trades_and_fetch_my_trades(make_engine: EngineFactory) -> None:
    replay = make_engine(clock=ReplayClock())
    t0 = 1_700_000_000_000
    replay.set_price("BTC/USDT", "50000", timestamp=t0)
    replay.set_price("ETH/USDT", "2500", timestamp=t0)
    replay.fund("USDT", "100000")
    replay.fund("ETH", "10")
    resting = replay.create_order("BTC/USDT", "buy", "limit", "0.1", "40000")
    assert replay.order_trades(resting["id"]) == []
    market = replay.create_order("ETH/USDT", "sell", "market", "2")
    (trade,) = replay.order_trades(market["id"])
    assert (trade["id"], trade["order"], trade["symbol"], trade["side"]) == (
        market["id"],
        market["id"],
        "ETH/USDT",
        "sell",
    )
    assert (trade["price"], trade["amount"], trade["cost"]) == (Decimal(2500), Decimal(2), Decimal(5000))
    assert trade["fee"] == {"currency": "USDT", "cost": Decimal(5), "rate": Decimal("0.001")}
    assert (trade["takerOrMaker"], trade["type"], trade["timestamp"]) == ("taker", "market", t0)
    assert trade["datetime"] == "2023-11-14T22:13:20.000Z"
    replay.set_price("BTC/USDT", "39000", timestamp=t0 + 5000)
    (fill,) = replay.order_trades(resting["id"])
    assert (fill["price"], fill["takerOrMaker"], fill["timestamp"]) == (Decimal(40000), "maker", t0 + 5000)
    replay.set_price("ETH/USDT", "2600", timestamp=t0 + 9000)
    later = replay.create_order("ETH/USDT", "buy", "market", "1")

    def trade_ids(**filters: object) -> list[str]:
        return [t["id"] for t in replay.fetch_my_trades(**filters)]  # type: ignore[arg-type]

    assert trade_ids() == [market["id"], resting["id"], later["id"]]  # by fill time, not by id
    assert trade_ids(symbol="ETH/USDT") == [market["id"], later["id"]]
    assert trade_ids(symbol="BTC/USDT") == [resting["id"]]
    assert trade_ids(since=t0 + 5000) == [resting["id"], later["id"]]
    assert trade_ids(since=t0 + 5001) == [later["id"]]
    assert trade_ids(limit=2) == [resting["id"], later["id"]]
    assert trade_ids(symbol="ETH/USDT", since=t0, limit=1) == [market["id"]]  # the first at or after since
    assert trade_ids(since=t0 + 10_000) == []


def test_fetch_my_trades_rejects_a_non_positive_limit(btc: Engine) -> None:
    btc.create_order("BTC/USDT", "buy", "market", "0.01")
    btc.create_order("BTC/USDT", "buy", "market", "0.01")
    for limit in (-1, 0):
        with pytest.raises(BadRequest):
            btc.fetch_my_trades(limit=limit)


def test_reset_wipes_balances_and_orders_but_keeps_prices_history_and_ids(btc: Engine) -> None:
    btc.fund("ETH", "1")
    resting = btc.create_order("BTC/USDT", "buy", "limit", "0.1", "40000", client_order_id="again")
    btc.create_order("ETH/USDT", "sell", "limit", "1", "3000")
    last = int(btc.create_order("BTC/USDT", "buy", "market", "0.01")["id"])
    btc.reset()
    assert btc.fetch_balance()["total"] == {}
    assert btc.fetch_orders() == [] and btc.fetch_my_trades() == []
    assert sorted(btc.tickers()) == ["BTC/USDT", "ETH/USDT"]
    leftovers = [k for k in keyspace(btc) if k.startswith("mockx:{main}:") and not k.endswith(":seq")]
    assert leftovers == []  # the symbols' holder sets (in the feeds' slots) keep naming the account
    assert len(btc.ohlcv("BTC/USDT")) == 1  # market data is not the account's
    assert btc.set_price("BTC/USDT", "30000") == 0  # the wiped book fills nothing
    btc.fund("USDT", "100")
    fresh = btc.create_order("BTC/USDT", "buy", "market", "0.001", client_order_id="again")
    assert int(fresh["id"]) > last
    assert fresh["id"] != resting["id"]
    assert btc.balance("USDT")["total"] == Decimal("69.97")


def test_reset_refuses_a_stale_list_of_symbols_and_changes_nothing(btc: Engine) -> None:
    """The race reset closes: the caller read the traded symbols, then an order on a new symbol came in. The
    script sees the set grew and wipes nothing (reset then reads again), so that symbol's book is not left."""
    btc.create_order("BTC/USDT", "buy", "limit", "0.1", "40000")
    seen = sorted(btc.store.read("SMEMBERS", btc.keys.traded_symbols))
    btc.create_order("ETH/USDT", "buy", "limit", "1", "2000")  # a symbol traded for the first time
    before = keyspace(btc)
    stale = [key for key in btc.keys.account_keys(seen) if key != btc.keys.traded_symbols]
    assert btc.store.run("reset", [btc.keys.traded_symbols, *stale], [len(seen)]) == 0
    assert keyspace(btc) == before
    btc.reset()
    assert [k for k in keyspace(btc) if k.startswith("mockx:{main}:") and not k.endswith(":seq")] == []
