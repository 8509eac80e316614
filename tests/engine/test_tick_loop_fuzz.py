"""The tick loop under a garbage price feed: generated contents of ``sym_BTC/USDT``, written straight into
Valkey (as an outside feed would) while orders rest on that symbol and the engine's real loop runs.

DESIGN.md, section 3: "A missing or malformed hash means no price: skip it, never crash." So whatever the
feed holds, the loop thread stays alive, nothing that garbage holds moves an order or a balance, a healthy
neighbour symbol still settles on its next tick, and once the feed writes a valid crossing price again the
orders on the symbol settle, exactly.

Garbage comes in four kinds, each built so that the right answer is known without asking the engine's own
parser: no usable price (missing, words, zero, negative, NaN, above the maximum, junk after digits), a
crossing price with no usable timestamp, a valid quote whose every number lies strictly between the resting
limits (so nothing may fill), and a key of the wrong type (string, list, set, sorted set, stream).

Garbage is read by the feed parser, the same for both kinds of store, so these run on the single Valkey
only (the tick loop on a cluster has its own tests).
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from tests_helpers import keyspace, wait_for

from mockexchange_ccxt import Engine

from .conftest import EngineFactory

pytestmark = pytest.mark.single_node

EXAMPLES = 60
TICK = 0.005  # seconds between passes: garbage meets many passes in little time

SYMBOL, NEIGHBOUR = "BTC/USDT", "ETH/USDT"
FEED_KEY = "sym_" + SYMBOL
BUY_LIMIT, SELL_LIMIT = 40_000, 60_000  # the resting BTC/USDT orders; prices strictly between cross nothing


# -- the generated feed contents -------------------------------------------------------------------------

#: Text that is no positive finite number: words (nan and infinity among them), zeros, negatives, junk after
#: digits (never an exponent: "1e5" is a number).
_words = st.from_regex(r"\A[A-Za-z_ ,;:!?#%&*()\[\]{}<>|~^'\"-]{0,30}\Z")
_specials = st.sampled_from(["nan", "NaN", "sNaN", "inf", "-Infinity", "0", "0.0", "-0", "0e10", "--1", "1" * 65])
_negative = st.from_regex(r"\A-\d{1,12}(\.\d{1,8})?\Z")
_junk = st.from_regex(r"\A\d{1,6}[A-DF-Za-df-z#,/]+\d{0,3}\Z")
not_a_price = st.one_of(
    _words,
    _specials,
    _negative,
    _junk,
    st.from_regex(r"\A[1-9]\d{8,30}(\.\d{1,8})?\Z"),  # above 2^53 units
)
#: Text that is no timestamp: not a positive finite number, or later than the year 9999 in milliseconds.
not_a_timestamp = st.one_of(
    _words, _specials, _negative, _junk, st.sampled_from(["1e20", "253402300800000", "99999999999999999"])
)
#: A price strictly between the resting limits: a valid quote that must fill neither order.
inside = st.decimals(min_value=BUY_LIMIT, max_value=SELL_LIMIT, places=8, allow_nan=False).filter(
    lambda price: BUY_LIMIT < price < SELL_LIMIT
)
timestamps = st.sampled_from(["1700000000", "1700000000123", "0.5", " 1700000000 "])
#: Field names of the feed, their near misses, and anything.
names = st.one_of(
    st.sampled_from(["price", "timestamp", "bid", "ask", "baseVolume", "quoteVolume", "Price", "price ", "last", ""]),
    st.text(max_size=12),
)
#: Values anywhere outside price, timestamp, bid and ask (the volumes are information, never money).
anything = st.one_of(st.text(max_size=40), not_a_price, inside.map(str), st.just("39000"))


def _without(fields: dict[str, str], *drop: str) -> dict[str, str]:
    return {name: value for name, value in fields.items() if name not in drop}


@st.composite
def no_price(draw: st.DrawFn) -> dict[str, str]:
    """Any hash whose ``price`` is missing or no number; bid, ask and timestamp may even be valid."""
    fields = _without(draw(st.dictionaries(names, anything, max_size=6)), "price")
    fields.update(draw(st.fixed_dictionaries({}, optional={"price": not_a_price, "timestamp": timestamps})))
    fields.update(draw(st.fixed_dictionaries({}, optional={"bid": st.just("39000"), "ask": st.just("39000")})))
    return fields


@st.composite
def crossing_price_no_timestamp(draw: st.DrawFn) -> dict[str, str]:
    """A price that would fill the buy, with a timestamp that is missing or garbage."""
    fields = _without(draw(st.dictionaries(names, anything, max_size=6)), "price", "timestamp", "bid", "ask")
    fields["price"] = "39000"
    fields.update(draw(st.fixed_dictionaries({}, optional={"timestamp": not_a_timestamp})))
    return fields


@st.composite
def quote_inside(draw: st.DrawFn) -> dict[str, str]:
    """A valid quote: price, and bid and ask when they are numbers at all, strictly between the limits."""
    fields = _without(draw(st.dictionaries(names, anything, max_size=6)), "price", "timestamp", "bid", "ask")
    fields["price"] = str(draw(inside))
    fields["timestamp"] = draw(timestamps)
    for side in ("bid", "ask"):
        value = draw(st.one_of(st.none(), inside.map(str), not_a_price))
        if value is not None:
            fields[side] = value
    return fields


#: (Valkey command that writes the garbage, its arguments after the key, whether it holds a valid price)
Write = tuple[str, list[Any], bool]


def _hash_write(fields: dict[str, str], priced: bool) -> Write:
    return ("HSET", [item for pair in fields.items() for item in pair], priced) if fields else ("DEL", [], False)


hash_writes = st.one_of(
    no_price().map(lambda fields: _hash_write(fields, False)),
    crossing_price_no_timestamp().map(lambda fields: _hash_write(fields, False)),
    quote_inside().map(lambda fields: _hash_write(fields, True)),
)
wrong_types = st.one_of(
    st.builds(lambda value: ("SET", [value], False), st.one_of(st.just("39000"), anything)),
    st.builds(lambda values: ("RPUSH", values, False), st.lists(anything, min_size=1, max_size=4)),
    st.builds(lambda values: ("SADD", values, False), st.lists(anything, min_size=1, max_size=4)),
    st.builds(lambda member: ("ZADD", [39000, member], False), anything),
    st.builds(lambda value: ("XADD", ["*", "price", value], False), st.one_of(st.just("39000"), anything)),
)
garbage: st.SearchStrategy[Write] = st.one_of(hash_writes, wrong_types)


# -- the test ---------------------------------------------------------------------------------------------


@pytest.fixture
def ticking(make_engine: EngineFactory) -> Iterator[Engine]:
    """An engine whose tick loop runs every few milliseconds (stopped at the end)."""
    fast = make_engine(tick_loop_sec=TICK)
    yield fast
    fast.stop_tick_loop()


def seed(engine: Engine) -> dict[str, str]:
    """Both symbols priced, USDT and BTC funded, a resting buy and sell on BTC/USDT and a resting buy on
    ETH/USDT (none crossed at the seeded prices); returns the order ids by name."""
    engine.store.call("FLUSHALL")
    engine.set_price(SYMBOL, "50000")
    engine.set_price(NEIGHBOUR, "2500")
    engine.fund("USDT", "100000")
    engine.fund("BTC", "2")
    return {
        "buy": engine.create_order(SYMBOL, "buy", "limit", "0.1", str(BUY_LIMIT))["id"],
        "sell": engine.create_order(SYMBOL, "sell", "limit", "0.5", str(SELL_LIMIT))["id"],
        "neighbour": engine.create_order(NEIGHBOUR, "buy", "limit", "1", "2000")["id"],
    }


def account_state(engine: Engine) -> dict[str, Any]:
    """The account's keys: orders, books, balances."""
    return {key: value for key, value in keyspace(engine).items() if key.startswith(engine.keys.balances[:-8])}


