"""The scripts add and compare prices and volumes as text or integers of units (lib.lua's dec_add, units_add and
units_sub, candle_lib.lua's dec_cmp), never as inexact doubles: checked against Python's Decimal and int on numbers far
beyond a double's 15-16 digits."""

from __future__ import annotations

from decimal import Context, Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockexchange_ccxt import Engine
from mockexchange_ccxt.engine.money import fmt
from mockexchange_ccxt.engine.scripts import helpers

LIB = helpers()
ADD = LIB + "\nreturn dec_add(ARGV[1], ARGV[2])"
CMP = LIB + "\nreturn dec_cmp(ARGV[1], ARGV[2])"
UNITS = LIB + "\nreturn units_add(ARGV[1], ARGV[2])"
UNITS_SUB = LIB + "\nreturn units_sub(ARGV[1], ARGV[2])"

EXACT = Context(prec=100)  # the default 28 digits would round the oracle itself
numbers = st.one_of(
    st.decimals(min_value=0, max_value=Decimal(10) ** 30, places=12, allow_nan=False),
    st.decimals(min_value=0, max_value=1000, places=2, allow_nan=False),
    st.integers(min_value=0, max_value=10**40).map(Decimal),
    st.sampled_from([Decimal(0), Decimal("0.00000001"), Decimal("999999999999999.9"), Decimal("0.5")]),
)
integers = st.one_of(
    st.integers(min_value=0, max_value=10**15),
    st.integers(min_value=10**14, max_value=10**31),
    st.integers(min_value=0, max_value=10**40),
    st.sampled_from([0, 1, 10**15 - 1, 10**15, 10**30 - 1, 10**30, 2**53, 2**53 + 1]),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(a=numbers, b=numbers)
def test_add_and_compare_are_exact(engine: Engine, a: Decimal, b: Decimal) -> None:
    x, y = fmt(a), fmt(b)
    assert engine.store.call("EVAL", ADD, 0, x, y) == fmt(EXACT.add(a, b))
    assert engine.store.call("EVAL", CMP, 0, x, y) == (a > b) - (a < b)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(a=integers, b=integers)
def test_integers_of_units_add_exactly(engine: Engine, a: int, b: int) -> None:
    assert engine.store.call("EVAL", UNITS, 0, str(a), str(b)) == str(a + b)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(a=integers.filter(lambda n: n < 10**30), b=integers.filter(lambda n: n < 10**30))
def test_integers_of_units_subtract_exactly(engine: Engine, a: int, b: int) -> None:
    """What a ledger does to a balance (lib.lua): the larger less the smaller, borrowing across the halves."""
    big, small = max(a, b), min(a, b)
    assert engine.store.call("EVAL", UNITS_SUB, 0, str(big), str(small)) == str(big - small)
    for n in (10**15, 10**15 + 5, 2 * 10**15, 2**63 - 1):
        assert engine.store.call("EVAL", UNITS_SUB, 0, str(n), "10") == str(n - 10)
