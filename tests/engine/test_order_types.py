"""Order types and parameters (issue: orders behave like a real exchange's): time in force, post-only, trigger
orders from every price source, market buys by cost, and what bad input gets (the rules on every path are
checked against the model in test_order_oracle.py)."""

from __future__ import annotations

import json
import math
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from books import UNIT, check_books
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests_helpers import keyspace, wait_for

from mockexchange_ccxt import Engine, ReplayClock
from mockexchange_ccxt.errors import (
    BadRequest,
    InsufficientFunds,
    InvalidOrder,
    NotSupported,
    OrderImmediatelyFillable,
)

from .conftest import EngineFactory


def test_ioc_and_fok_that_cannot_fill_are_stored_canceled_and_hold_nothing(btc: Engine) -> None:
    for tif in ("IOC", "FOK"):
        order = btc.create_order("BTC/USDT", "buy", "limit", "0.1", "49000", time_in_force=tif)
        assert (order["status"], order["filled"], order["remaining"], order["timeInForce"]) == (
            "canceled",
            0,
            Decimal("0.1"),
            tif,
        )
        assert order["info"]["reason"] == f"{tif}: nothing could fill at once"
        assert btc.fetch_order(order["id"]) == order
        filled = btc.create_order("BTC/USDT", "buy", "limit", "0.1", "51000", time_in_force=tif)
        assert (filled["status"], filled["average"]) == ("closed", Decimal(50000))
    assert btc.fetch_orders(status="open") == []
    assert btc.fetch_balance()["used"] == {"BTC": 0, "USDT": 0}
    assert btc.set_price("BTC/USDT", "40000") == 0  # nothing rests


def test_an_ioc_needs_the_funds_it_would_reserve(btc: Engine) -> None:
    before = keyspace(btc)
    with pytest.raises(Exception) as refused:
        btc.create_order("BTC/USDT", "buy", "limit", "3", "40000", time_in_force="IOC")
    assert refused.value.code == "INSUFFICIENT_FUNDS"  # type: ignore[attr-defined]
    assert keyspace(btc) == before


@pytest.mark.parametrize("spelling", [{"post_only": True}, {"time_in_force": "PO"}, {"type": "limit_maker"}])
def test_post_only_rests_or_is_refused_without_a_trace(btc: Engine, spelling: dict[str, Any]) -> None:
    flags = dict(spelling)
    type_name = flags.pop("type", "limit")
    before = keyspace(btc)
    with pytest.raises(OrderImmediatelyFillable) as refused:
        btc.create_order("BTC/USDT", "buy", type_name, "0.1", "50000", **flags)
    assert refused.value.http_status == 400 and "would take liquidity" in refused.value.message
    assert keyspace(btc) == before
    resting = btc.create_order("BTC/USDT", "buy", type_name, "0.1", "49999", **flags)
    assert (resting["status"], resting["postOnly"], resting["timeInForce"]) == ("open", True, "PO")
    assert btc.set_price("BTC/USDT", "49000") == 1
    assert btc.fetch_order(resting["id"])["fee"]["rate"] == Decimal("0.001")  # maker


def test_neutral_values_of_known_flags_are_accepted(btc: Engine) -> None:
    order = btc.create_order(
        "BTC/USDT", "buy", "limit", "0.1", "40000", time_in_force="GTC", post_only=False, reduce_only=False
    )
    assert (order["status"], order["timeInForce"], order["postOnly"]) == ("open", "GTC", False)
    market = btc.create_order("BTC/USDT", "buy", "market", "0.01", time_in_force="IOC", reduce_only=False)
    assert market["status"] == "closed"


# -- trigger orders ------------------------------------------------------------------------------------------


def test_the_issues_stop_loss_no_longer_sells_at_once(btc: Engine) -> None:
    btc.fund("BTC", "0.01")
    order = btc.create_order("BTC/USDT", "sell", "market", "0.01", stop_loss_price="40000")
    assert (order["status"], order["type"], order["filled"]) == ("open", "market", 0)
    assert (order["triggerPrice"], order["stopPrice"], order["stopLossPrice"]) == (Decimal(40000),) * 3
    assert order["takeProfitPrice"] is None
    assert [o["id"] for o in btc.fetch_orders(status="open")] == [order["id"]]
    assert btc.balance("BTC") == {"free": 0, "used": Decimal("0.01"), "total": Decimal("0.01")}
    assert btc.set_price("BTC/USDT", "40001") == 0
    assert btc.set_price("BTC/USDT", "40000") == 1  # touch counts
    filled = btc.fetch_order(order["id"])
    assert (filled["status"], filled["average"], filled["fee"]["rate"]) == ("closed", Decimal(40000), Decimal("0.001"))
    assert filled["info"]["triggerTimestamp"] == filled["lastTradeTimestamp"]
    check_books(btc, {"USDT": Decimal(100000), "BTC": Decimal("0.01")})


