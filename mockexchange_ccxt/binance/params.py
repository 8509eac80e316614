"""Request parameters the way Binance reads them: a query string and a form body, each value checked against
Binance's own formats, with Binance's error for each way a parameter can be wrong.

Only the *format* of a parameter is checked here (a decimal is digits and one dot, an id is digits, an enum is
one of its names). Whether an amount is too small, a price off its tick or a balance short is the engine's
decision, reached through the route table.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

from ..engine.money import UNIT_DECIMALS
from . import errors as e

_DECIMAL = re.compile(r"^([0-9]{1,20})(\.[0-9]{1,20})?$")
_LONG = re.compile(r"^[0-9]{1,20}$")
_CLIENT_ID = re.compile(r"^[.A-Z:/a-z0-9_-]{1,36}$")
_SYMBOL = re.compile(r"^[A-Za-z0-9._-]{1,80}$")

DECIMAL_RANGE = "^([0-9]{1,20})(\\.[0-9]{1,20})?$"
LONG_RANGE = "^[0-9]{1,20}$"
CLIENT_ID_RANGE = "^[\\.A-Z\\:/a-z0-9_-]{1,36}$"
SYMBOL_RANGE = "^[A-Z0-9-_.]{1,20}$"
SYMBOLS_RANGE = '^\\[("[A-Z0-9-_.]{1,20}"(,"[A-Z0-9-_.]{1,20}"){0,}){0,1}\\]$'

#: Parameters every signed request may carry; the signature check consumes them.
SECURITY_PARAMS = ("timestamp", "recvWindow", "signature")

Parser = Callable[[str, str], Any]


def parse_pairs(text: str) -> list[tuple[str, str]]:
    """``a=1&b=2`` as Binance reads it: percent-decoded, blank values kept (a blank value is an error later)."""
    try:
        return parse_qsl(text, keep_blank_values=True, errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise e.BinanceError(-1100, "Illegal characters found in a parameter.") from None


def collect(query: str, body: str) -> dict[str, str]:
    """The parameters of a request, from its query string and its form body; a name given twice is refused."""
    found: dict[str, str] = {}
    for name, value in parse_pairs(query) + parse_pairs(body):
        if name in found:
            raise e.duplicate(name[:40])
        found[name] = value
    return found


# -- value kinds -------------------------------------------------------------------------------------------------


def matching(pattern: re.Pattern[str], legal: str) -> Parser:
    """Text in Binance's format for the parameter; -1100 naming the legal range otherwise. A decimal stays text,
    so the engine sees it exactly."""

    def parse(name: str, text: str) -> str:
        if not pattern.fullmatch(text):
            raise e.illegal(name, legal)
        return text

    return parse


decimal = matching(_DECIMAL, DECIMAL_RANGE)


def amount(name: str, text: str) -> str:
    """A quantity or price: a decimal in Binance's format with at most the assets' precision of decimals (the
    engine's unit); more is -1111 before any filter is looked at, as on Binance."""
    text = decimal(name, text)
    _, _, fraction = text.partition(".")
    if len(fraction.rstrip("0")) > UNIT_DECIMALS:
        raise e.BinanceError(-1111, e.TOO_PRECISE)
    return text


symbol = matching(_SYMBOL, SYMBOL_RANGE)
client_id = matching(_CLIENT_ID, CLIENT_ID_RANGE)
_digits = matching(_LONG, LONG_RANGE)


def long(name: str, text: str) -> int:
    return int(_digits(name, text))


def boolean(name: str, text: str) -> bool:
    lowered = text.lower()
    if lowered not in ("true", "false"):
        raise e.not_valid(name)
    return lowered == "true"


def symbols(name: str, text: str) -> list[str]:
    """``["BTCUSDT","ETHUSDT"]`` (a JSON array of symbols, as Binance and ccxt send it)."""
    try:
        value = json.loads(text)
    except ValueError:
        raise e.illegal(name, SYMBOLS_RANGE) from None
    if not isinstance(value, list) or not all(isinstance(s, str) and _SYMBOL.fullmatch(s) for s in value):
        raise e.illegal(name, SYMBOLS_RANGE)
    return value


def names(name: str, text: str) -> list[str]:
    """One name (``SPOT``) or a JSON array of names (``["SPOT","MARGIN"]``)."""
    if not text.startswith("["):
        return [text]
    try:
        value = json.loads(text)
    except ValueError:
        raise e.not_valid(name) from None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise e.not_valid(name)
    return value


def text(name: str, value: str) -> str:
    return value


def one_of(values: tuple[str, ...], error: e.BinanceError | None = None) -> Parser:
    """An enum; Binance has its own code for a bad side, type or time in force, -1130 for the others."""

    def parse(name: str, value: str) -> str:
        if value not in values:
            raise error if error is not None else e.not_valid(name)
        return value

    return parse


def up_to(maximum: int) -> Parser:
    """A count of 1..maximum (a ``limit``)."""

    def parse(name: str, value: str) -> int:
        number = long(name, value)
        if not 1 <= number <= maximum:
            raise e.not_valid(name)
        return number

    return parse


SIDE = one_of(("BUY", "SELL"), e.BinanceError(-1117, e.INVALID_SIDE))


@dataclass(frozen=True)
class Param:
    name: str
    parse: Parser = text
    required: bool = False
    default: Any = None


@dataclass(frozen=True)
class Params:
    """The parameters an endpoint reads, and those Binance defines for it that the mock refuses."""

    accepted: tuple[Param, ...] = ()
    refused: tuple[str, ...] = ()

    def read(self, raw: Mapping[str, str], signed: bool) -> dict[str, Any]:
        """Typed values of the accepted parameters (absent ones are None, or their default)."""
        known = {p.name for p in self.accepted} | set(self.refused) | (set(SECURITY_PARAMS) if signed else set())
        unknown = [name for name in raw if name not in known]
        if unknown:
            raise e.unread(len(raw) - len(unknown), len(raw))
        for name in self.refused:
            if name in raw:
                raise e.not_required(name)
        values: dict[str, Any] = {}
        for param in self.accepted:
            given = raw.get(param.name)
            if given is None:
                if param.required:
                    raise e.mandatory(param.name)
                values[param.name] = param.default
            elif given == "":
                raise e.empty(param.name)
            else:
                values[param.name] = param.parse(param.name, given)
        return values


def decimal_value(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)
