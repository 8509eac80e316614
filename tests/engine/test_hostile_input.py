"""Hostile arguments to the in-process ``Engine``, generated: any value where a symbol, a side, an amount, an id
or a count belongs.

``test_errors.py`` lists the refusals one by one; this is the property behind them. Whatever the arguments,
a public method either does its job or raises a ``MockExchangeError`` of a client status (never a bare
ValueError, TypeError, OverflowError or redis error, never INTERNAL), and a refusal leaves every key of
Valkey as it was. After a call that succeeded, the account must still read back (orders, trades, balance,
tickers, markets): no accepted value may poison later calls.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from tests_helpers import SeededAccount, keyspace, seed_markets

from mockexchange_ccxt import Engine
from mockexchange_ccxt.errors import BadRequest, MockExchangeError

EXAMPLES = 100

OPEN_BUY, OPEN_SELL, CLOSED, CANCELED = "1", "2", "3", "4"


def seed(engine: Engine) -> None:
    """Two priced markets, a malformed and a wrong-type feed key, USDT and BTC funded, open, closed and
    canceled orders and a used clientOrderId: something for every hostile argument to aim at."""
    seed_markets(engine)
    ids = [
        engine.create_order("BTC/USDT", "buy", "limit", "0.1", "40000", client_order_id="seeded")["id"],
        engine.create_order("BTC/USDT", "sell", "limit", "0.5", "60000")["id"],
        engine.create_order("ETH/USDT", "buy", "market", "0.5")["id"],
        engine.create_order("ETH/USDT", "buy", "limit", "1", "2000")["id"],
    ]
    engine.cancel_order(CANCELED)
    assert ids == [OPEN_BUY, OPEN_SELL, CLOSED, CANCELED]


@pytest.fixture
def account(engine: Engine) -> SeededAccount:
    return SeededAccount(engine, seed)


# -- hostile values ---------------------------------------------------------------------------------------


def hostile(known: list[Any], *generated: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Half the time one of the ``known`` troublemakers, half the time a ``generated`` value: Hypothesis
    picks a branch of ``one_of`` evenly, so a short list of must-try values would otherwise drown."""
    return st.one_of(st.sampled_from(known), st.one_of(*generated))


