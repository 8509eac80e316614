"""What the options of ``MockExchange`` do per transport: in process, the engine's tick loop settles outside
price writes (on by default, ``tickLoop: False`` turns it off); over HTTP, the fees shown are the server's,
and options that only an in-process engine could honour are refused rather than ignored."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import ccxt
import pytest
from servers import serving
from tests_helpers import wait_for

from mockexchange_ccxt import AsyncMockExchange, Engine, MockExchange, Settings
from mockexchange_ccxt.engine import EmbeddedValkey
from mockexchange_ccxt.exchange.transport import ENGINE_OPTIONS

KEY = "options-key"


@pytest.fixture
def fast_ticks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TICK_LOOP_SEC", "0.05")


def outside_write(engine: Engine, symbol: str, price: str) -> None:
    """A price written by a feed that knows nothing of the engine."""
    engine.store.call("HSET", engine.keys.price(symbol), "price", price, "timestamp", str(int(time.time())))


def test_in_process_outside_prices_settle_by_default(
    engine: Engine, valkey_server: EmbeddedValkey, fast_ticks: None
) -> None:
    """The README's one-line swap with a feed HSETting prices: resting orders used to wait forever."""
    exchange = MockExchange({"options": {"redisUrl": valkey_server.url, "account": "ticking"}})
    try:
        exchange.set_price("BTC/USDT", 50000)
        exchange.fund("USDT", 10000)
        order = exchange.create_limit_buy_order("BTC/USDT", 0.01, 49000)
        assert order["status"] == "open"
        outside_write(engine, "BTC/USDT", "48000")
        assert wait_for(lambda: exchange.fetch_order(order["id"])["status"] == "closed")
        assert exchange.engine.tick_loop.running
    finally:
        exchange.engine.stop_tick_loop()


def test_tick_loop_false_leaves_outside_prices_to_the_caller(
    engine: Engine, valkey_server: EmbeddedValkey, fast_ticks: None
) -> None:
    exchange = MockExchange({"options": {"redisUrl": valkey_server.url, "account": "quiet", "tickLoop": False}})
    assert not exchange.engine.tick_loop.running
    exchange.set_price("BTC/USDT", 50000)
    exchange.fund("USDT", 10000)
    order = exchange.create_limit_buy_order("BTC/USDT", 0.01, 49000)
    outside_write(engine, "BTC/USDT", "48000")
    assert exchange.fetch_order(order["id"])["status"] == "open"
    assert exchange.engine.process_price_tick("BTC/USDT") == 1  # settled when the caller asks


def test_the_async_class_runs_the_loop_too(valkey_server: EmbeddedValkey, fast_ticks: None) -> None:
    exchange = AsyncMockExchange({"options": {"redisUrl": valkey_server.url, "account": "async-ticking"}})
    try:
        assert exchange.engine.tick_loop.running
    finally:
        exchange.engine.stop_tick_loop()


@pytest.mark.parametrize("value", ["no", 0, None, "false"])
def test_tick_loop_takes_a_boolean(valkey_server: EmbeddedValkey, value: object) -> None:
    if value is None:  # None: the default
        MockExchange({"options": {"redisUrl": valkey_server.url, "account": "default-loop", "tickLoop": None}})
        return
    with pytest.raises(ccxt.BadRequest, match="tickLoop"):
        MockExchange({"options": {"redisUrl": valkey_server.url, "tickLoop": value}})


# -- over HTTP ---------------------------------------------------------------------------------------------------


@pytest.fixture
def charging(engine: Engine, valkey_server: EmbeddedValkey, tmp_path: Path) -> Iterator[str]:
    """A server that charges 0.05% maker and 0.2% taker."""
    settings = Settings(
        redis_url=valkey_server.url,
        api_key=KEY,
        data_dir=tmp_path,
        maker_commission=Settings().commission / 2,
        taker_commission=Settings().commission * 2,
    )
    with Engine(settings) as served, serving(served) as url:
        served.set_price("BTC/USDT", "50000")
        yield url


def test_over_http_the_fees_are_the_servers(charging: str) -> None:
    """``exchange.fees['trading']`` used to show 0.001 whatever the server charged."""
    exchange = MockExchange({"apiKey": KEY, "options": {"serverUrl": charging}})
    exchange.load_markets()
    trading = exchange.fees["trading"]
    assert (trading["maker"], trading["taker"]) == (0.0005, 0.002)
    assert exchange.markets["BTC/USDT"]["taker"] == 0.002


def test_in_process_the_fees_are_the_settings(valkey_server: EmbeddedValkey) -> None:
    options = {"redisUrl": valkey_server.url, "makerCommission": 0.0002, "tickLoop": False}
    exchange = MockExchange({"options": options})
    assert exchange.fees["trading"]["maker"] == 0.0002
    exchange.load_markets()
    assert exchange.fees["trading"]["maker"] == 0.0002


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("commission", 0.002),
        ("makerCommission", 0.0),
        ("takerCommission", 0.002),
        ("redisUrl", "redis://127.0.0.1:6379/0"),
        ("keyPrefix", "x:"),
        ("priceKeyPrefix", "px_"),
        ("account", "other"),
        ("tickLoop", False),
        ("fillModel", "book"),
        ("maxSlippageBps", 100),
    ],
)
def test_engine_only_options_are_refused_over_http(option: str, value: object) -> None:
    """``options['commission']`` with ``serverUrl`` used to be silently ignored."""
    assert option in ENGINE_OPTIONS
    with pytest.raises(ccxt.NotSupported, match=option):
        MockExchange({"apiKey": KEY, "options": {"serverUrl": "http://127.0.0.1:9", option: value}})
    with pytest.raises(ccxt.NotSupported, match=option):
        AsyncMockExchange({"apiKey": KEY, "options": {"serverUrl": "http://127.0.0.1:9", option: value}})


def test_unset_engine_options_are_fine_over_http() -> None:
    exchange = MockExchange({"apiKey": KEY, "options": {"serverUrl": "http://127.0.0.1:9", "commission": None}})
    assert exchange.engine is None