@pytest.mark.parametrize(
    ("side", "flags", "crossed"),
    [
        ("sell", {"stop_loss_price": "50000"}, "at or below"),
        ("sell", {"stop_loss_price": "51000"}, "above"),
        ("buy", {"stop_loss_price": "49000"}, "below"),
        ("sell", {"take_profit_price": "49000"}, "below"),
        ("buy", {"take_profit_price": "51000"}, "above"),
        ("buy", {"trigger_price": "50000"}, "at"),
    ],
)
def test_a_trigger_already_reached_is_refused(btc: Engine, side: str, flags: dict[str, str], crossed: str) -> None:
    btc.fund("BTC", "1")
    before = keyspace(btc)
    with pytest.raises(OrderImmediatelyFillable, match="would trigger immediately"):
        btc.create_order("BTC/USDT", side, "market", "0.1", **flags)
    assert keyspace(btc) == before


def test_a_generic_trigger_fires_from_the_side_it_was_on(btc: Engine) -> None:
    btc.fund("BTC", "1")
    above = btc.create_order("BTC/USDT", "sell", "market", "0.1", trigger_price="52000")  # fires rising
    below = btc.create_order("BTC/USDT", "sell", "market", "0.1", trigger_price="48000")  # fires falling
    assert btc.set_price("BTC/USDT", "51999") == 0
    assert btc.set_price("BTC/USDT", "52000") == 1
    assert btc.fetch_order(above["id"])["status"] == "closed"
    assert btc.fetch_order(below["id"])["status"] == "open"
    assert btc.set_price("BTC/USDT", "47000") == 1
    assert btc.fetch_order(below["id"])["average"] == Decimal(47000)


def test_a_triggered_limit_rests_at_its_limit_and_holds_the_maker_reservation(btc: Engine) -> None:
    order = btc.create_order("BTC/USDT", "buy", "stop_loss_limit", "0.1", "52000", stop_price="53000")
    assert btc.balance("USDT")["used"] == Decimal("5205.2")  # 5200 + the higher fee (taker = maker here)
    assert btc.set_price("BTC/USDT", "53500") == 0  # fired: ask 53,500 is above its limit, so it rests
    rested = btc.fetch_order(order["id"])
    assert (rested["status"], rested["info"]["orderType"]) == ("open", "stop_loss_limit")
    assert "triggerTimestamp" in rested["info"]
    assert btc.store.read("ZRANGE", btc.keys.book("BTC/USDT", "buy"), 0, -1) == [order["id"]]
    assert btc.store.read("ZCARD", btc.keys.triggers("BTC/USDT", "up")) == 0
    assert btc.set_price("BTC/USDT", "51000") == 1
    assert btc.fetch_order(order["id"])["average"] == Decimal(52000)
    check_books(btc, {"USDT": Decimal(100000)})


def test_a_stop_market_buy_pays_the_difference_from_free_or_ends_canceled(engine: Engine) -> None:
    engine.set_price("BTC/USDT", "50000")
    engine.fund("USDT", "5007.001")  # the reservation at the trigger, 5001 + fee 5.001, and 1 more
    order = engine.create_order("BTC/USDT", "buy", "market", "0.1", stop_price="50010")
    assert engine.balance("USDT") == {"free": 1, "used": Decimal("5006.001"), "total": Decimal("5007.001")}
    engine.set_price("BTC/USDT", "50100")  # fills at 50,100: 5010 + 5.01, more than reserved, free covers 1
    ended = engine.fetch_order(order["id"])
    assert ended["status"] == "canceled" and "did not cover the fill" in ended["info"]["reason"]
    assert engine.balance("USDT") == {"free": Decimal("5007.001"), "used": 0, "total": Decimal("5007.001")}
    engine.fund("USDT", "100")
    engine.set_price("BTC/USDT", "50000")
    second = engine.create_order("BTC/USDT", "buy", "market", "0.1", stop_price="50010")
    engine.set_price("BTC/USDT", "50100")
    assert engine.fetch_order(second["id"])["status"] == "closed"
    assert engine.balance("USDT") == {
        "free": Decimal("5107.001") - Decimal("5015.01"),
        "used": 0,
        "total": Decimal("5107.001") - Decimal("5015.01"),
    }


