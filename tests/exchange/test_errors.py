"""Every engine error reaches the bot as the exact ccxt class, with a message that says what was wrong,
in process and over HTTP alike; a refused call changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ccxt
import pytest
import requests
import responses
from conftest import API_KEY
from servers import serving
from tests_helpers import keyspace

from mockexchange_ccxt import Engine, MockExchange, Settings

CASES: list[tuple[str, Callable[[MockExchange], Any], type[Exception], str]] = [
    ("too expensive", lambda ex: ex.create_order("BTC/USDT", "market", "buy", 10), ccxt.InsufficientFunds, "USDT"),
    ("sell without BTC", lambda ex: ex.create_order("BTC/USDT", "market", "sell", 1), ccxt.InsufficientFunds, "BTC"),
    ("bad side", lambda ex: ex.create_order("BTC/USDT", "market", "hold", 1), ccxt.InvalidOrder, "side"),
    ("bad type", lambda ex: ex.create_order("BTC/USDT", "stop", "buy", 1), ccxt.InvalidOrder, "type"),
    ("limit w/o price", lambda ex: ex.create_order("BTC/USDT", "limit", "buy", 1), ccxt.InvalidOrder, "price"),
    ("negative", lambda ex: ex.create_order("BTC/USDT", "limit", "buy", 1, -5), ccxt.InvalidOrder, "price"),
    ("unknown symbol", lambda ex: ex.fetch_ticker("DOGE/USDT"), ccxt.BadSymbol, "DOGE/USDT"),
    ("no market", lambda ex: ex.create_order("DOGE/USDT", "market", "buy", 1), ccxt.BadSymbol, "DOGE/USDT"),
    ("unknown order", lambda ex: ex.fetch_order("999999"), ccxt.OrderNotFound, "999999"),
    ("cancel unknown", lambda ex: ex.cancel_order("999999"), ccxt.OrderNotFound, "999999"),
    ("fund negative", lambda ex: ex.fund("USDT", -1), ccxt.BadRequest, "positive"),
    ("fund NaN", lambda ex: ex.fund("USDT", "NaN"), ccxt.BadRequest, "finite"),
    ("bad status", lambda ex: ex.fetch_orders(None, None, None, {"status": "done"}), ccxt.BadRequest, "status"),
    ("trades", lambda ex: ex.fetch_trades("BTC/USDT"), ccxt.NotSupported, "fetchTrades"),
    ("ohlcv timeframe", lambda ex: ex.fetch_ohlcv("BTC/USDT", "7m"), ccxt.BadRequest, "timeframe"),
    ("ohlcv out of range", lambda ex: ex.fetch_ohlcv("BTC/USDT", "1m", 2**63), ccxt.BadRequest, "range"),
    ("ohlcv 1969", lambda ex: ex.fetch_ohlcv("BTC/USDT", "1m", -60_000), ccxt.BadRequest, "since"),
    ("ohlcv huge since", lambda ex: ex.fetch_ohlcv("BTC/USDT", "1m", 10**30), ccxt.BadRequest, "since"),
    ("ohlcv limit 0", lambda ex: ex.fetch_ohlcv("BTC/USDT", "1m", None, 0), ccxt.BadRequest, "limit"),
    ("ohlcv limit < 0", lambda ex: ex.fetch_ohlcv("BTC/USDT", "1m", None, -5), ccxt.BadRequest, "limit"),
    ("ohlcv huge limit", lambda ex: ex.fetch_ohlcv("BTC/USDT", "1m", None, 10**30), ccxt.BadRequest, "limit"),
    ("ohlcv symbol", lambda ex: ex.fetch_ohlcv("DOGE/USDT"), ccxt.BadSymbol, "DOGE/USDT"),
    ("ohlcv bad symbol", lambda ex: ex.fetch_ohlcv("DOGEUSDT"), ccxt.BadSymbol, "DOGEUSDT"),
    ("ohlcv params", lambda ex: ex.fetch_ohlcv("BTC/USDT", "1m", params={"price": "mark"}), ccxt.NotSupported, "price"),
    ("book limit 0", lambda ex: ex.fetch_order_book("BTC/USDT", 0), ccxt.BadRequest, "limit"),
    ("book symbol", lambda ex: ex.fetch_order_book("DOGE/USDT"), ccxt.BadSymbol, "DOGE/USDT"),
    ("price volume", lambda ex: ex.set_price("BTC/USDT", 1, volume=-1), ccxt.BadRequest, "volume"),
    ("price depth", lambda ex: ex.set_price("BTC/USDT", 1, bids=[[2, 1]], asks=[[1, 1]]), ccxt.BadRequest, "crossed"),
    ("price half depth", lambda ex: ex.set_price("BTC/USDT", 1, bids=[[2, 1]]), ccxt.BadRequest, "missing"),
    ("ticker params", lambda ex: ex.fetch_ticker("BTC/USDT", {"foo": 1}), ccxt.NotSupported, "foo"),
    ("tickers params", lambda ex: ex.fetch_tickers(None, {"type": "spot", "foo": 1}), ccxt.NotSupported, "foo"),
    ("margin balance", lambda ex: ex.fetch_balance({"type": "margin"}), ccxt.NotSupported, "spot only"),
    ("markets params", lambda ex: ex.load_markets(True, {"foo": 1}), ccxt.NotSupported, "foo"),
    ("fees params", lambda ex: ex.fetch_trading_fees({"foo": 1}), ccxt.NotSupported, "foo"),
    ("fee params", lambda ex: ex.fetch_trading_fee("BTC/USDT", {"foo": 1}), ccxt.NotSupported, "foo"),
    ("time params", lambda ex: ex.fetch_time({"foo": 1}), ccxt.NotSupported, "foo"),
    ("status params", lambda ex: ex.fetch_status({"foo": 1}), ccxt.NotSupported, "foo"),
    ("tickers symbol", lambda ex: ex.fetch_tickers(["BTC/USDT", "DOGE/USDT"]), ccxt.BadSymbol, "DOGE/USDT"),
    ("open orders symbol", lambda ex: ex.fetch_open_orders("DOGE/USDT"), ccxt.BadSymbol, "DOGE/USDT"),
    ("orders symbol", lambda ex: ex.fetch_orders("DOGE/USDT"), ccxt.BadSymbol, "DOGE/USDT"),
    ("my trades symbol", lambda ex: ex.fetch_my_trades("DOGE/USDT"), ccxt.BadSymbol, "DOGE/USDT"),
    ("cancel all symbol", lambda ex: ex.cancel_all_orders("DOGE/USDT"), ccxt.BadSymbol, "DOGE/USDT"),
    ("order symbol", lambda ex: ex.fetch_order("1", "DOGE/USDT"), ccxt.BadSymbol, "DOGE/USDT"),
]


@pytest.mark.parametrize(("name", "action", "error", "mentions"), CASES, ids=[c[0] for c in CASES])
def test_error_class_and_no_change(
    funded: MockExchange, engine: Engine, name: str, action: Callable[[MockExchange], Any], error: type, mentions: str
) -> None:
    before = keyspace(engine)
    with pytest.raises(error) as caught:
        action(funded)
    assert type(caught.value) is error, f"{type(caught.value).__name__} is not exactly {error.__name__}"
    assert mentions in str(caught.value)
    assert keyspace(engine) == before


def test_cancel_twice_and_duplicate_client_id(funded: MockExchange) -> None:
    order = funded.create_order("BTC/USDT", "limit", "buy", 0.01, 40000, {"clientOrderId": "abc"})
    with pytest.raises(ccxt.DuplicateOrderId, match="abc"):
        funded.create_order("BTC/USDT", "limit", "buy", 0.01, 40000, {"clientOrderId": "abc"})
    funded.cancel_order(order["id"])
    with pytest.raises(ccxt.InvalidOrder, match="canceled"):
        funded.cancel_order(order["id"])


def test_store_down_is_exchange_not_available(transport: str, tmp_path: Any) -> None:
    """Valkey unreachable: ExchangeNotAvailable in process, and a 503 that becomes it over HTTP."""
    dead = "redis://127.0.0.1:9/0"
    if transport == "in-process":
        with pytest.raises(ccxt.ExchangeNotAvailable, match="unreachable"):
            MockExchange({"options": {"redisUrl": dead}}).fetch_balance()
        return
    with (
        Engine(Settings(redis_url=dead, api_key=API_KEY, data_dir=tmp_path)) as engine,
        serving(engine) as url,
        pytest.raises(ccxt.ExchangeNotAvailable, match="unreachable"),
    ):
        MockExchange({"apiKey": API_KEY, "options": {"serverUrl": url}}).fetch_balance()


def test_server_down_is_network_error() -> None:
    """No server at all: ccxt's own NetworkError, as for any exchange that cannot be reached."""
    with pytest.raises(ccxt.NetworkError):
        MockExchange({"apiKey": API_KEY, "options": {"serverUrl": "http://127.0.0.1:9"}}).fetch_balance()


