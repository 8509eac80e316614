"""Exact money: decimal funding, fees rounded up to 1e-8, buy costs up and sell proceeds down, maker and
taker rates, and resting orders filling at their own limit price."""

from __future__ import annotations

from decimal import Decimal

import pytest
from books import ceil_unit, fee_of

from mockexchange_ccxt import Engine
from mockexchange_ccxt.errors import InvalidOrder

from .conftest import EngineFactory


def test_funding_point_one_plus_point_two_is_exactly_point_three(engine: Engine) -> None:
    for amount in (0.1, 0.2):
        engine.fund("USDT", amount)
    assert engine.balance("USDT")["free"] == Decimal("0.3")
    assert engine.store.read("HGET", engine.keys.balances, "free:USDT") == "30000000"


def test_buy_cost_and_fee_round_up(engine: Engine) -> None:
    engine.set_price("XYZ/USDT", "12345.67890123")
    engine.fund("USDT", "1000")
    order = engine.create_order("XYZ/USDT", "buy", "market", "0.01")
    # 0.01 * 12345.67890123 = 123.4567890123 -> 123.45678902; fee 0.12345678902 -> 0.12345679
    assert order["cost"] == Decimal("123.45678902")
    assert order["fee"]["cost"] == Decimal("0.12345679")
    assert engine.balance("USDT")["free"] == Decimal(1000) - Decimal("123.45678902") - Decimal("0.12345679")
    assert engine.balance("XYZ")["free"] == Decimal("0.01")


def test_sell_proceeds_round_down_and_fee_rounds_up(engine: Engine) -> None:
    engine.set_price("XYZ/USDT", "12345.67890123")
    engine.fund("XYZ", "1")
    order = engine.create_order("XYZ/USDT", "sell", "market", "0.01")
    assert order["cost"] == Decimal("123.45678901")
    assert order["fee"]["cost"] == Decimal("0.12345679")
    assert engine.balance("USDT")["free"] == Decimal("123.33333222")
    assert engine.balance("XYZ")["free"] == Decimal("0.99")


def test_smallest_trades_cost_at_least_one_unit(engine: Engine) -> None:
    engine.set_price("DUST/USDT", "0.00000001")
    engine.fund("USDT", "1")
    engine.fund("DUST", "1")
    buy = engine.create_order("DUST/USDT", "buy", "market", "0.00000001")
    assert (buy["cost"], buy["fee"]["cost"]) == (Decimal("0.00000001"), Decimal("0.00000001"))
    with pytest.raises(InvalidOrder, match="rounds to zero"):
        engine.create_order("DUST/USDT", "sell", "market", "0.00000001")
    sell = engine.create_order("DUST/USDT", "sell", "market", "1")  # cost 1 unit, fee 1 unit: receives 0
    assert (sell["cost"], sell["fee"]["cost"]) == (Decimal("0.00000001"), Decimal("0.00000001"))
    assert engine.balance("USDT")["free"] == Decimal("0.99999998")


@pytest.mark.parametrize(
    ("amount", "price"),
    [("0.00000001", "50000"), ("0.12345678", "43210.98765432"), ("3", "0.33333333"), ("1234.5678", "99.99999999")],
)
def test_created_order_matches_the_exact_rule(engine: Engine, amount: str, price: str) -> None:
    engine.set_price("XYZ/USDT", price)
    engine.fund("USDT", "1000000")
    engine.fund("XYZ", "10000")
    quoted = engine.can_execute("XYZ/USDT", "buy", "market", amount)
    buy = engine.create_order("XYZ/USDT", "buy", "market", amount)
    cost = ceil_unit(Decimal(amount) * Decimal(price))
    assert buy["cost"] == quoted["cost"] == cost
    assert buy["fee"]["cost"] == quoted["fee"] == fee_of(cost, Decimal("0.001"))
    sell = engine.create_order("XYZ/USDT", "sell", "market", amount)
    assert sell["cost"] == (Decimal(amount) * Decimal(price)).quantize(Decimal("0.00000001"), rounding="ROUND_FLOOR")
    assert engine.balance("XYZ")["total"] == Decimal(10000)
    assert (
        engine.balance("USDT")["total"]
        == Decimal(1000000) - buy["cost"] - buy["fee"]["cost"] + sell["cost"] - sell["fee"]["cost"]
    )