#: Values of the wrong type for any argument.
WRONG_TYPES: list[Any] = [None, True, False, b"1", [], [1], {}, {"a": 1}, (), object()]
wrong_types = st.one_of(
    st.sampled_from(WRONG_TYPES),
    st.binary(max_size=8),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
#: Numbers that break naive code: NaN (a Decimal NaN raises on compare, sNaN even on ==), the infinities,
#: signed zero, the float extremes, integers past int64 and float precision, Decimals with many digits and
#: far exponents, and numeric-looking text (Unicode digits, underscores, hex, exponents).
NUMBERS: list[Any] = [
    float("nan"), float("inf"), float("-inf"), -0.0, 1e308, -1e308, 5e-324, 1e-9, 0.1 + 0.2,
    0, -1, 2**53 + 1, 2**63, 2**64, 10**10 + 1, -(2**63), 10**30,
    Decimal("NaN"), Decimal("-NaN"), Decimal("sNaN"), Decimal("Infinity"), Decimal("-0"), Decimal("1E+40"),
    Decimal("1E-40"), Decimal("0.000000001"), Decimal("1." + "0" * 60 + "1"), Decimal("1" * 60),
    "NaN", "sNaN", "-Infinity", "inf", "0x10", "1_000", "١٢", "²", "1,5", "--1", "", " ", "1" * 70, "1e-9", "1e11",
    *WRONG_TYPES,
]  # fmt: skip
numbers = hostile(
    NUMBERS,
    st.floats(),
    st.integers(),
    st.decimals(min_value=-(10**20), max_value=10**20),
    st.builds(lambda digits, exponent: Decimal(digits).scaleb(exponent), st.integers(), st.integers(-60, 60)),
    st.from_regex(r"\A[ +-]?\d{0,25}(\.\d{0,25})?([eE][+-]?\d{1,2})?\s?\Z"),
    st.text(max_size=70),
    wrong_types,
)
counts = hostile([0, -1, 2**64, 1.5, "3", float("nan"), *WRONG_TYPES], st.integers(), st.floats(), st.text(max_size=5))
words = hostile(["", " ", "\x00", "x" * 1000, 1, 1.5, *WRONG_TYPES], st.text(max_size=20), wrong_types)

hostile_symbols = hostile(
    ["BAD/USDT", "WT/USDT", "DOGE/USDT", "btc/usdt", "BTC/", "/USDT", "/", "BTC/BTC", "BTC/USDT/ETH", "BTCUSDT",
     "ÄBC/USDT", "BTC/USDT\n", " BTC/USDT", "BTC\x00/USDT", "B" * 10_000 + "/USDT", "A" * 33 + "/B", "*/USDT",
     "BTC/USDT*", "{main}/X", "", *WRONG_TYPES],
    st.from_regex(r"\A[A-Za-z0-9_.-]{1,33}/[A-Za-z0-9_.-]{1,33}\Z"),
    st.text(max_size=40),
    wrong_types,
)  # fmt: skip
hostile_assets = hostile(
    ["", "US DT", "BTC/USDT", "A" * 33, "\x00", "Ü", "-X", "usdt", "B.T-C_1", "free:USDT", "*", *WRONG_TYPES],
    st.text(max_size=40),
    wrong_types,
)
hostile_ids = hostile(
    ["999", "0", "01", "-1", "1.0", " 1", "1 ", "٣", "²", "9" * 21, "9" * 20, "", 1, -1, 2**64, 1.5, *WRONG_TYPES],
    st.from_regex(r"\A\d{1,25}\Z"),
    st.integers(),
    st.text(max_size=30),
    wrong_types,
)
#: Timestamps (ms) for set_price, around the bound (10^14, past which cjson would write them as floats).
hostile_timestamps = hostile(
    [0, -1, 1, 1_700_000_000, 10**14 - 1, 10**14, 10**30, 1.5, "1700000000000", float("nan"), *WRONG_TYPES],
    st.integers(),
    st.text(max_size=15),
)


#: argument -> (sane values, hostile values). An example makes one of a call's arguments hostile (or none, or
#: all) and keeps the others sane, so that each hostile value gets past the checks of the others to its own.
ARGUMENTS: dict[str, tuple[st.SearchStrategy[Any], st.SearchStrategy[Any]]] = {
    "symbol": (st.sampled_from(["BTC/USDT", "ETH/USDT"]), hostile_symbols),
    "side": (st.sampled_from(["buy", "sell"]), st.one_of(st.sampled_from(["BUY", " buy", "hold", "sell\x00"]), words)),
    "type": (
        st.sampled_from(["market", "limit", "limit_maker", "stop_loss", "stop_loss_limit", "take_profit_limit"]),
        st.one_of(st.sampled_from(["LIMIT", "stop", "market ", "STOP_LOSS"]), words),
    ),
    "amount": (st.sampled_from(["0.001", "0.1", "1", 0.5, 2, Decimal("0.25")]), numbers),
    "price": (st.sampled_from(["2000", "2600", "45000", "55000", 52000.5, Decimal("49999.99")]), numbers),
    "client_order_id": (
        st.sampled_from([None, "fresh-1", "bot:42"]),
        st.one_of(st.sampled_from(["seeded", "a b", "x" * 65, "ü", "", "1" * 64]), words),
    ),
    "order_id": (st.sampled_from([OPEN_BUY, OPEN_SELL, CLOSED, CANCELED, int(OPEN_SELL)]), hostile_ids),
    "asset": (st.sampled_from(["USDT", "BTC", "ETH"]), hostile_assets),
    "free": (st.sampled_from(["0", "1.5", "100000"]), numbers),
    "used": (st.sampled_from(["4004", "5000", 10000]), numbers),
    "timestamp": (st.sampled_from([None, 1_700_000_000_000]), hostile_timestamps),
    "bid": (st.sampled_from([None, "49990", 2499]), numbers),
    "ask": (st.sampled_from([None, "50010", 2501]), numbers),
    "status": (
        st.sampled_from([None, "open", "closed", "canceled"]),
        st.one_of(st.sampled_from(["OPEN", "all"]), words),
    ),
    "tail": (st.sampled_from([None, 1, 3]), counts),
    "limit": (st.sampled_from([None, 1, 3]), counts),
    "since": (st.sampled_from([None, 0, 1_700_000_000_000]), counts),
    "time_in_force": (
        st.sampled_from([None, "GTC", "IOC", "FOK", "PO"]),
        st.one_of(st.sampled_from(["gtc", "GTD", "PO "]), words),
    ),
    "post_only": (st.sampled_from([None, False, True]), st.sampled_from(["yes", 1, 0, 1.0, *WRONG_TYPES])),
    "stop_loss_price": (st.sampled_from([None, "45000", "55000", "2400", 2600.5]), numbers),
    "take_profit_price": (st.sampled_from([None, "45000", "55000", "2600"]), numbers),
    "trigger_price": (st.sampled_from([None, "45000", "55000", Decimal("2400")]), numbers),
    "cost": (st.sampled_from([None, "100", 50.5]), numbers),
    "order_ids": (
        st.sampled_from([[OPEN_BUY], [OPEN_BUY, OPEN_SELL], [OPEN_SELL, OPEN_SELL]]),
        st.one_of(st.lists(hostile_ids, max_size=3), st.sampled_from(["12", OPEN_BUY, *WRONG_TYPES])),
    ),
}
#: method -> (required arguments, optional arguments)
CALLS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "create_order": (
        ("symbol", "side", "type", "amount"),
        (
            "price",
            "client_order_id",
            "time_in_force",
            "post_only",
            "stop_loss_price",
            "take_profit_price",
            "trigger_price",
            "cost",
        ),
    ),
    "cancel_order": (("order_id",), ()),
    "cancel_orders": (("order_ids",), ()),
    "cancel_all_orders": ((), ("symbol",)),
    "fetch_my_trades": ((), ("symbol", "since", "limit")),
    "fetch_order": (("order_id",), ()),
    "fund": (("asset", "amount"), ()),
    "edit_balance": (("asset",), ("free", "used")),
    "set_price": (("symbol", "price"), ("timestamp", "bid", "ask")),
    "fetch_orders": ((), ("status", "symbol", "tail", "since", "limit")),
    "ticker": (("symbol",), ()),  # the engine's fetch_ticker
}


