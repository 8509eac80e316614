"""The dialect with FILL_MODEL=book: partial fills shown as Binance shows them. A market order that walks the book
answers one entry of ``fills`` per trade, and ends EXPIRED when the book could not fill it all (as Binance's
market and IOC orders do); a resting limit that filled partly is PARTIALLY_FILLED, with its trades in myTrades."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from servers import serving

from mockexchange_ccxt import Engine, Settings

from .support import KEY, SECRET, send


@pytest.fixture
def book_served(engine: Engine, valkey_server: Any, tmp_path: Any) -> Iterator[tuple[str, Engine]]:
    settings = Settings(
        redis_url=valkey_server.url, api_key=KEY, api_secret=SECRET, data_dir=tmp_path / "x", fill_model="book"
    )
    with Engine(settings) as book, serving(book) as url:
        book.fund("USDT", "100000")
        book.set_price(
            "BTC/USDT", "100", bid="99", ask="100", bids=[["99", "1"]], asks=[["100", "0.4"], ["101", "0.5"]]
        )
        yield url, book


def test_a_walk_answers_a_fill_per_trade_and_expires_what_it_could_not_fill(book_served: tuple[str, Engine]) -> None:
    url, _ = book_served
    full = send(url, "POST", "/api/v3/order", {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "1"})
    answer = full.json()
    assert (answer["status"], answer["executedQty"], answer["origQty"]) == ("EXPIRED", "0.90000000", "1.00000000")
    assert answer["cummulativeQuoteQty"] == "90.50000000"
    fills = [(f["price"], f["qty"], f["commission"]) for f in answer["fills"]]
    assert fills == [("100.00000000", "0.40000000", "0.04000000"), ("101.00000000", "0.50000000", "0.05050000")]
    assert len({f["tradeId"] for f in answer["fills"]}) == 2
    trades = send(url, "GET", "/api/v3/myTrades", {"symbol": "BTCUSDT"}).json()
    assert [(t["id"], t["orderId"], t["qty"], t["isMaker"]) for t in trades] == [
        (fill["tradeId"], answer["orderId"], fill["qty"], False) for fill in answer["fills"]
    ]
    got = send(url, "GET", "/api/v3/order", {"symbol": "BTCUSDT", "orderId": answer["orderId"]}).json()
    assert (got["status"], got["executedQty"]) == ("EXPIRED", "0.90000000")


def test_a_resting_limit_filled_partly_is_partially_filled(book_served: tuple[str, Engine]) -> None:
    url, book = book_served
    params = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "1", "price": "98"}
    placed = send(url, "POST", "/api/v3/order", params).json()
    assert placed["status"] == "NEW"
    book.set_price("BTC/USDT", "97", bid="96", ask="97", bids=[["96", "1"]], asks=[["97", "0.25"]])
    got = send(url, "GET", "/api/v3/order", {"symbol": "BTCUSDT", "orderId": placed["orderId"]}).json()
    assert (got["status"], got["executedQty"], got["cummulativeQuoteQty"]) == (
        "PARTIALLY_FILLED",
        "0.25000000",
        "24.50000000",
    )
    trades = send(url, "GET", "/api/v3/myTrades", {"symbol": "BTCUSDT"}).json()
    assert [(t["price"], t["qty"], t["isMaker"]) for t in trades] == [("98.00000000", "0.25000000", True)]
    canceled = send(url, "DELETE", "/api/v3/order", {"symbol": "BTCUSDT", "orderId": placed["orderId"]}).json()
    assert (canceled["status"], canceled["executedQty"]) == ("CANCELED", "0.25000000")
    assert book.fetch_balance()["USDT"]["used"] == Decimal(0)


def test_an_ioc_limit_expires_with_its_partial_fill(book_served: tuple[str, Engine]) -> None:
    url, _ = book_served
    params = {
        "symbol": "BTCUSDT",
        "side": "BUY",
        "type": "LIMIT",
        "timeInForce": "IOC",
        "quantity": "1",
        "price": "100",
    }
    answer = send(url, "POST", "/api/v3/order", params).json()
    assert (answer["status"], answer["executedQty"], len(answer["fills"])) == ("EXPIRED", "0.40000000", 1)
    params["timeInForce"] = "FOK"
    answer = send(url, "POST", "/api/v3/order", params).json()
    assert (answer["status"], answer["executedQty"], answer["fills"]) == ("EXPIRED", "0.00000000", [])