def test_maker_and_taker_rates_apply_to_the_right_fills(make_engine: EngineFactory) -> None:
    tiered = make_engine(maker_commission=Decimal("0.0002"), taker_commission=Decimal("0.004"))
    tiered.set_price("BTC/USDT", "50000")
    tiered.fund("USDT", "100000")
    market = tiered.create_order("BTC/USDT", "buy", "market", "0.1")
    assert market["fee"] == {"currency": "USDT", "cost": Decimal(20), "rate": Decimal("0.004")}
    marketable = tiered.create_order("BTC/USDT", "buy", "limit", "0.1", "55000")
    assert marketable["fee"]["cost"] == Decimal(20) and marketable["average"] == Decimal(50000)
    assert marketable["price"] == Decimal(55000)  # a limit keeps its own price, as on an exchange
    resting = tiered.create_order("BTC/USDT", "buy", "limit", "0.1", "40000")
    assert resting["fee"] == {"currency": "USDT", "cost": 0, "rate": Decimal("0.0002")}
    assert tiered.balance("USDT")["used"] == Decimal("4000.8")
    tiered.set_price("BTC/USDT", "39000")
    filled = tiered.fetch_order(resting["id"])
    assert filled["fee"]["cost"] == Decimal("0.8")
    assert tiered.balance("USDT") == {"free": Decimal("85959.2"), "used": 0, "total": Decimal("85959.2")}
    tiered.fund("BTC", "1")
    maker_sell = tiered.create_order("BTC/USDT", "sell", "limit", "0.5", "41000")
    tiered.set_price("BTC/USDT", "41000")
    assert tiered.fetch_order(maker_sell["id"])["fee"]["cost"] == Decimal("4.1")
    assert tiered.balance("USDT")["total"] == Decimal("85959.2") + Decimal(20500) - Decimal("4.1")


def test_zero_commission_charges_nothing(make_engine: EngineFactory) -> None:
    free = make_engine(commission=Decimal(0))
    free.set_price("BTC/USDT", "50000")
    free.fund("USDT", "5000")
    order = free.create_order("BTC/USDT", "buy", "market", "0.1")
    assert order["fee"]["cost"] == 0
    assert free.balance("USDT")["total"] == 0
    assert free.balance("BTC")["total"] == Decimal("0.1")


def test_resting_orders_fill_at_their_limit_when_the_price_gaps_through(btc: Engine) -> None:
    btc.fund("BTC", "1")
    buy = btc.create_order("BTC/USDT", "buy", "limit", "0.1", "49000")
    sell = btc.create_order("BTC/USDT", "sell", "limit", "0.5", "51000")
    assert btc.set_price("BTC/USDT", "30000") == 1
    filled_buy = btc.fetch_order(buy["id"])
    assert (filled_buy["average"], filled_buy["cost"], filled_buy["fee"]["cost"]) == (
        Decimal(49000), Decimal(4900), Decimal("4.9"),
    )  # fmt: skip
    assert btc.set_price("BTC/USDT", "70000") == 1
    filled_sell = btc.fetch_order(sell["id"])
    assert (filled_sell["average"], filled_sell["cost"], filled_sell["fee"]["cost"]) == (
        Decimal(51000), Decimal(25500), Decimal("25.5"),
    )  # fmt: skip
    assert btc.balance("BTC") == {"free": Decimal("0.6"), "used": 0, "total": Decimal("0.6")}
    expected_usdt = Decimal(100000) - Decimal("4904.9") + Decimal(25500) - Decimal("25.5")
    assert btc.balance("USDT") == {"free": expected_usdt, "used": 0, "total": expected_usdt}


def test_a_limit_exactly_at_the_price_fills_and_one_unit_away_rests(btc: Engine) -> None:
    btc.fund("BTC", "1")
    away_buy = btc.create_order("BTC/USDT", "buy", "limit", "0.1", "49999.99999999")
    away_sell = btc.create_order("BTC/USDT", "sell", "limit", "0.1", "50000.00000001")
    assert (away_buy["status"], away_sell["status"]) == ("open", "open")
    feed = "sym_BTC/USDT"
    # an outside feed may write more decimals than set_price accepts: half a unit must not cross a limit
    btc.store.call("HSET", feed, "price", "49999.999999995", "timestamp", "1700000000")
    assert btc.process_price_tick("BTC/USDT") == 0
    btc.store.call("HSET", feed, "price", "49999.99999999")
    assert btc.process_price_tick("BTC/USDT") == 1
    btc.store.call("HSET", feed, "price", "50000.000000005")
    assert btc.process_price_tick("BTC/USDT") == 0
    btc.store.call("HSET", feed, "price", "50000.00000001")
    assert btc.process_price_tick("BTC/USDT") == 1
    assert btc.fetch_order(away_buy["id"])["cost"] == Decimal("4999.999999999").quantize(
        Decimal("1e-8"), "ROUND_CEILING"
    )