@pytest.mark.parametrize("key", [None, "wrong", "invalid-key"])
def test_http_auth_failure(engine: Engine, http_url: str, key: str | None) -> None:
    ex = MockExchange({"apiKey": key, "options": {"serverUrl": http_url}})
    with pytest.raises(ccxt.AuthenticationError):
        ex.fetch_balance()


# -- what a live server can't easily produce, replayed with `responses` ----------------------------------------


@pytest.fixture
def offline() -> MockExchange:
    """A class whose server is replayed; its markets are set, so a call makes only the request it is about."""
    exchange = MockExchange({"apiKey": API_KEY, "options": {"serverUrl": "http://mock.invalid"}})
    exchange.set_markets(
        [
            {
                "id": "BTC/USDT",
                "symbol": "BTC/USDT",
                "base": "BTC",
                "quote": "USDT",
                "type": "spot",
                "spot": True,
                "precision": {"amount": 1e-8, "price": 1e-8},
                "limits": {"amount": {"min": 1e-8}},
            }
        ]
    )
    return exchange


@responses.activate
def test_proxy_html_502(offline: MockExchange) -> None:
    responses.get("http://mock.invalid/balance", body="<html><h1>502 Bad Gateway</h1></html>", status=502)
    with pytest.raises(ccxt.ExchangeNotAvailable):
        offline.fetch_balance()


