"""The market catalogue: which symbols exist, how they split into base and quote, and their rules.

A symbol is a market when the feed prices it (a hash ``sym_<SYMBOL>``). By default every market trades with
the same rules: amounts and prices in steps of 1e-8 (the unit balances are kept in), a price below 2^53 units so
the books' scores stay exact, and the configured maker/taker fee charged in the quote currency. A markets file
(``engine/rules.py``) may set tighter rules per symbol; they are the fields of ``Market``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from ..errors import BadSymbol
from .money import MAX_AMOUNT, UNIT, UNITS_PER_ONE

#: The highest price: 2^53 units (about 90 million), the largest integer a sorted-set score holds exactly.
MAX_PRICE = Decimal(2**53 - 1) / UNITS_PER_ONE

_ASSET = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}"
_SYMBOL = re.compile(rf"({_ASSET})/({_ASSET})")
_ASSET_ONLY = re.compile(_ASSET)


def split_symbol(symbol: Any) -> tuple[str, str]:
    """``'BTC/USDT'`` -> ``('BTC', 'USDT')``, or BadSymbol for anything that is not BASE/QUOTE."""
    if not isinstance(symbol, str):
        raise BadSymbol(f"symbol must be a string like 'BTC/USDT', got {type(symbol).__name__}")
    match = _SYMBOL.fullmatch(symbol)
    if match is None:
        raise BadSymbol(f"symbol {symbol[:80]!r} is not of the form BASE/QUOTE (e.g. 'BTC/USDT')")
    base, quote = match.group(1), match.group(2)
    if base == quote:
        raise BadSymbol(f"symbol {symbol!r} trades an asset against itself")
    return base, quote


def is_symbol(symbol: str) -> bool:
    """Whether ``symbol`` is a valid BASE/QUOTE (feed hashes may be named anything)."""
    try:
        split_symbol(symbol)
    except BadSymbol:
        return False
    return True


def check_asset(asset: Any) -> str:
    if not isinstance(asset, str) or _ASSET_ONLY.fullmatch(asset) is None:
        raise BadSymbol(f"asset must be a code like 'USDT', got {str(asset)[:80]!r}")
    return asset


#: The highest price as a multiple of the unit (what ``limits.price.max`` reports by default).
MAX_PRICE_UNITS = MAX_PRICE.quantize(UNIT, rounding=ROUND_FLOOR)


@dataclass(frozen=True)
class Market:
    """One spot market: the fee rates it charges and the rules its orders must follow (ccxt's names in the
    comments; ``None`` means no such limit)."""

    symbol: str
    base: str
    quote: str
    maker: Decimal
    taker: Decimal
    tick: Decimal = UNIT  # precision.price: prices (and trigger prices) are multiples of it
    step: Decimal = UNIT  # precision.amount: amounts are multiples of it
    min_amount: Decimal = UNIT  # limits.amount.min
    max_amount: Decimal = MAX_AMOUNT  # limits.amount.max
    min_price: Decimal = UNIT  # limits.price.min
    max_price: Decimal = MAX_PRICE_UNITS  # limits.price.max
    min_cost: Decimal | None = None  # limits.cost.min (notional); unset, a cost is at least one unit anyway
    max_cost: Decimal | None = None  # limits.cost.max
    active: bool = True

    @classmethod
    def of(cls, symbol: str, maker: Decimal, taker: Decimal, **rules: Any) -> Market:
        base, quote = split_symbol(symbol)
        return cls(symbol, base, quote, maker, taker, **rules)

    def describe(self) -> dict[str, Any]:
        """The ccxt-unified market structure (numbers as exact Decimals)."""
        return {
            "id": self.symbol,
            "symbol": self.symbol,
            "base": self.base,
            "quote": self.quote,
            "settle": None,
            "baseId": self.base,
            "quoteId": self.quote,
            "settleId": None,
            "type": "spot",
            "spot": True,
            "margin": False,
            "swap": False,
            "future": False,
            "option": False,
            "index": None,
            "active": self.active,
            "contract": False,
            "linear": None,
            "inverse": None,
            "subType": None,
            "taker": self.taker,
            "maker": self.maker,
            "percentage": True,
            "tierBased": False,
            "feeSide": "quote",
            "contractSize": None,
            "expiry": None,
            "expiryDatetime": None,
            "strike": None,
            "optionType": None,
            "precision": {"amount": self.step, "price": self.tick, "cost": UNIT, "base": UNIT, "quote": UNIT},
            "limits": {
                "amount": {"min": self.min_amount, "max": self.max_amount},
                "price": {"min": self.min_price, "max": self.max_price},
                "cost": {"min": self.min_cost or UNIT, "max": self.max_cost},
                "leverage": {"min": None, "max": None},
                "market": {"min": self.min_amount, "max": self.max_amount},
            },
            "marginModes": {"cross": False, "isolated": False},
            "created": None,
            "info": {"symbol": self.symbol, "base": self.base, "quote": self.quote},
        }
