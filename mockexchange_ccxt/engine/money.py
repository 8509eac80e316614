"""Exact money: parsing user numbers into ``Decimal`` and converting to the integer units Valkey stores.

Balances are kept as integers of ``UNIT`` (1e-8, the satoshi, which is also Binance's balance precision), so a
Lua script only ever compares and HINCRBYs exact int64 values. Any amount of money that crosses into Valkey is
first made a whole number of units here, with an explicit rounding rule, never by a float.
"""

from __future__ import annotations

import math
import re
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, InvalidOperation
from typing import Any

from ..errors import MockExchangeError
from ..memo import Memo

UNIT_DECIMALS = 8
UNIT = Decimal(1).scaleb(-UNIT_DECIMALS)
UNITS_PER_ONE: int = 10**UNIT_DECIMALS

#: The largest amount one operation may move: 10^10 (ten billion) of an asset, so that balances stay far
#: below the int64 limit of HINCRBY (about 9.2 * 10^10 whole units of an asset).
MAX_AMOUNT = Decimal(10) ** 10

ZERO = Decimal(0)

#: Plain decimal text of at most 11 digits and 8 decimals: always finite, in range and whole units.
_PLAIN = re.compile(r"[0-9]{1,11}(?:\.[0-9]{1,8})?")

#: Exponents beyond these are refused before anything formats the number: ``1e-999999999`` is 12 characters,
#: but a billion digits as plain text. No amount, price or timestamp comes near them.
MIN_EXPONENT, MAX_ADJUSTED_EXPONENT = -40, 40


def in_exponent_range(number: Decimal) -> bool:
    """Finite, with no digit below 10^-40 and none above 10^40."""
    if not number.is_finite():
        return False
    exponent = number.as_tuple().exponent
    return isinstance(exponent, int) and exponent >= MIN_EXPONENT and number.adjusted() <= MAX_ADJUSTED_EXPONENT


def short(value: Any, limit: int = 40) -> str:
    """``repr(value)`` cut to ``limit`` characters, for error messages about hostile input (an int of a million
    digits cannot even be turned into text)."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 4 * limit:
        return f"an integer of {value.bit_length()} bits"
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def loose_digits(text: str) -> bool:
    """Whether ``text`` is what Python's ``int()`` and ``Decimal()`` read as a number but no number format does:
    digits grouped with ``_`` ('1_000') or digits other than ASCII's ('١٢٣')."""
    return not text.isascii() or "_" in text


def parse_decimal(value: Any, what: str, error: type[MockExchangeError]) -> Decimal:
    """Turn a user-supplied number (str, int, float or Decimal) into a finite Decimal, or raise ``error``.

    Floats are read through their shortest repr, so ``0.1`` becomes ``Decimal('0.1')`` and not the binary
    approximation. Booleans, None, NaN, infinities and non-numeric strings are refused.
    """
    if isinstance(value, bool) or value is None:
        raise error(f"{what} must be a number, got {value!r}")
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        if value.bit_length() > 4 * MAX_ADJUSTED_EXPONENT:
            raise error(f"{what} is out of range, got {short(value)}")
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))
    elif isinstance(value, str):
        text = value.strip()
        if not text or len(text) > 64 or loose_digits(text):
            raise error(f"{what} must be a number, got {short(value)}")
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise error(f"{what} must be a number, got {value!r}") from None
    else:
        raise error(f"{what} must be a number, got {type(value).__name__}")
    if not number.is_finite():
        raise error(f"{what} must be finite, got {short(value)}")
    if not in_exponent_range(number):
        raise error(f"{what} is out of range, got {short(value)}")
    return number


def parse_positive(value: Any, what: str, error: type[MockExchangeError]) -> Decimal:
    """A strictly positive number of at most 8 decimals and at most ``MAX_AMOUNT``."""
    if type(value) is str and _PLAIN.fullmatch(value) is not None:
        number = Decimal(value)  # plain text (what most orders send) passes every check below but these two
        if 0 < number <= MAX_AMOUNT:
            return number
    number = parse_decimal(value, what, error)
    if number <= 0:
        raise error(f"{what} must be positive, got {fmt(number)}")
    check_representable(number, what, error)
    return number


def parse_non_negative(value: Any, what: str, error: type[MockExchangeError]) -> Decimal:
    number = parse_decimal(value, what, error)
    if number < 0:
        raise error(f"{what} may not be negative, got {fmt(number)}")
    check_representable(number, what, error)
    return number