def test_cancel_releases_a_trigger_orders_reservation_exactly(btc: Engine) -> None:
    btc.fund("BTC", "1")
    orders = [
        btc.create_order("BTC/USDT", "buy", "take_profit_limit", "0.1", "45000", stop_price="46000"),
        btc.create_order("BTC/USDT", "sell", "stop_loss", "0.2", stop_price="45000"),
        btc.create_order("BTC/USDT", "buy", "market", "0.05", stop_loss_price="55000"),
    ]
    assert btc.fetch_balance()["used"] != {"BTC": 0, "USDT": 0}
    for order in orders:
        assert btc.cancel_order(order["id"])["status"] == "canceled"
    assert btc.fetch_balance()["used"] == {"BTC": 0, "USDT": 0}
    assert btc.fetch_balance()["total"] == {"BTC": 1, "USDT": 100000}
    assert btc.set_price("BTC/USDT", "40000") == 0 and btc.set_price("BTC/USDT", "60000") == 0


def test_triggers_fire_from_an_outside_feed_through_the_tick_loop(btc: Engine) -> None:
    btc.fund("BTC", "1")
    order = btc.create_order("BTC/USDT", "sell", "stop_loss", "0.1", stop_price="45000")["id"]
    btc.start_tick_loop()
    try:
        btc.store.call("HSET", "sym_BTC/USDT", "price", "44000", "timestamp", str(btc.now_ms()))
        assert wait_for(lambda: btc.fetch_order(order)["status"] == "closed")
    finally:
        btc.stop_tick_loop()
    assert btc.fetch_order(order)["average"] == Decimal(44000)


def test_triggers_fire_in_a_replay_at_the_replayed_time(make_engine: EngineFactory) -> None:
    replay = make_engine(clock=ReplayClock())
    t0 = 1_700_000_000_000
    replay.set_price("BTC/USDT", "50000", timestamp=t0)
    replay.fund("BTC", "1")
    order = replay.create_order("BTC/USDT", "sell", "market", "0.5", take_profit_price="55000")["id"]
    for i, price in enumerate(("52000", "54000", "56000", "53000"), start=1):
        replay.set_price("BTC/USDT", price, timestamp=t0 + 60_000 * i)
    filled = replay.fetch_order(order)
    assert (filled["status"], filled["average"], filled["lastTradeTimestamp"]) == (
        "closed",
        Decimal(56000),
        t0 + 180_000,
    )


# -- market orders by cost --------------------------------------------------------------------------------------


def test_a_market_buy_by_cost_buys_what_the_cost_pays_for(btc: Engine) -> None:
    btc.set_price("BTC/USDT", "50000", bid="49990", ask="50010")
    order = btc.create_order("BTC/USDT", "buy", "market", cost="1000")
    assert order["amount"] == Decimal("0.01999600")  # 1000 / 50010, down to a unit
    assert order["cost"] <= 1000 and order["info"]["quoteOrderQty"] == "1000"
    with pytest.raises(InvalidOrder, match="amount or cost"):
        btc.create_order("BTC/USDT", "buy", "market", "0.1", cost="1000")


def test_a_market_sell_by_cost_sells_what_brings_in_at_most_the_cost(btc: Engine) -> None:
    btc.fund("BTC", "1")
    btc.set_price("BTC/USDT", "50000", bid="49990", ask="50010")
    order = btc.create_order("BTC/USDT", "sell", "market", cost="1000")
    assert order["amount"] == Decimal("0.02000400")  # 1000 / 49990, down to a unit: 999.99996 at the bid
    assert (order["status"], order["average"], order["cost"]) == ("closed", Decimal(49990), Decimal("999.99996"))
    assert order["info"]["quoteOrderQty"] == "1000"
    before = keyspace(btc)
    with pytest.raises(InvalidOrder, match="less than one step"):
        btc.create_order("BTC/USDT", "sell", "market", cost="0.0001")
    with pytest.raises(InvalidOrder, match="only for market orders"):
        btc.create_order("BTC/USDT", "sell", "limit", price="50000", cost="1000")
    with pytest.raises(InsufficientFunds):
        btc.create_order("BTC/USDT", "sell", "market", cost="60000")  # 1.2 BTC: more than the account holds
    assert keyspace(btc) == before
    check_books(btc, {"USDT": Decimal(100000), "BTC": Decimal(1)})