@responses.activate
def test_truncated_body(offline: MockExchange) -> None:
    responses.get("http://mock.invalid/balance", body='{"info": {}, "free": {"US', status=200)
    with pytest.raises(ccxt.BadResponse, match="not JSON"):
        offline.fetch_balance()


@responses.activate
def test_timeout(offline: MockExchange) -> None:
    responses.get("http://mock.invalid/balance", body=requests.exceptions.ReadTimeout("slow"))
    with pytest.raises(ccxt.RequestTimeout):
        offline.fetch_balance()


@responses.activate
def test_error_body_maps_exactly(offline: MockExchange) -> None:
    body = {"error": {"code": "INSUFFICIENT_FUNDS", "message": "insufficient USDT"}}
    responses.post("http://mock.invalid/orders", json=body, status=400)
    with pytest.raises(ccxt.InsufficientFunds, match="insufficient USDT"):
        offline.create_order("BTC/USDT", "market", "buy", 1)


def test_an_order_named_under_another_symbol_is_not_found(funded: MockExchange, engine: Engine) -> None:
    """As on an exchange: an id looked up or canceled under another symbol is not found, and nothing changes."""
    order = funded.create_order("BTC/USDT", "limit", "buy", 0.001, 40000, {"clientOrderId": "grid-1"})
    before = keyspace(engine)
    for action in (
        lambda: funded.fetch_order(order["id"], "ETH/USDT"),
        lambda: funded.fetch_order("", "ETH/USDT", {"clientOrderId": "grid-1"}),
        lambda: funded.cancel_order(order["id"], "ETH/USDT"),
        lambda: funded.cancel_orders([order["id"]], "ETH/USDT"),
    ):
        with pytest.raises(ccxt.OrderNotFound, match="ETH/USDT"):
            action()
    assert keyspace(engine) == before
    assert funded.fetch_order(order["id"], "BTC/USDT") == funded.fetch_order(order["id"])
    assert funded.cancel_order(order["id"], "BTC/USDT")["status"] == "canceled"


def test_reads_take_the_spot_type_that_spot_bots_send(funded: MockExchange) -> None:
    spot = {"type": "spot"}
    assert funded.fetch_tickers(["BTC/USDT"], spot)["BTC/USDT"]["last"] == 50000
    assert funded.fetch_balance(spot)["USDT"]["free"] == 100000
    assert funded.fetch_ticker("ETH/USDT", spot)["last"] == 2500