def history_state(engine: Engine) -> dict[str, Any]:
    """The symbol's candles and their bookkeeping."""
    return {key: value for key, value in keyspace(engine).items() if key.startswith(f"mockx:{{{FEED_KEY}}}")}


def write_garbage(engine: Engine, write: Write) -> None:
    command, arguments, _priced = write
    engine.store.call("DEL", FEED_KEY)
    if command != "DEL":
        engine.store.call(command, FEED_KEY, *arguments)


def status(engine: Engine, order_id: str) -> str:
    result: str = engine.fetch_order(order_id)["status"]
    return result


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(write=garbage)
def test_garbage_feed_moves_nothing_and_a_valid_price_settles(ticking: Engine, write: Write) -> None:
    note(f"garbage: {write!r}")
    engine = ticking
    engine.stop_tick_loop()
    ids = seed(engine)
    before, history_before = account_state(engine), history_state(engine)

    # garbage alone, over several passes: the loop lives on and nothing moves
    write_garbage(engine, write)
    engine.start_tick_loop()
    passes = engine.tick_loop.passes
    assert wait_for(lambda: engine.tick_loop.passes >= passes + 3), "the loop stopped passing"
    assert engine.tick_loop.running
    engine.stop_tick_loop()
    engine.store.call("DEL", FEED_KEY)  # the test helper dumps every key, and cannot read every key type
    assert account_state(engine) == before, "garbage in the feed moved an order or a balance"
    if not write[2]:
        assert history_state(engine) == history_before, "garbage in the feed was recorded as a candle"

    # the garbage is back while a healthy neighbour ticks: the neighbour settles all the same
    write_garbage(engine, write)
    engine.store.call("HSET", "sym_" + NEIGHBOUR, "price", "1900", "timestamp", "1700000000")
    engine.start_tick_loop()
    assert wait_for(lambda: status(engine, ids["neighbour"]) == "closed"), "a garbage feed starved its neighbour"

    # the feed recovers: its next valid crossing price settles the buy, at its limit, and only the buy
    engine.store.call("DEL", FEED_KEY)
    engine.store.call("HSET", FEED_KEY, "price", "39000", "timestamp", "1700000000")
    assert wait_for(lambda: status(engine, ids["buy"]) == "closed")
    assert engine.tick_loop.running
    engine.stop_tick_loop()
    assert status(engine, ids["sell"]) == "open"
    totals = engine.fetch_balance()["total"]
    # USDT: 100000 - (4000 + 4 fee) for the BTC buy - (2000 + 2 fee) for the ETH buy; BTC: 2 + 0.1
    assert totals == {"USDT": Decimal("93994"), "BTC": Decimal("2.1"), "ETH": Decimal("1")}


# -- regressions found by the properties above ------------------------------------------------------------


def test_a_feed_value_that_is_not_utf8_starves_no_neighbour(ticking: Engine) -> None:
    """A feed hash holding bytes that are not UTF-8 reads as "no price" (it used to raise a bare
    UnicodeDecodeError that aborted the whole pass, and ``tickers``/``markets`` with it)."""
    ids = seed(ticking)
    ticking.store.call("HSET", FEED_KEY, "price", b"\xff\xfe", "timestamp", "1700000000")
    ticking.store.call("HSET", "sym_" + NEIGHBOUR, "price", "1900", "timestamp", "1700000000")
    ticking.start_tick_loop()
    assert wait_for(lambda: status(ticking, ids["neighbour"]) == "closed", timeout=1.0)
