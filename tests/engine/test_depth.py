"""Order-book depth: the feed's bids/asks when valid, else a synthetic book built from the settings; malformed
depth never stops anything and is never shown as depth."""

from __future__ import annotations

import json
import logging
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockexchange_ccxt import Engine
from mockexchange_ccxt.engine import depth
from mockexchange_ccxt.errors import BadRequest, BadSymbol, InvalidOrder

from .conftest import EngineFactory

T0 = 1_700_000_000_000


def write_feed(engine: Engine, **fields: str) -> None:
    engine.store.call("DEL", engine.keys.price("BTC/USDT"))
    engine.store.call(
        "HSET", engine.keys.price("BTC/USDT"), "timestamp", str(T0), *[x for kv in fields.items() for x in kv]
    )


def test_the_feeds_depth_is_the_book_exactly(engine: Engine) -> None:
    bids = [["49999.99", "0.12345678"], ["49990", 2]]
    asks = [[50000.01, "1"], ["50010.5", "0.5"]]
    write_feed(engine, price="50000", bids=json.dumps(bids), asks=json.dumps(asks))
    book = engine.book("BTC/USDT")
    assert not book.synthetic and book.timestamp == T0
    assert book.bids == ((Decimal("49999.99"), Decimal("0.12345678")), (Decimal(49990), Decimal(2)))
    assert book.asks == ((Decimal("50000.01"), Decimal(1)), (Decimal("50010.5"), Decimal("0.5")))
    unified = engine.order_book("BTC/USDT", 1)
    assert unified["bids"] == [[Decimal("49999.99"), Decimal("0.12345678")]] and unified["info"] == {"synthetic": False}


def test_the_synthetic_book_follows_the_settings(make_engine: EngineFactory) -> None:
    engine = make_engine(book_levels=3, book_step_bps=Decimal(100), book_level_notional=Decimal(1000))
    engine.set_price("BTC/USDT", "100", timestamp=T0, bid="99", ask="101")
    book = engine.book("BTC/USDT")
    assert book.synthetic
    assert [price for price, _ in book.bids] == [Decimal(99), Decimal("98.01"), Decimal("97.02")]
    assert [price for price, _ in book.asks] == [Decimal(101), Decimal("102.01"), Decimal("103.02")]
    assert book.bids[0][1] == Decimal("10.10101010")  # 1000 / 99, rounded down to 1e-8
    engine.set_price("BTC/USDT", "100", timestamp=T0 + 1)  # bid = ask: a spread of one step opens around it
    book = engine.book("BTC/USDT")
    assert book.bids[0][0] == Decimal("99.5") and book.asks[0][0] == Decimal("100.5")


def test_the_synthetic_book_never_shows_an_absurd_size(engine: Engine) -> None:
    engine.set_price("BTC/USDT", "0.00000001", timestamp=T0)  # one unit: no bid level can sit below it
    book = engine.book("BTC/USDT")
    assert book.bids == () and all(amount <= Decimal(10) ** 10 for _, amount in book.asks)
    prices = [price for price, _ in book.asks]
    assert prices == sorted(set(prices)) and len(prices) == 20  # each level at least a unit beyond the last
    engine.set_price("ETH/USDT", "90000000", timestamp=T0)
    assert all(amount > 0 for _, amount in engine.book("ETH/USDT").asks)


MALFORMED = [
    {"bids": "not json", "asks": "[]"},
    {"bids": "[[1, 2]]"},  # one side missing
    {"bids": '[["49000", "1"], ["49500", "1"]]', "asks": '[["51000", "1"]]'},  # bids not best first
    {"bids": '[["52000", "1"]]', "asks": '[["51000", "1"]]'},  # crossed
    {"bids": '[["49000", "-1"]]', "asks": '[["51000", "1"]]'},
    {"bids": '[["NaN", "1"]]', "asks": '[["51000", "1"]]'},
    {"bids": '[["49000", "1", "3"]]', "asks": '[["51000", "1"]]'},
    {"bids": '{"49000": 1}', "asks": '[["51000", "1"]]'},
    {"bids": "[" * 100_000, "asks": "[]"},
    {"bids": json.dumps([["1", "1"]] * 10) + " " * depth.MAX_DEPTH_BYTES, "asks": "[]"},
]


@pytest.mark.parametrize("fields", MALFORMED, ids=[f"case{i}" for i in range(len(MALFORMED))])
def test_malformed_depth_makes_the_book_synthetic(
    engine: Engine, fields: dict[str, str], caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(depth, "_warned", set())
    caplog.set_level(logging.WARNING, logger="mockexchange_ccxt.depth")
    write_feed(engine, price="50000", **fields)
    for _ in range(3):
        assert engine.book("BTC/USDT").synthetic
    assert len([r for r in caplog.records if "BTC/USDT" in r.getMessage()]) == 1  # said once per symbol


def test_long_books_are_cut_at_1000_levels(engine: Engine) -> None:
    bids = [[str(50000 - i), "1"] for i in range(1500)]
    write_feed(engine, price="50000.5", bids=json.dumps(bids), asks='[["50001", "1"]]')
    book = engine.book("BTC/USDT")
    assert not book.synthetic and len(book.bids) == 1000
    assert len(engine.order_book("BTC/USDT", 5000)["bids"]) == 1000


def test_bad_requests(btc: Engine) -> None:
    for limit in (0, -1, "5", True):
        with pytest.raises(BadRequest):
            btc.order_book("BTC/USDT", limit)
    with pytest.raises(BadSymbol):
        btc.order_book("DOGE/USDT")
    btc.store.call("HSET", btc.keys.price("BAD/USDT"), "price", "x", "timestamp", "1")
    with pytest.raises(InvalidOrder):
        btc.order_book("BAD/USDT")
    for bids, asks in (([[1, 1]], None), ([[2, 1]], [[1, 1]]), ([["x", 1]], []), ([[1]], []), ("[]", [])):
        with pytest.raises(BadRequest, match="bids/asks"):
            btc.set_price("BTC/USDT", "1", bids=bids, asks=asks)


levels = st.lists(st.tuples(st.one_of(st.text(max_size=8), st.integers(-5, 10**6), st.floats()), st.floats()))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    bids=st.one_of(st.text(max_size=50), levels.map(json.dumps)),
    asks=st.one_of(st.text(max_size=50), levels.map(json.dumps)),
)
def test_any_depth_text_gives_a_book(engine: Engine, bids: str, asks: str) -> None:
    write_feed(engine, price="50000", bids=bids, asks=asks)
    book = engine.book("BTC/USDT")
    for side, descending in ((book.bids, True), (book.asks, False)):
        prices = [price for price, _ in side]
        assert prices == sorted(prices, reverse=descending) and len(set(prices)) == len(prices)
        assert all(amount > 0 for _, amount in side)
    if book.bids and book.asks:
        assert book.bids[0][0] < book.asks[0][0]
