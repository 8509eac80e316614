"""Balances: fund, balance, fetch_balance (ccxt-unified), edit_balance, and account isolation."""

from __future__ import annotations

from decimal import Decimal

import pytest
from tests_helpers import keyspace

from mockexchange_ccxt import Engine
from mockexchange_ccxt.errors import BadRequest

from .conftest import EngineFactory


def test_fund_adds_exactly(engine: Engine) -> None:
    engine.fund("USDT", 0.1)
    assert engine.fund("USDT", 0.2) == {"free": Decimal("0.3"), "used": Decimal(0), "total": Decimal("0.3")}
    engine.fund("BTC", "0.1")
    engine.fund("BTC", Decimal("0.2"))
    assert engine.balance("BTC")["free"] == Decimal("0.3")
    engine.fund("ETH", 7)
    engine.fund("ETH", "0.00000001")
    assert engine.balance("ETH")["total"] == Decimal("7.00000001")
    assert engine.store.read("HGET", engine.keys.balances, "free:ETH") == "700000001"


def test_balance_of_an_asset_never_held_is_zero(engine: Engine) -> None:
    assert engine.balance("DOGE") == {"free": 0, "used": 0, "total": 0}
    assert engine.fetch_balance()["total"] == {}


def test_fetch_balance_is_ccxt_unified(btc: Engine) -> None:
    btc.create_order("BTC/USDT", "buy", "market", "0.1")  # 5000 + 5 fee
    btc.create_order("BTC/USDT", "buy", "limit", "0.1", "40000")  # holds 4000 + 4 fee
    btc.create_order("BTC/USDT", "sell", "limit", "0.04", "60000")  # holds 0.04 BTC
    balance = btc.fetch_balance()
    assert balance["USDT"] == {"free": Decimal("90991"), "used": Decimal("4004"), "total": Decimal("94995")}
    assert balance["BTC"] == {"free": Decimal("0.06"), "used": Decimal("0.04"), "total": Decimal("0.1")}
    assert balance["free"] == {"BTC": Decimal("0.06"), "USDT": Decimal("90991")}
    assert balance["used"] == {"BTC": Decimal("0.04"), "USDT": Decimal("4004")}
    assert balance["total"] == {"BTC": Decimal("0.1"), "USDT": Decimal("94995")}
    for asset in ("BTC", "USDT"):
        assert balance[asset]["total"] == balance[asset]["free"] + balance[asset]["used"]
    assert balance["info"]["USDT"] == {"free": "90991", "used": "4004", "total": "94995"}
    assert isinstance(balance["timestamp"], int)
    assert balance["datetime"].endswith("Z")
    assert btc.balance("USDT") == balance["USDT"]


def test_edit_balance_sets_exact_values(btc: Engine) -> None:
    assert btc.edit_balance("USDT", free="123.45") == {
        "free": Decimal("123.45"),
        "used": Decimal(0),
        "total": Decimal("123.45"),
    }
    assert btc.edit_balance("USDT", used="10") == {
        "free": Decimal("123.45"),
        "used": Decimal(10),
        "total": Decimal("133.45"),
    }
    assert btc.edit_balance("BTC", free=0, used=0) == {"free": 0, "used": 0, "total": 0}
    assert btc.fetch_balance()["total"]["USDT"] == Decimal("133.45")


def test_edit_balance_used_may_not_drop_below_what_open_orders_hold(btc: Engine) -> None:
    btc.create_order("BTC/USDT", "buy", "limit", "0.1", "40000")  # holds 4004 USDT
    assert btc.edit_balance("USDT", used="5000")["used"] == Decimal(5000)  # an admin set-aside on top
    assert btc.edit_balance("USDT", used="4004")["used"] == Decimal(4004)  # exactly what is held is fine
    before = keyspace(btc)
    with pytest.raises(BadRequest) as caught:
        btc.edit_balance("USDT", used="4003.99999999")
    assert (caught.value.code, caught.value.http_status) == ("BAD_REQUEST", 400)
    with pytest.raises(BadRequest):
        btc.edit_balance("USDT", free="1", used="0")  # refused as a whole: free is not changed either
    assert keyspace(btc) == before
    # the order's cancel and fill stay covered
    order = btc.fetch_orders(status="open")[0]
    btc.cancel_order(order["id"])
    assert btc.balance("USDT") == {"free": Decimal(100000), "used": 0, "total": Decimal(100000)}


def test_edit_balance_after_set_aside_then_fill(btc: Engine) -> None:
    btc.create_order("BTC/USDT", "buy", "limit", "0.1", "40000")
    btc.edit_balance("USDT", used="5004")  # 1000 set aside by the admin
    btc.set_price("BTC/USDT", "39000")
    assert btc.balance("USDT") == {"free": Decimal(95996), "used": Decimal(1000), "total": Decimal(96996)}
    assert btc.balance("BTC")["free"] == Decimal("0.1")


def test_accounts_and_prefixes_are_isolated(engine: Engine, make_engine: EngineFactory) -> None:
    other = make_engine(account="alice")
    prefixed = make_engine(key_prefix="other:")
    engine.set_price("BTC/USDT", "50000")
    engine.fund("USDT", "100")
    other.fund("USDT", "7")
    prefixed.fund("USDT", "9")
    assert engine.balance("USDT")["total"] == 100
    assert other.balance("USDT")["total"] == 7
    assert prefixed.balance("USDT")["total"] == 9
    assert other.ticker("BTC/USDT")["last"] == 50000  # prices are shared
    other.create_order("BTC/USDT", "buy", "market", "0.0001")
    assert engine.fetch_orders() == []
    assert engine.store.read("EXISTS", "mockx:{alice}:balances") == 1
    assert engine.store.read("EXISTS", "other:{main}:balances") == 1
