"""Every unified structure passes ccxt's own validators (shipped in the ccxt wheel) and our type checks."""

from __future__ import annotations

from typing import Any

from ccxt.test.exchange.base.test_balance import test_balance as check_balance
from ccxt.test.exchange.base.test_market import test_market as check_market
from ccxt.test.exchange.base.test_order import test_order as check_order
from ccxt.test.exchange.base.test_order_book import test_order_book as check_order_book
from ccxt.test.exchange.base.test_status import test_status as check_status
from ccxt.test.exchange.base.test_ticker import test_ticker as check_ticker
from ccxt.test.exchange.base.test_trade import test_trade as check_trade
from ccxt.test.exchange.base.test_trading_fee import test_trading_fee as check_trading_fee

from mockexchange_ccxt import MockExchange

NUMBER_FIELDS = {
    "order": ("price", "amount", "filled", "remaining", "cost"),
    "trade": ("price", "amount", "cost"),
    "ticker": ("bid", "ask", "last", "close"),
}


def assert_numbers(entry: dict[str, Any], fields: tuple[str, ...]) -> None:
    """ccxt's validators accept numeric strings; a bot does arithmetic, so numbers must be floats."""
    for name in fields:
        assert isinstance(entry[name], float), f"{name} is {type(entry[name]).__name__}: {entry[name]!r}"
    if "fee" in entry and entry["fee"] is not None:
        assert isinstance(entry["fee"]["cost"], float)


def test_markets_pass_ccxt_checks(funded: MockExchange) -> None:
    markets = funded.fetch_markets()
    assert sorted(m["symbol"] for m in markets) == ["BTC/USDT", "ETH/USDT"]
    for market in markets:
        check_market(funded, {}, "fetchMarkets", market)
        assert market["precision"]["amount"] == 1e-8
        assert market["taker"] == 0.001 and market["maker"] == 0.001
    assert funded.amount_to_precision("BTC/USDT", 0.123456789) == "0.12345678"
    assert funded.price_to_precision("BTC/USDT", 50000.123456789) == "50000.12345679"


def test_ticker_and_tickers(funded: MockExchange) -> None:
    ticker = funded.fetch_ticker("BTC/USDT")
    check_ticker(funded, {}, "fetchTicker", ticker, "BTC/USDT")
    assert_numbers(ticker, NUMBER_FIELDS["ticker"])
    assert ticker["last"] == 50000.0
    tickers = funded.fetch_tickers()
    assert set(tickers) == {"BTC/USDT", "ETH/USDT"}
    for symbol, entry in tickers.items():
        check_ticker(funded, {}, "fetchTickers", entry, symbol)
    assert set(funded.fetch_tickers(["ETH/USDT"])) == {"ETH/USDT"}


def test_orders_trades_and_balance(funded: MockExchange) -> None:
    now = funded.milliseconds()
    market = funded.create_order("BTC/USDT", "market", "buy", 0.05)
    resting = funded.create_order("BTC/USDT", "limit", "sell", 0.02, 60000, {"clientOrderId": "tp-1"})
    canceled = funded.cancel_order(funded.create_order("BTC/USDT", "limit", "buy", 0.01, 40000)["id"])
    for order in (market, resting, canceled, funded.fetch_order(resting["id"])):
        check_order(funded, {}, "createOrder", order, "BTC/USDT", now)
        assert_numbers(order, NUMBER_FIELDS["order"])
    assert [market["status"], resting["status"], canceled["status"]] == ["closed", "open", "canceled"]
    assert resting["clientOrderId"] == "tp-1"
    trades = funded.fetch_my_trades("BTC/USDT")
    assert [t["order"] for t in trades] == [market["id"]]
    for trade in trades:
        check_trade(funded, {}, "fetchMyTrades", trade, "BTC/USDT", now, False)
        assert_numbers(trade, NUMBER_FIELDS["trade"])
    balance = funded.fetch_balance()
    check_balance(funded, {}, "fetchBalance", balance)
    assert balance["BTC"] == {"free": 0.03, "used": 0.02, "total": 0.05}
    assert balance["USDT"]["total"] == 100000 - 2500 - 2.5


def test_fees_book_status(funded: MockExchange) -> None:
    now = funded.milliseconds()
    fee = funded.fetch_trading_fee("BTC/USDT")
    check_trading_fee(funded, {}, "fetchTradingFee", "BTC/USDT", fee)
    fees = funded.fetch_trading_fees()
    assert set(fees) == {"BTC/USDT", "ETH/USDT"}
    flat = funded.fetch_order_book("BTC/USDT")  # bid = ask = last: the synthetic book opens one 10 bps step
    check_order_book(funded, {}, "fetchOrderBook", flat, "BTC/USDT")
    assert flat["bids"][0][0] == 49975.0 and flat["asks"][0][0] == 50025.0
    assert flat["info"] == {"synthetic": True} and len(flat["bids"]) == len(flat["asks"]) == 20
    funded.set_price("BTC/USDT", 50000, bid=49990, ask=50010)
    book = funded.fetch_order_book("BTC/USDT")
    check_order_book(funded, {}, "fetchOrderBook", book, "BTC/USDT")
    assert book["bids"][0][0] == 49990.0 and book["asks"][0][0] == 50010.0
    l2 = funded.fetch_l2_order_book("BTC/USDT")
    assert l2["asks"][0][0] == 50010.0
    status = funded.fetch_status()
    check_status(funded, {}, "fetchStatus", status, now)
    assert status["status"] == "ok"
    assert abs(funded.fetch_time() - now) < 60_000


def test_the_balance_lists_every_currency_of_the_markets(funded: MockExchange) -> None:
    """As Binance's account lists every asset: ``balance[base]['free']`` works before the account ever held any."""
    balance = funded.fetch_balance()
    check_balance(funded, {}, "fetchBalance", balance)
    assert balance["BTC"] == balance["ETH"] == {"free": 0.0, "used": 0.0, "total": 0.0}
    assert balance["USDT"] == {"free": 100000.0, "used": 0.0, "total": 100000.0}
    assert balance["free"]["ETH"] == 0.0
