"""Prices: set_price (feed write + immediate settlement), the replay clock, process_price_tick on outside
writes, tickers, markets and trading fees."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
from tests_helpers import keyspace

from mockexchange_ccxt import Engine, ReplayClock
from mockexchange_ccxt.errors import BadRequest, BadSymbol, InvalidOrder

from .conftest import EngineFactory


def test_set_price_writes_the_feed_hash_and_returns_zero_without_orders(engine: Engine) -> None:
    assert engine.set_price("BTC/USDT", "50000.5", timestamp=1_700_000_000_123) == 0
    assert engine.store.read("HGETALL", "sym_BTC/USDT") == {"price": "50000.5", "timestamp": "1700000000123"}


def test_set_price_defaults_to_the_wall_clock(engine: Engine) -> None:
    before = time.time_ns() // 1_000_000
    engine.set_price("BTC/USDT", 50000)
    after = time.time_ns() // 1_000_000
    stamp = int(engine.store.read("HGET", "sym_BTC/USDT", "timestamp"))
    assert before <= stamp <= after
    assert engine.ticker("BTC/USDT")["timestamp"] == stamp


def test_set_price_bid_ask_are_optional_and_dropped_when_not_given(engine: Engine) -> None:
    engine.set_price("BTC/USDT", "50000", timestamp=1_700_000_000_000, bid="49990", ask="50010")
    ticker = engine.ticker("BTC/USDT")
    assert (ticker["bid"], ticker["ask"], ticker["last"]) == (Decimal(49990), Decimal(50010), Decimal(50000))
    engine.set_price("BTC/USDT", "50100", timestamp=1_700_000_001_000)
    assert engine.store.read("HGETALL", "sym_BTC/USDT") == {"price": "50100", "timestamp": "1700000001000"}
    ticker = engine.ticker("BTC/USDT")
    assert ticker["bid"] == ticker["ask"] == ticker["last"] == Decimal(50100)


def test_set_price_settles_crossed_orders_at_once_and_counts_them(btc: Engine) -> None:
    ids = [btc.create_order("BTC/USDT", "buy", "limit", "0.01", p)["id"] for p in ("49000", "48000", "47000")]
    bought = btc.create_order("BTC/USDT", "buy", "market", "0.02")
    ask = btc.create_order("BTC/USDT", "sell", "limit", "0.02", "52000")["id"]
    assert bought["status"] == "closed"
    assert btc.set_price("BTC/USDT", "48000") == 2
    assert [btc.fetch_order(i)["status"] for i in ids] == ["closed", "closed", "open"]
    assert btc.set_price("BTC/USDT", "48000") == 0  # idempotent: nothing fills twice
    assert btc.set_price("BTC/USDT", "52000.01") == 1
    assert btc.fetch_order(ask)["status"] == "closed"
    assert btc.fetch_order(ask)["price"] == Decimal(52000)


def test_replay_clock_follows_price_timestamps(make_engine: EngineFactory) -> None:
    replay = make_engine(clock=ReplayClock())
    replay.fund("USDT", "100000")
    replay.set_price("BTC/USDT", "50000", timestamp=1_600_000_000_000)
    assert replay.now_ms() == 1_600_000_000_000
    order = replay.create_order("BTC/USDT", "buy", "limit", "0.1", "49000")
    assert order["timestamp"] == 1_600_000_000_000
    assert order["datetime"] == "2020-09-13T12:26:40.000Z"
    replay.set_price("ETH/USDT", "2500", timestamp=1_500_000_000_000)  # older data never moves time back
    assert replay.now_ms() == 1_600_000_000_000
    assert replay.set_price("BTC/USDT", "48000", timestamp=1_600_000_060_000) == 1
    filled = replay.fetch_order(order["id"])
    assert filled["lastTradeTimestamp"] == 1_600_000_060_000
    assert replay.fetch_my_trades()[0]["timestamp"] == 1_600_000_060_000
    assert replay.fetch_balance()["timestamp"] == 1_600_000_060_000


def test_replay_clock_set_price_without_timestamp_leaves_a_usable_price(make_engine: EngineFactory) -> None:
    replay = make_engine(clock=ReplayClock())
    replay.set_price("BTC/USDT", "50000")
    assert replay.ticker("BTC/USDT")["last"] == Decimal(50000)


@pytest.mark.parametrize(
    ("raw", "expected_ms"), [("1700000000", 1_700_000_000_000), ("1700000000123", 1_700_000_000_123)]
)
def test_process_price_tick_settles_an_outside_write(btc: Engine, raw: str, expected_ms: int) -> None:
    order = btc.create_order("BTC/USDT", "buy", "limit", "0.1", "49000")
    btc.store.call("HSET", "sym_BTC/USDT", "price", "48500", "timestamp", raw)
    assert btc.fetch_order(order["id"])["status"] == "open"  # an outside write alone settles nothing
    assert btc.process_price_tick("BTC/USDT") == 1
    filled = btc.fetch_order(order["id"])
    assert filled["status"] == "closed"
    assert filled["average"] == Decimal(49000)  # its own limit, not the lower tick
    # the feed's time, unless that is before the order was placed: a fill is never timed before its order
    assert filled["lastTradeTimestamp"] == max(expected_ms, order["timestamp"])
    assert btc.ticker("BTC/USDT")["timestamp"] == expected_ms
    assert btc.process_price_tick("BTC/USDT") == 0


def test_process_price_tick_uses_the_touch_side(btc: Engine) -> None:
    btc.fund("BTC", "1")
    buy = btc.create_order("BTC/USDT", "buy", "limit", "0.1", "49000")["id"]
    sell = btc.create_order("BTC/USDT", "sell", "limit", "0.1", "51000")["id"]
    feed = "sym_BTC/USDT"
    # a last price below the buy's limit, and above the sell's, fills neither while the touch has not crossed
    btc.store.call("HSET", feed, "price", "48000", "bid", "48000", "ask", "49000.00000001", "timestamp", "1700000000")
    assert btc.process_price_tick("BTC/USDT") == 0
    btc.store.call("HSET", feed, "price", "52000", "bid", "50999.99999999", "ask", "52000")
    assert btc.process_price_tick("BTC/USDT") == 0
    btc.store.call("HSET", feed, "price", "49000", "bid", "48999", "ask", "49000")
    assert btc.process_price_tick("BTC/USDT") == 1
    assert btc.fetch_order(buy)["status"] == "closed"
    btc.store.call("HSET", feed, "price", "52000", "bid", "51000", "ask", "52000")
    assert btc.process_price_tick("BTC/USDT") == 1
    assert btc.fetch_order(sell)["status"] == "closed"


@pytest.mark.parametrize(
    "fields",
    [
        None,
        {"price": "abc", "timestamp": "1700000000"},
        {"price": "-48000", "timestamp": "1700000000"},
        {"price": "48000"},
        {"price": "48000", "timestamp": "0"},
        {"price": "", "timestamp": "1700000000"},
        {"price": "1e-99999", "timestamp": "1700000000"},  # a hundred thousand digits as plain text
        {"price": "0.0000000000000000000000000000000000000000001", "timestamp": "1700000000"},
        {"price": "48000", "timestamp": "100000000000000"},  # 10^14 ms: past the bound
        {"price": b"\xff48000", "timestamp": "1700000000"},  # not UTF-8
        "string",
    ],
)
def test_process_price_tick_skips_a_missing_or_malformed_hash(
    btc: Engine, fields: dict[str, str | bytes] | str | None
) -> None:
    order = btc.create_order("BTC/USDT", "buy", "limit", "0.1", "49000")["id"]
    btc.store.call("DEL", "sym_BTC/USDT")
    if isinstance(fields, dict):
        btc.store.call("HSET", "sym_BTC/USDT", *[x for pair in fields.items() for x in pair])
    elif fields == "string":
        btc.store.call("SET", "sym_BTC/USDT", "48000")
    assert btc.process_price_tick("BTC/USDT") == 0
    assert btc.fetch_order(order)["status"] == "open"
    assert btc.balance("USDT")["used"] == Decimal("4904.9")


def test_ticker_is_ccxt_unified(engine: Engine) -> None:
    engine.store.call(
        "HSET", "sym_BTC/USDT", "price", "50000.5", "timestamp", "1700000000", "bid", "50000", "ask", "50001",
        "baseVolume", "12.5", "quoteVolume", "625000",
    )  # fmt: skip
    ticker = engine.ticker("BTC/USDT")
    assert ticker["symbol"] == "BTC/USDT"
    assert ticker["timestamp"] == 1_700_000_000_000
    assert ticker["datetime"] == "2023-11-14T22:13:20.000Z"
    assert ticker["last"] == ticker["close"] == Decimal("50000.5")
    assert (ticker["bid"], ticker["ask"]) == (Decimal(50000), Decimal(50001))
    assert (ticker["baseVolume"], ticker["quoteVolume"]) == (Decimal("12.5"), Decimal(625000))
    assert ticker["info"]["price"] == "50000.5"
    assert {"high", "low", "open", "vwap", "change", "percentage"} <= set(ticker)


def test_ticker_of_unknown_and_unpriced_symbols(engine: Engine) -> None:
    with pytest.raises(BadSymbol):
        engine.ticker("NOPE/USDT")
    with pytest.raises(BadSymbol):
        engine.ticker("BTCUSDT")
    engine.store.call("HSET", "sym_BAD/USDT", "price", "oops", "timestamp", "1700000000")
    with pytest.raises(InvalidOrder):
        engine.ticker("BAD/USDT")


def test_tickers_lists_priced_symbols_and_skips_broken_feed_keys(btc: Engine) -> None:
    btc.store.call("HSET", "sym_BAD/USDT", "price", "oops", "timestamp", "1700000000")
    btc.store.call("SET", "sym_X/USDT", "123")
    btc.store.call("HSET", "sym_notasymbol", "price", "1", "timestamp", "1700000000")
    tickers = btc.tickers()
    assert sorted(tickers) == ["BTC/USDT", "ETH/USDT"]
    assert tickers["ETH/USDT"]["last"] == Decimal(2500)
    assert sorted(btc.tickers(["BTC/USDT", "NOPE/USDT", "BAD/USDT"])) == ["BTC/USDT"]
    with pytest.raises(BadSymbol):
        btc.tickers(["BTC-USDT"])


def test_tickers_skip_a_hash_with_an_absurd_timestamp(btc: Engine) -> None:
    btc.store.call("HSET", "sym_ETH/USDT", "price", "2500", "timestamp", "1e20")
    assert sorted(btc.tickers()) == ["BTC/USDT"]


def test_markets_describe_every_priced_symbol(btc: Engine, make_engine: EngineFactory) -> None:
    btc.store.call("HSET", "sym_BAD/USDT", "price", "oops", "timestamp", "1700000000")
    markets = btc.markets()
    assert sorted(markets) == ["BTC/USDT", "ETH/USDT"]
    market = markets["BTC/USDT"]
    assert (market["id"], market["base"], market["quote"], market["type"], market["spot"]) == (
        "BTC/USDT", "BTC", "USDT", "spot", True,
    )  # fmt: skip
    assert market["maker"] == market["taker"] == Decimal("0.001")
    assert market["precision"]["amount"] == market["precision"]["price"] == Decimal("0.00000001")
    assert market["limits"]["amount"]["max"] == Decimal(10) ** 10
    tiered = make_engine(maker_commission=Decimal("0.0002"), taker_commission=Decimal("0.0007"))
    assert tiered.markets()["ETH/USDT"]["maker"] == Decimal("0.0002")
    assert tiered.markets()["ETH/USDT"]["taker"] == Decimal("0.0007")


def test_trading_fee_reports_the_configured_rates(engine: Engine, make_engine: EngineFactory) -> None:
    fee = engine.trading_fee("BTC/USDT")
    assert (fee["symbol"], fee["maker"], fee["taker"]) == ("BTC/USDT", Decimal("0.001"), Decimal("0.001"))
    tiered = make_engine(commission=Decimal("0.002"), taker_commission=Decimal("0.003"))
    fee = tiered.trading_fee("ETH/USDT")
    assert (fee["maker"], fee["taker"]) == (Decimal("0.002"), Decimal("0.003"))
    assert fee["info"] == {"maker": "0.002", "taker": "0.003"}
    with pytest.raises(BadSymbol):
        engine.trading_fee("ETHUSDT")


def test_custom_price_prefix_is_used_for_the_feed(make_engine: EngineFactory) -> None:
    custom = make_engine(price_key_prefix="px:")
    custom.set_price("BTC/USDT", "50000", timestamp=1_700_000_000_000)
    assert custom.store.read("HGET", "px:BTC/USDT", "price") == "50000"
    assert custom.store.read("EXISTS", "sym_BTC/USDT") == 0
    assert list(custom.tickers()) == ["BTC/USDT"]


@pytest.mark.parametrize("corrupt", [("SET", "junk"), ("RPUSH", "a", "b"), ("SADD", "x")])
def test_set_price_replaces_a_corrupt_feed_key_and_settles_at_the_published_price(
    btc: Engine, corrupt: tuple[str, ...]
) -> None:
    btc.set_price("X/USDT", "100", bid="99", ask="101")
    order = btc.create_order("X/USDT", "buy", "limit", "1", "90")["id"]
    btc.store.call("DEL", "sym_X/USDT")
    btc.store.call(corrupt[0], "sym_X/USDT", *corrupt[1:])
    assert btc.set_price("X/USDT", "80") == 1
    feed = btc.store.read("HGETALL", "sym_X/USDT")
    assert sorted(feed) == ["price", "timestamp"] and feed["price"] == "80"  # stale bid/ask dropped
    assert btc.ticker("X/USDT")["last"] == Decimal(80)
    assert btc.fetch_order(order)["status"] == "closed" and btc.fetch_order(order)["price"] == Decimal(90)


# -- crossed quotes: a bid above the ask, a bid above the price or an ask below it -----------------------------


@pytest.mark.parametrize(
    ("price", "bid", "ask", "named"),
    [
        ("100", "120", None, "bid 120 is above the price 100"),  # bought at 100, sold at 120: free money
        ("100", None, "90", "ask 90 is below the price 100"),
        ("100", "110", "105", "bid 110 is above the ask 105"),
        ("100", "101", "102", "bid 101 is above the price 100"),
        ("100", "98", "99", "ask 99 is below the price 100"),
    ],
)
def test_set_price_refuses_a_crossed_quote_and_changes_nothing(
    make_engine: EngineFactory, price: str, bid: str | None, ask: str | None, named: str
) -> None:
    clock = ReplayClock()
    engine = make_engine(clock=clock)
    engine.set_price("BTC/USDT", "50000", timestamp=1_700_000_000_000)
    engine.fund("USDT", "1000")
    before = keyspace(engine)
    with pytest.raises(BadRequest, match=named):
        engine.set_price("BTC/USDT", price, timestamp=1_700_000_060_000, bid=bid, ask=ask)
    assert keyspace(engine) == before
    assert clock.now_ms() == 1_700_000_000_000  # a refused price does not move the replay clock


@pytest.mark.parametrize(
    ("bid", "ask"), [("99", "101"), ("100", "100"), ("100", None), (None, "100"), ("99.99999999", "100.00000001")]
)
def test_set_price_accepts_a_quote_around_the_price(engine: Engine, bid: str | None, ask: str | None) -> None:
    engine.set_price("BTC/USDT", "100", bid=bid, ask=ask)
    ticker = engine.ticker("BTC/USDT")
    assert ticker["bid"] <= ticker["last"] <= ticker["ask"]


@pytest.mark.parametrize(
    "fields",
    [
        {"price": "100", "bid": "120"},
        {"price": "100", "ask": "90"},
        {"price": "100", "bid": "110", "ask": "105"},
        {"price": "100", "bid": "100.00000001", "ask": "101"},
    ],
)
def test_a_crossed_feed_quote_is_unpriced(btc: Engine, fields: dict[str, str]) -> None:
    """A bot used to buy at 100 and sell at 120 at once (1,000 USDT became 1,098.9)."""
    btc.fund("BTC", "1")
    order = btc.create_order("BTC/USDT", "buy", "limit", "0.001", "99")["id"]
    btc.store.call("DEL", "sym_X/USDT")
    btc.store.call("HSET", "sym_X/USDT", "timestamp", "1700000000", *[x for pair in fields.items() for x in pair])
    with pytest.raises(InvalidOrder, match="no valid price"):
        btc.ticker("X/USDT")
    with pytest.raises(InvalidOrder, match="no valid price"):
        btc.create_order("X/USDT", "buy", "market", "1")
    assert "X/USDT" not in btc.markets() and "X/USDT" not in btc.tickers()
    # the same quote on a symbol with a resting order settles nothing
    btc.store.call("HSET", "sym_BTC/USDT", "timestamp", "1700000000", "bid", "", "ask", "")
    btc.store.call("HSET", "sym_BTC/USDT", *[x for pair in fields.items() for x in pair])
    assert btc.process_price_tick("BTC/USDT") == 0
    assert btc.fetch_order(order)["status"] == "open"
