"""Refused calls: each raises the exact engine error (code and HTTP status) and leaves Valkey untouched."""

from __future__ import annotations

import threading
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from tests_helpers import free_port, keyspace

from mockexchange_ccxt import Engine, Settings
from mockexchange_ccxt.engine import EmbeddedValkey
from mockexchange_ccxt.errors import (
    BadRequest,
    BadSymbol,
    DuplicateClientOrderId,
    InsufficientFunds,
    InvalidOrder,
    MockExchangeError,
    OrderNotFound,
    OrderNotOpen,
    StoreUnavailable,
)

EXPECTED_STATUS: dict[type[MockExchangeError], tuple[str, int]] = {
    BadRequest: ("BAD_REQUEST", 400),
    BadSymbol: ("BAD_SYMBOL", 400),
    InvalidOrder: ("INVALID_ORDER", 400),
    InsufficientFunds: ("INSUFFICIENT_FUNDS", 400),
    OrderNotFound: ("ORDER_NOT_FOUND", 404),
    OrderNotOpen: ("ORDER_NOT_OPEN", 409),
    DuplicateClientOrderId: ("DUPLICATE_CLIENT_ORDER_ID", 409),
    StoreUnavailable: ("STORE_UNAVAILABLE", 503),
}

#: Numbers an amount or a price may never be.
BAD_NUMBERS: list[Any] = [
    0, "0", Decimal(0), -1, "-0.1", float("nan"), "NaN", "sNaN", float("inf"), "-Infinity", "abc", "", "  ", True,
    False, None, [], {}, "0.000000001", 1e-9, Decimal("1.123456789"), 10**10 + 1, "1e11", "1" * 70,
]  # fmt: skip

Call = Callable[[Engine, dict[str, str]], Any]


def _order(*args: Any, **kwargs: Any) -> Call:
    return lambda e, _ids: e.create_order(*args, **kwargs)


CASES: list[tuple[str, Call, type[MockExchangeError]]] = [
    ("unknown symbol", _order("NOPE/USDT", "buy", "market", "1"), BadSymbol),
    ("unpriced: malformed hash", _order("BAD/USDT", "buy", "market", "1"), InvalidOrder),
    ("unpriced: wrong key type", _order("WT/USDT", "buy", "market", "1"), InvalidOrder),
    ("unpriced: no timestamp", _order("NOTS/USDT", "buy", "market", "1"), InvalidOrder),
    ("limit without price", _order("BTC/USDT", "buy", "limit", "0.1"), InvalidOrder),
    ("price above maximum", _order("BTC/USDT", "buy", "limit", "0.1", "90071992.54740992"), InvalidOrder),
    ("sell cost rounds to zero", _order("DUST/USDT", "sell", "limit", "0.00000001", "0.9"), InvalidOrder),
    ("insufficient quote (market)", _order("BTC/USDT", "buy", "market", "2"), InsufficientFunds),
    ("insufficient quote (limit)", _order("BTC/USDT", "buy", "limit", "3", "40000"), InsufficientFunds),
    ("insufficient base (market)", _order("BTC/USDT", "sell", "market", "1.01000001"), InsufficientFunds),
    ("insufficient base (limit)", _order("ETH/USDT", "sell", "limit", "1", "3000"), InsufficientFunds),
    (
        "duplicate clientOrderId",
        _order("BTC/USDT", "buy", "market", "0.001", client_order_id="taken"),
        DuplicateClientOrderId,
    ),
    (
        "duplicate cid, insufficient",
        _order("BTC/USDT", "buy", "market", "9", client_order_id="taken"),
        DuplicateClientOrderId,
    ),
    ("fetch unknown id", lambda e, _i: e.fetch_order("999999"), OrderNotFound),
    ("fetch non-numeric id", lambda e, _i: e.fetch_order("abc"), OrderNotFound),
    ("fetch negative id", lambda e, _i: e.fetch_order(-1), OrderNotFound),
    ("fetch overlong id", lambda e, _i: e.fetch_order("9" * 25), OrderNotFound),
    ("cancel unknown id", lambda e, _i: e.cancel_order("999999"), OrderNotFound),
    ("trades of unknown id", lambda e, _i: e.order_trades("999999"), OrderNotFound),
    ("cancel closed order", lambda e, ids: e.cancel_order(ids["closed"]), OrderNotOpen),
    ("cancel canceled order", lambda e, ids: e.cancel_order(ids["canceled"]), OrderNotOpen),
    ("fetch_orders bad status", lambda e, _i: e.fetch_orders(status="done"), BadRequest),
    ("fetch_orders status case", lambda e, _i: e.fetch_orders(status="OPEN"), BadRequest),
    ("fetch_orders bad symbol", lambda e, _i: e.fetch_orders(symbol="BTCUSDT"), BadSymbol),
    ("fund bad asset", lambda e, _i: e.fund("US DT", "1"), BadSymbol),
    ("fund symbol as asset", lambda e, _i: e.fund("BTC/USDT", "1"), BadSymbol),
    ("edit_balance nothing", lambda e, _i: e.edit_balance("USDT"), BadRequest),
    ("edit_balance negative free", lambda e, _i: e.edit_balance("USDT", free="-1"), BadRequest),
    ("edit_balance bad used", lambda e, _i: e.edit_balance("USDT", used="lots"), BadRequest),
    ("edit_balance below held", lambda e, _i: e.edit_balance("USDT", free="5", used="1"), BadRequest),
    ("edit_balance bad asset", lambda e, _i: e.edit_balance("", free="1"), BadSymbol),
    ("set_price bad symbol", lambda e, _i: e.set_price("BTCUSDT", "1"), BadSymbol),
    ("set_price above maximum", lambda e, _i: e.set_price("BTC/USDT", "90071992.54740992"), BadRequest),
    ("set_price bad bid", lambda e, _i: e.set_price("BTC/USDT", "1", bid="0"), BadRequest),
    ("set_price bad ask", lambda e, _i: e.set_price("BTC/USDT", "1", ask="x"), BadRequest),
    ("ticker unknown", lambda e, _i: e.ticker("NOPE/USDT"), BadSymbol),
    ("ticker unpriced", lambda e, _i: e.ticker("BAD/USDT"), InvalidOrder),
    ("tickers bad symbol", lambda e, _i: e.tickers(["BTC/USDT", "nope"]), BadSymbol),
    ("process_price_tick bad symbol", lambda e, _i: e.process_price_tick("BTC-USDT"), BadSymbol),
    ("balance bad asset", lambda e, _i: e.balance("US/DT"), BadSymbol),
    ("trading_fee bad symbol", lambda e, _i: e.trading_fee("BTC"), BadSymbol),
]
for bad_symbol in ("BTCUSDT", "BTC/", "/USDT", "BTC/BTC", "BTC/USDT/ETH", "", " BTC/USDT", "B TC/USDT", 123, None):
    CASES.append((f"symbol {bad_symbol!r}", _order(bad_symbol, "buy", "market", "1"), BadSymbol))
