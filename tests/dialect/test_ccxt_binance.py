"""An unmodified ccxt.binance, sync and async, in sandbox mode with its test URLs pointed at the mock: every
unified call a spot bot makes, checked with ccxt's own structure validators and against exact figures."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import ccxt
import pytest
from ccxt.test.exchange.base.test_balance import test_balance as check_balance
from ccxt.test.exchange.base.test_market import test_market as check_market
from ccxt.test.exchange.base.test_order import test_order as check_order
from ccxt.test.exchange.base.test_ticker import test_ticker as check_ticker
from ccxt.test.exchange.base.test_trade import test_trade as check_trade
from ccxt.test.exchange.base.test_trading_fee import test_trading_fee as check_trading_fee
from tests_helpers import keyspace

from mockexchange_ccxt import Engine

from .support import MODES, in_mode, run


@pytest.mark.parametrize("mode", MODES)
def test_market_data(facade: tuple[str, Engine], mode: str) -> None:
    url, _ = facade

    async def scenario(ex: Any) -> None:
        markets = await run(ex, "load_markets")
        assert sorted(markets) == ["BTC/USDT", "ETH/USDT"]
        for market in markets.values():
            check_market(ex, {}, "fetchMarkets", market)
            assert market["spot"] and market["active"] and market["type"] == "spot"
            assert market["precision"]["amount"] == 1e-8 and market["precision"]["price"] == 1e-8
            assert market["info"]["orderTypes"][:3] == ["LIMIT", "LIMIT_MAKER", "MARKET"]
        assert abs(await run(ex, "fetch_time") - ex.milliseconds()) < 5_000
        ticker = await run(ex, "fetch_ticker", "ETH/USDT")
        check_ticker(ex, {}, "fetchTicker", ticker, "ETH/USDT")
        assert (ticker["last"], ticker["bid"], ticker["ask"]) == (2500.0, 2499.5, 2500.5)
        assert ticker["info"]["lastPrice"] == "2500.00000000"
        tickers = await run(ex, "fetch_tickers")
        assert sorted(tickers) == ["BTC/USDT", "ETH/USDT"]
        for symbol, entry in tickers.items():
            check_ticker(ex, {}, "fetchTickers", entry, symbol)
        assert sorted(await run(ex, "fetch_tickers", ["BTC/USDT"])) == ["BTC/USDT"]
        assert (await run(ex, "fetch_last_prices"))["BTC/USDT"]["price"] == 50000.0
        assert (await run(ex, "fetch_bids_asks", ["ETH/USDT"]))["ETH/USDT"]["ask"] == 2500.5
        fees = await run(ex, "fetch_trading_fees")
        assert sorted(fees) == ["BTC/USDT", "ETH/USDT"]
        check_trading_fee(ex, {}, "fetchTradingFees", "BTC/USDT", fees["BTC/USDT"])
        assert (fees["BTC/USDT"]["maker"], fees["BTC/USDT"]["taker"]) == (0.001, 0.001)
        assert await run(ex, "fetch_trades", "BTC/USDT") == []
        assert (await run(ex, "fetch_status"))["status"] == "ok"

    in_mode(mode, url, scenario)


@pytest.mark.parametrize("mode", MODES)
def test_trading(facade: tuple[str, Engine], mode: str) -> None:
    url, engine = facade

    async def scenario(ex: Any) -> None:
        now = ex.milliseconds()
        await run(ex, "load_markets")
        bought = await run(ex, "create_order", "BTC/USDT", "market", "buy", 0.1)
        assert (bought["status"], bought["filled"], bought["cost"], bought["average"]) == ("closed", 0.1, 5000.0, 50000)
        assert bought["fee"] == {"currency": "USDT", "cost": 5.0}
        take_profit = await run(ex, "create_order", "BTC/USDT", "limit", "sell", 0.05, 60000, {"clientOrderId": "tp-1"})
        dip = await run(ex, "create_order", "BTC/USDT", "limit", "buy", 0.1, 40000)
        assert (take_profit["status"], take_profit["clientOrderId"], dip["status"]) == ("open", "tp-1", "open")
        for order in (bought, take_profit, dip):
            check_order(ex, {}, "createOrder", order, "BTC/USDT", now)
        assert (await run(ex, "fetch_order", dip["id"], "BTC/USDT"))["price"] == 40000
        by_client_id = await run(ex, "fetch_order", None, "BTC/USDT", {"clientOrderId": "tp-1"})
        assert by_client_id["id"] == take_profit["id"]
        assert sorted(o["id"] for o in await run(ex, "fetch_open_orders", "BTC/USDT")) == sorted(
            [take_profit["id"], dip["id"]]
        )
        assert len(await run(ex, "fetch_open_orders")) == 2
        balance = await run(ex, "fetch_balance")
        check_balance(ex, {}, "fetchBalance", balance)
        assert balance["BTC"] == {"free": 0.05, "used": 0.05, "total": 0.1}
        assert balance["USDT"]["used"] == 4004.0  # 0.1 * 40,000 plus the 0.1 % maker fee, reserved

        engine.set_price("BTC/USDT", "61000")  # the take-profit fills at its limit, as a maker
        filled = await run(ex, "fetch_order", take_profit["id"], "BTC/USDT")
        assert (filled["status"], filled["filled"], filled["cost"]) == ("closed", 0.05, 3000.0)
        closed = await run(ex, "fetch_closed_orders", "BTC/USDT")
        assert sorted(o["id"] for o in closed) == sorted([bought["id"], take_profit["id"]])
        trades = await run(ex, "fetch_my_trades", "BTC/USDT")
        assert [(t["order"], t["side"], t["takerOrMaker"], t["price"]) for t in trades] == [
            (bought["id"], "buy", "taker", 50000),
            (take_profit["id"], "sell", "maker", 60000),
        ]
        for trade in trades:
            check_trade(ex, {}, "fetchMyTrades", trade, "BTC/USDT", now, False)
        later = await run(ex, "fetch_my_trades", "BTC/USDT", trades[1]["timestamp"])
        assert [t["order"] for t in later] == [take_profit["id"]]
        assert len(await run(ex, "fetch_orders", "BTC/USDT", now - 1000, 2)) == 2
        canceled = await run(ex, "cancel_order", dip["id"], "BTC/USDT")
        assert (canceled["status"], canceled["id"]) == ("canceled", dip["id"])
        a = await run(ex, "create_order", "BTC/USDT", "limit", "buy", 0.01, 30000)
        b = await run(ex, "create_order", "ETH/USDT", "limit", "buy", 1, 2000)
        all_canceled = await run(ex, "cancel_all_orders", "BTC/USDT")
        assert [(o["id"], o["status"]) for o in all_canceled] == [(a["id"], "canceled")]
        assert [o["id"] for o in await run(ex, "fetch_open_orders", "ETH/USDT")] == [b["id"]]
        assert [o["status"] for o in await run(ex, "fetch_canceled_orders", "BTC/USDT")] == ["canceled"] * 2
        assert len(await run(ex, "fetch_orders", "BTC/USDT")) == 4

    in_mode(mode, url, scenario)
    balance = engine.fetch_balance()  # exact: what ccxt.binance saw as floats
    assert balance["BTC"] == {"free": Decimal("0.05"), "used": 0, "total": Decimal("0.05")}
    assert balance["USDT"]["total"] == 100000 - (5000 + 5) + (3000 - 3)
    assert balance["USDT"]["used"] == 2000 + 2  # the open ETH limit's reservation


@pytest.mark.parametrize("mode", MODES)
def test_errors_are_ccxts_classes(facade: tuple[str, Engine], mode: str) -> None:
    url, engine = facade

    async def scenario(ex: Any) -> None:
        await run(ex, "load_markets")
        before = keyspace(engine)
        with pytest.raises(ccxt.InsufficientFunds):
            await run(ex, "create_order", "BTC/USDT", "market", "buy", 3)
        with pytest.raises(ccxt.InvalidOrder):  # the engine's limit: a price above 2^53 units
            await run(ex, "create_order", "BTC/USDT", "limit", "buy", 0.001, 100_000_000)
        with pytest.raises(ccxt.OrderNotFound):
            await run(ex, "fetch_order", "424242", "BTC/USDT")
        with pytest.raises(ccxt.OrderNotFound):
            await run(ex, "cancel_order", "424242", "BTC/USDT")
        with pytest.raises(ccxt.OrderNotFound):  # nothing open to cancel, as on Binance
            await run(ex, "cancel_all_orders", "BTC/USDT")
        assert keyspace(engine) == before
        order = await run(ex, "create_order", "BTC/USDT", "limit", "buy", 0.01, 40000, {"clientOrderId": "same"})
        with pytest.raises(ccxt.InvalidOrder):  # Binance's "Duplicate order sent." (ccxt maps -2010 to InvalidOrder)
            await run(ex, "create_order", "BTC/USDT", "limit", "buy", 0.01, 40000, {"clientOrderId": "same"})
        await run(ex, "cancel_order", order["id"], "BTC/USDT")
        with pytest.raises(ccxt.OrderNotFound):  # canceling an order that is no longer open: -2011
            await run(ex, "cancel_order", order["id"], "BTC/USDT")
        with pytest.raises(ccxt.OrderNotFound):  # an order of another symbol is not found under this one
            await run(ex, "fetch_order", order["id"], "ETH/USDT")

    in_mode(mode, url, scenario)


@pytest.mark.parametrize("mode", MODES)
def test_auth_errors(facade: tuple[str, Engine], mode: str) -> None:
    url, _ = facade

    async def wrong(ex: Any) -> None:
        with pytest.raises(ccxt.AuthenticationError):
            await run(ex, "fetch_balance")

    in_mode(mode, url, wrong, secret="not-the-secret")
    in_mode(mode, url, wrong, key="not-a-key")

    async def skewed(ex: Any) -> None:
        ex.options["timeDifference"] = 30_000  # the client's clock 30 s behind: older than recvWindow (10 s)
        with pytest.raises(ccxt.InvalidNonce):
            await run(ex, "fetch_balance")
        ex.options["timeDifference"] = -5_000  # 5 s ahead of the server
        with pytest.raises(ccxt.InvalidNonce):
            await run(ex, "fetch_balance")
        ex.options["adjustForTimeDifference"] = True
        await run(ex, "load_time_difference")
        assert (await run(ex, "fetch_balance"))["USDT"]["free"] == 100000

    in_mode(mode, url, skewed)