@pytest.fixture
def stepped(make_engine: EngineFactory, tmp_path: Path) -> Engine:
    """BTC/USDT with an amount step of 0.0001 and a taker rate of 0.0007; ETH/USDT with the default step."""
    path = tmp_path / "markets.json"
    path.write_text(json.dumps({"BTC/USDT": {"precision": {"amount": "0.0001"}, "taker": "0.0007"}}))
    return make_engine(markets_file=str(path))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    side=st.sampled_from(["buy", "sell"]),
    symbol=st.sampled_from(["BTC/USDT", "ETH/USDT"]),
    bid=st.decimals("0.01", "90000", places=2),
    spread=st.decimals("0", "50", places=2),
    cost=st.decimals("0.00000001", "200000", places=8),
)
def test_a_market_order_by_cost_trades_the_most_steps_whose_value_at_the_touch_fits(
    stepped: Engine, side: str, symbol: str, bid: Decimal, spread: Decimal, cost: Decimal
) -> None:
    """The rule, against its own statement: the largest multiple of the step whose value at the touch (a buy
    at the ask, a sell at the bid) does not exceed the cost; none at all is InvalidOrder and changes nothing.
    The fill moves exactly that amount, and the books balance to the last unit."""
    engine = stepped
    engine.reset()
    funded = {"USDT": Decimal(10**9), symbol.split("/")[0]: Decimal(10**8)}
    for asset, amount in funded.items():
        engine.fund(asset, amount)
    engine.set_price(symbol, bid, bid=bid, ask=bid + spread)
    touch, step = (bid + spread if side == "buy" else bid), engine.market(symbol).step
    steps = math.floor(Fraction(cost) / (Fraction(step) * Fraction(touch)))  # exact, whatever the magnitudes
    if steps == 0 or (side == "sell" and steps * step * touch < UNIT):  # no step, or proceeds below a unit
        before = keyspace(engine)
        with pytest.raises(InvalidOrder, match=r"less than one step|rounds to zero"):
            engine.create_order(symbol, side, "market", cost=cost)
        assert keyspace(engine) == before
        return
    order = engine.create_order(symbol, side, "market", cost=cost)
    assert order["amount"] == steps * step and order["amount"] * touch <= cost < (order["amount"] + step) * touch
    assert (order["status"], order["filled"], order["average"]) == ("closed", order["amount"], touch)
    check_books(engine, funded)


# -- what bad input gets --------------------------------------------------------------------------------------

BAD = [
    ("unknown time in force", {"time_in_force": "GTD"}, "limit", InvalidOrder, "timeInForce"),
    ("lower-case time in force", {"time_in_force": "ioc"}, "limit", InvalidOrder, "timeInForce"),
    ("trigger price 0", {"trigger_price": "0"}, "market", InvalidOrder, "triggerPrice"),
    ("trigger price NaN", {"stop_loss_price": "NaN"}, "market", InvalidOrder, "stopLossPrice"),
    ("trigger price negative", {"take_profit_price": -5}, "market", InvalidOrder, "takeProfitPrice"),
    ("trigger price infinite", {"stop_price": float("inf")}, "market", InvalidOrder, "stopPrice"),
    ("stop without trigger", {}, "stop_loss", InvalidOrder, "stopPrice"),
    ("limit stop without price", {"stop_price": "40000"}, "take_profit_limit", InvalidOrder, "price"),
    ("postOnly with IOC", {"post_only": True, "time_in_force": "IOC"}, "limit", InvalidOrder, "postOnly"),
    ("PO with postOnly false", {"post_only": False, "time_in_force": "PO"}, "limit", InvalidOrder, "postOnly"),
    ("post-only market", {"post_only": True}, "market", InvalidOrder, "postOnly"),
    ("GTC market", {"time_in_force": "GTC"}, "market", InvalidOrder, "GTC"),
    ("both SL and TP", {"stop_loss_price": "40000", "take_profit_price": "60000"}, "market", InvalidOrder, "not both"),
    ("trigger and SL", {"trigger_price": "40000", "stop_loss_price": "40000"}, "market", InvalidOrder, "one of"),
    ("differing aliases", {"trigger_price": "40000", "stop_price": "41000"}, "market", InvalidOrder, "differ"),
    ("post-only trigger", {"post_only": True, "stop_price": "40000"}, "limit", InvalidOrder, "postOnly"),
    ("reduce-only", {"reduce_only": True}, "limit", NotSupported, "reduceOnly"),
    ("flag not a bool", {"post_only": "yes"}, "limit", BadRequest, "postOnly"),
    ("empty type", {}, "", InvalidOrder, "type"),
    ("binance upper case", {}, "LIMIT", InvalidOrder, "type"),
    ("unknown keyword", {"iceberg_qty": "1"}, "limit", TypeError, "iceberg_qty"),
]


@pytest.mark.parametrize(("flags", "type_name", "error", "named"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_order_input_is_refused_naming_the_field_and_changes_nothing(
    btc: Engine, flags: dict[str, Any], type_name: str, error: type[Exception], named: str
) -> None:
    btc.fund("BTC", "1")
    before = keyspace(btc)
    price = None if type_name in ("market", "stop_loss", "take_profit_limit") else "45000"
    with pytest.raises(error, match=named) as refused:
        btc.create_order("BTC/USDT", "sell", type_name, "0.1", price, **flags)
    if error is not TypeError:
        assert refused.value.http_status in (400, 501)  # type: ignore[attr-defined]
    assert keyspace(btc) == before