for bad_side in ("BUY", "hold", "", None, 1):
    CASES.append((f"side {bad_side!r}", _order("BTC/USDT", bad_side, "market", "0.1"), InvalidOrder))
for bad_type in ("stop", "MARKET", "", None):
    CASES.append((f"type {bad_type!r}", _order("BTC/USDT", "buy", bad_type, "0.1", "40000"), InvalidOrder))
for index, bad in enumerate(BAD_NUMBERS):
    CASES.append((f"amount #{index} {bad!r:.20}", _order("BTC/USDT", "buy", "market", bad), InvalidOrder))
    CASES.append((f"price #{index} {bad!r:.20}", _order("BTC/USDT", "buy", "limit", "0.1", bad), InvalidOrder))
    CASES.append((f"sell amount #{index} {bad!r:.20}", _order("BTC/USDT", "sell", "limit", bad, "60000"), InvalidOrder))
    CASES.append((f"fund #{index} {bad!r:.20}", lambda e, _i, bad=bad: e.fund("USDT", bad), BadRequest))
    CASES.append((f"set_price #{index} {bad!r:.20}", lambda e, _i, bad=bad: e.set_price("BTC/USDT", bad), BadRequest))
for bad_cid in ("", "x" * 65, "has space", "ü", 5, b"bytes"):
    CASES.append(
        (
            f"clientOrderId {bad_cid!r:.20}",
            _order("BTC/USDT", "buy", "market", "0.1", client_order_id=bad_cid),
            BadRequest,
        )
    )
for bad_id in (1.5, None, [], b"1"):
    CASES.append((f"fetch id {bad_id!r}", lambda e, _i, bad_id=bad_id: e.fetch_order(bad_id), BadRequest))
    CASES.append((f"cancel id {bad_id!r}", lambda e, _i, bad_id=bad_id: e.cancel_order(bad_id), BadRequest))
for bad_tail in (0, -1, True, "3", 1.5):
    CASES.append((f"tail {bad_tail!r}", lambda e, _i, bad_tail=bad_tail: e.fetch_orders(tail=bad_tail), BadRequest))
for bad_ts in (0, -5, 1.5, "1700000000000", True):
    CASES.append(
        (f"timestamp {bad_ts!r}", lambda e, _i, bad_ts=bad_ts: e.set_price("BTC/USDT", "1", bad_ts), BadRequest)
    )