@st.composite
def arguments_of(draw: st.DrawFn, method: str) -> dict[str, Any]:
    required, optional = CALLS[method]
    names = [*required, *(name for name in optional if draw(st.booleans()))]
    hostile = draw(st.sampled_from([(), *((name,) for name in names), tuple(names)]))
    return {name: draw(ARGUMENTS[name][name in hostile]) for name in names}


def check_account_reads_back(engine: Engine) -> None:
    """Every read of the account works: an accepted value did not leave anything unreadable behind."""
    engine.fetch_orders()
    engine.fetch_my_trades()
    engine.fetch_balance()
    engine.tickers()
    engine.markets()


@pytest.mark.parametrize("method", sorted(CALLS))
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_hostile_arguments_are_served_or_refused_cleanly(
    account: SeededAccount, method: str, data: st.DataObject
) -> None:
    arguments = data.draw(arguments_of(method), label="arguments")
    note(f"engine.{method}(**{arguments!r})")
    engine = account.engine
    before = account.seeded()
    call: Callable[..., Any] = getattr(engine, method)
    try:
        call(**arguments)
    except MockExchangeError as error:
        unchanged = keyspace(engine) == before
        if not unchanged:
            account.touched()
        # a client status, or 501 for what the mock does not implement (a market sell by cost)
        assert error.http_status < 500 or error.code == "NOT_SUPPORTED", f"{error.code}: {error.message}"
        assert isinstance(error.message, str) and error.message
        assert unchanged, f"refused with {error.code} but the keyspace changed"
    else:
        account.touched()
        check_account_reads_back(engine)


# -- regressions found by the properties above ------------------------------------------------------------


def test_timestamps_from_1e14_ms_are_refused_so_fills_stay_readable(engine: Engine) -> None:
    """Lua's cjson writes integers from 10^14 up as ``1e+14``: a fill stamped so would make every later read
    of the trades fail. set_price refuses such timestamps (and the feed reader ignores them)."""
    engine.set_price("BTC/USDT", "50000")
    engine.fund("USDT", "10000")
    engine.create_order("BTC/USDT", "buy", "limit", "0.1", "40000")
    before = keyspace(engine)
    for stamp in (10**14, 10**30):
        with pytest.raises(BadRequest, match="timestamp"):
            engine.set_price("BTC/USDT", "39000", timestamp=stamp)
    assert keyspace(engine) == before
    engine.set_price("BTC/USDT", "39000", timestamp=10**14 - 1)
    assert [trade["timestamp"] for trade in engine.fetch_my_trades()] == [10**14 - 1]


@pytest.mark.parametrize(
    "amount",
    [
        Decimal("1E-99999"),
        "1e-999999999",
        "1e+999999999",
        pytest.param(10**100_000, id="an-int-of-100001-digits"),
        Decimal(10) ** 41,
        "1e-41",
    ],
)
def test_refusal_of_a_huge_exponent_has_a_short_message(engine: Engine, amount: Any) -> None:
    """``1e-999999999`` is 12 characters but a billion digits in plain text: it is refused as out of range
    before anything formats it."""
    with pytest.raises(BadRequest) as caught:
        engine.fund("USDT", amount)
    assert "out of range" in caught.value.message and len(caught.value.message) < 200