def check_representable(number: Decimal, what: str, error: type[MockExchangeError]) -> None:
    if number > MAX_AMOUNT:
        raise error(f"{what} {fmt(number)} is larger than the maximum {fmt(MAX_AMOUNT)}")
    if number != number.quantize(UNIT, rounding=ROUND_FLOOR):
        raise error(f"{what} {fmt(number)} has more than {UNIT_DECIMALS} decimals")


def to_units(number: Decimal) -> int:
    """Exact conversion; the caller guarantees ``number`` is a whole number of units."""
    units = number.scaleb(UNIT_DECIMALS)
    if units != units.to_integral_value():
        raise ValueError(f"{number} is not a whole number of units")
    return int(units)


def units_up(number: Decimal) -> int:
    """Round up to a whole unit: what a buyer pays and every fee (the house never gives away dust)."""
    return math.ceil(number.scaleb(UNIT_DECIMALS))  # Decimal's own ceiling: exact, one call


def units_down(number: Decimal) -> int:
    """Round down to a whole unit: what a seller receives."""
    return math.floor(number.scaleb(UNIT_DECIMALS))


def fee_units(cost_units: int, rate: Decimal) -> int:
    """The fee of a cost at a rate, rounded up (the house never gives away dust). In integers when the product
    has at most 28 digits, where the Decimal product is exact too (a market has a rate or two: each is taken
    apart once)."""
    parts = _RATE_PARTS.get(rate)
    if parts is None:
        parts = _rate_parts(rate)
    numerator, denominator = parts
    product = cost_units * numerator
    if denominator and -_EXACT < product < _EXACT:
        return -(-product // denominator)
    return int((Decimal(cost_units) * rate).to_integral_value(rounding=ROUND_CEILING))


def _rate_parts(rate: Decimal) -> tuple[int, int]:
    """``rate`` as numerator / denominator (a power of ten); (0, 0) when it is not finite (no integer path)."""
    if not rate.is_finite():
        parts = (0, 0)
    else:
        exponent = rate.as_tuple().exponent
        assert isinstance(exponent, int)
        parts = (int(rate.scaleb(-exponent)), 10**-exponent) if exponent < 0 else (int(rate), 1)
    return _RATE_PARTS.keep(rate, parts)


_RATE_PARTS: Memo[Decimal, tuple[int, int]] = Memo(1000)
#: Below 10^28 in magnitude an integer fits the default Decimal context's 28 digits: a product is exact.
_EXACT = 10**28


def from_units(units: int | str) -> Decimal:
    """Units back to a Decimal in its shortest form (``150000000`` -> ``Decimal('1.5')``)."""
    return Decimal(int(units)) / UNITS_PER_ONE


class _Parsed(Memo[str, Decimal]):
    """Decimal texts as Decimals, each parsed once: an order's answer makes Decimals of a dozen texts, most of
    them the same from order to order (its amount, the price of the quote it met, the fee rate, "0"). A Decimal
    is immutable, so every answer may share it. ``DECIMALS[text]`` raises as ``Decimal(text)`` would."""

    def __missing__(self, text: str) -> Decimal:
        return self.keep(text, Decimal(text))


DECIMALS = _Parsed(10_000)


def fmt(number: Decimal) -> str:
    """Plain decimal text, never exponent notation (``str(Decimal('0E-10'))`` is ``'0E-10'``)."""
    text = str(number)  # the same as format(number, "f") unless it is in exponent notation; several times faster
    if "E" in text:
        text = format(number, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def fmt_units(units: int | str) -> str:
    """Units as plain decimal text, the same as ``fmt(from_units(units))``, by integer arithmetic."""
    count = int(units)
    whole, part = divmod(abs(count), UNITS_PER_ONE)
    text = (_UNITS_TEXT % (whole, part)).rstrip("0") if part else str(whole)  # a part > 0 keeps a digit
    return "-" + text if count < 0 else text


_UNITS_TEXT = f"%d.%0{UNIT_DECIMALS}d"


def text_units(text: str) -> int:
    """Plain decimal text of at most 8 decimals (as ``fmt`` writes it) as a whole number of units."""
    whole, _, part = text.partition(".")
    sign = -1 if whole.startswith("-") else 1
    return sign * (abs(int(whole or "0")) * UNITS_PER_ONE + int((part + "0" * UNIT_DECIMALS)[:UNIT_DECIMALS]))