@pytest.fixture
def loaded(btc: Engine) -> tuple[Engine, dict[str, str]]:
    """An account with open, closed and canceled orders, a used clientOrderId and three broken feed keys."""
    btc.fund("BTC", "1")
    btc.store.call("HSET", "sym_BAD/USDT", "price", "oops", "timestamp", "1700000000")
    btc.store.call("SET", "sym_WT/USDT", "100")
    btc.store.call("HSET", "sym_NOTS/USDT", "price", "100")
    btc.set_price("DUST/USDT", "0.5")
    ids = {
        "open": btc.create_order("BTC/USDT", "buy", "limit", "0.1", "40000", client_order_id="taken")["id"],
        "closed": btc.create_order("BTC/USDT", "buy", "market", "0.01")["id"],
        "canceled": btc.create_order("ETH/USDT", "buy", "limit", "1", "2000")["id"],
    }
    btc.cancel_order(ids["canceled"])
    return btc, ids


@pytest.mark.parametrize(("call", "expected"), [(c[1], c[2]) for c in CASES], ids=[c[0] for c in CASES])
def test_refused_call_raises_its_error_and_changes_nothing(
    loaded: tuple[Engine, dict[str, str]], call: Call, expected: type[MockExchangeError]
) -> None:
    engine, ids = loaded
    before = keyspace(engine)
    with pytest.raises(MockExchangeError) as caught:
        call(engine, ids)
    assert type(caught.value) is expected, caught.value
    assert (caught.value.code, caught.value.http_status) == EXPECTED_STATUS[expected]
    assert caught.value.message
    assert keyspace(engine) == before


@pytest.mark.parametrize(
    ("side", "symbol", "amount", "asset"),
    [("buy", "BTC/USDT", "3", "USDT"), ("sell", "BTC/USDT", "2", "BTC"), ("sell", "ETH/USDT", "1", "ETH")],
)
def test_insufficient_funds_message_names_the_asset(
    loaded: tuple[Engine, dict[str, str]], side: str, symbol: str, amount: str, asset: str
) -> None:
    engine, _ids = loaded
    with pytest.raises(InsufficientFunds, match=rf"^insufficient {asset}: needs [0-9.]+, free balance is [0-9.]+$"):
        engine.create_order(symbol, side, "market", amount)


def test_fund_that_would_overflow_is_refused(engine: Engine) -> None:
    for _ in range(9):
        engine.fund("BTC", 10**10)
    before = keyspace(engine)
    with pytest.raises(BadRequest, match="overflow"):
        engine.fund("BTC", 10**10)
    assert keyspace(engine) == before
    assert engine.balance("BTC")["total"] == 9 * 10**10


def test_sell_whose_proceeds_overflow_is_refused_as_a_client_error(engine: Engine) -> None:
    engine.set_price("BTC/USDT", "90000000")
    engine.fund("BTC", "10000")
    before = keyspace(engine)
    with pytest.raises(MockExchangeError) as caught:
        engine.create_order("BTC/USDT", "sell", "market", "10000")
    assert keyspace(engine) == before
    assert caught.value.http_status == 400, caught.value


def test_store_that_goes_away_raises_store_unavailable(tmp_path: Path) -> None:
    server = EmbeddedValkey(tmp_path / "gone", persistent=False, port=free_port())
    server.start()
    try:
        engine = Engine(Settings(redis_url=server.url, data_dir=tmp_path))
        engine.fund("USDT", "1")  # this thread now holds a connection
    finally:
        server.stop()
    calls: list[Callable[[Engine], Any]] = [
        lambda e: e.fund("USDT", "1"),  # a write whose reply is lost
        lambda e: e.balance("USDT"),  # a read, retried once, then refused
        lambda e: e.set_price("BTC/USDT", "1"),
        lambda e: e.create_order("BTC/USDT", "buy", "market", "1"),
        lambda e: e.fetch_orders(),
        lambda e: e.tickers(),
    ]
    with engine:
        for call in calls:
            with pytest.raises(StoreUnavailable) as caught:
                call(engine)
            assert (caught.value.code, caught.value.http_status) == ("STORE_UNAVAILABLE", 503)


@pytest.mark.parametrize("url", ["redis://127.0.0.1:{port}", "unix:///nonexistent/dir/valkey.sock"])
def test_unreachable_store_raises_store_unavailable(url: str, tmp_path: Path) -> None:
    raised: list[BaseException] = []
    with Engine(Settings(redis_url=url.format(port=free_port()), data_dir=tmp_path)) as engine:
        calls = [lambda: engine.fund("USDT", "1"), lambda: engine.balance("USDT"), lambda: engine.tickers()]
        for call in calls:
            with pytest.raises(StoreUnavailable) as caught:
                call()
            assert (caught.value.code, caught.value.http_status) == ("STORE_UNAVAILABLE", 503)

        def in_thread() -> None:  # a thread's first connection fails the same way
            try:
                engine.balance("USDT")
            except BaseException as exc:
                raised.append(exc)

        thread = threading.Thread(target=in_thread)
        thread.start()
        thread.join()
    assert [type(exc) for exc in raised] == [StoreUnavailable]
