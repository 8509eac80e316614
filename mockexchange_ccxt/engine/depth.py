"""Order-book depth: the feed's ``bids``/``asks`` when they are valid, a synthetic book around bid and ask
otherwise. ``book_of`` is the one place that decides which, for ``fetch_order_book`` and for fills.

The feed may write depth into ``sym_<SYMBOL>``: fields ``bids`` and ``asks``, each a JSON array of
``[price, amount]`` pairs (strings or numbers), best first. Anything malformed (not JSON, a level that is not
two positive finite numbers, unsorted or repeated prices, a crossed book, a text over ``MAX_DEPTH_BYTES``, one
side missing) makes the depth absent: the book is synthetic, it is logged once per symbol, and nothing stops.
At most ``MAX_LEVELS`` levels a side are read; longer books are cut there.

The synthetic book has ``book_levels`` levels a side, ``book_step_bps`` basis points of the touch apart, each
worth ``book_level_notional`` of the quote currency (its amount rounded down to 1e-8, at most ``MAX_AMOUNT``).
Bids start at the bid and asks at the ask; when bid = ask the book opens a spread of one step around it.
Level prices are whole units (1e-8): bids rounded down, asks up, each strictly beyond the one before.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, InvalidOperation
from typing import Any

from ..config import Settings
from ..errors import BadRequest
from .clock import iso8601
from .markets import MAX_PRICE
from .money import MAX_AMOUNT, UNIT, fmt, in_exponent_range
from .prices import Quote

log = logging.getLogger("mockexchange_ccxt.depth")

#: Levels read per side; a longer book is cut here.
MAX_LEVELS = 1000
#: A ``bids`` or ``asks`` field longer than this is not depth (1,000 levels of long numbers fit many times).
MAX_DEPTH_BYTES = 1 << 20
#: An amount larger than this is not an amount.
_MAX_LEVEL_AMOUNT = Decimal(10) ** 30
#: The feed fields that hold depth.
DEPTH_FIELDS = ("bids", "asks")

Level = tuple[Decimal, Decimal]  # (price, amount), exact as the feed wrote them

_warned: set[str] = set()


@dataclass(frozen=True)
class Book:
    """One snapshot of a symbol's book: (symbol, timestamp) identifies it; levels best first, exact."""

    symbol: str
    timestamp: int
    bids: tuple[Level, ...]
    asks: tuple[Level, ...]
    synthetic: bool

    def unified(self, limit: int | None = None) -> dict[str, Any]:
        """The ccxt-unified order book (numbers as exact Decimals), ``limit`` levels a side."""
        return {
            "symbol": self.symbol,
            "bids": [[price, amount] for price, amount in self.bids[:limit]],
            "asks": [[price, amount] for price, amount in self.asks[:limit]],
            "timestamp": self.timestamp,
            "datetime": iso8601(self.timestamp),
            "nonce": None,
            "info": {"synthetic": self.synthetic},
        }


class DepthError(ValueError):
    """Why a depth field is not depth."""


def parse_side(value: Any, descending: bool) -> tuple[Level, ...]:
    """One side from JSON text or a list of pairs; DepthError when it is not valid depth."""
    if isinstance(value, str):
        if len(value) > MAX_DEPTH_BYTES:
            raise DepthError(f"longer than {MAX_DEPTH_BYTES} bytes")
        try:
            value = json.loads(value, parse_float=Decimal, parse_int=Decimal, parse_constant=_no_constant)
        except (ValueError, RecursionError) as exc:
            raise DepthError(f"not JSON: {str(exc)[:80]}") from None
    if not isinstance(value, list | tuple):
        raise DepthError("not an array of [price, amount] pairs")
    levels: list[Level] = []
    for pair in value[:MAX_LEVELS]:
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            raise DepthError(f"level {str(pair)[:40]} is not a [price, amount] pair")
        price, amount = _positive(pair[0]), _positive(pair[1])
        if price > MAX_PRICE or amount > _MAX_LEVEL_AMOUNT:
            raise DepthError(f"level {fmt(price)} x {fmt(amount)} is out of range")
        if levels and (price >= levels[-1][0] if descending else price <= levels[-1][0]):
            raise DepthError("levels are not sorted best first")
        levels.append((price, amount))
    return tuple(levels)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


def _positive(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise DepthError(f"{str(value)[:40]} is not a number")
    try:
        number = Decimal(repr(value) if isinstance(value, float) else value)
    except (InvalidOperation, ValueError):
        raise DepthError(f"{str(value)[:40]} is not a number") from None
    if not in_exponent_range(number) or number <= 0:
        raise DepthError(f"{str(value)[:40]} is not a positive finite number")
    return number


def parse_depth(bids: Any, asks: Any) -> tuple[tuple[Level, ...], tuple[Level, ...]]:
    """Both sides, checked together: DepthError when either is malformed or the book is crossed."""
    if bids is None or asks is None:
        raise DepthError("one side is missing")
    bid_levels, ask_levels = parse_side(bids, descending=True), parse_side(asks, descending=False)
    if bid_levels and ask_levels and bid_levels[0][0] >= ask_levels[0][0]:
        raise DepthError(f"crossed: best bid {fmt(bid_levels[0][0])} >= best ask {fmt(ask_levels[0][0])}")
    return bid_levels, ask_levels


def depth_fields(bids: Any, asks: Any) -> tuple[str, str] | None:
    """``set_price``'s depth as the feed fields' JSON text (exact decimal strings); None when neither side is
    given; BadRequest when it is not valid depth (a caller's mistake is refused, not stored)."""
    if bids is None and asks is None:
        return None
    if isinstance(bids, str) or isinstance(asks, str):
        raise BadRequest("bids/asks must be lists of [price, amount] pairs, not text")
    try:
        bid_levels, ask_levels = parse_depth(bids, asks)
    except DepthError as exc:
        raise BadRequest(f"bids/asks: {exc}") from None
    return _json(bid_levels), _json(ask_levels)


def _json(levels: Sequence[Level]) -> str:
    return json.dumps([[fmt(price), fmt(amount)] for price, amount in levels], separators=(",", ":"))


def book_of(quote: Quote, settings: Settings) -> Book:
    """The book of a quote read with ``DEPTH_FIELDS``: the feed's depth if valid, else the synthetic book."""
    raw_bids, raw_asks = quote.raw.get("bids"), quote.raw.get("asks")
    if raw_bids is not None or raw_asks is not None:
        try:
            bids, asks = parse_depth(raw_bids, raw_asks)
        except DepthError as exc:
            if quote.symbol not in _warned:
                _warned.add(quote.symbol)
                log.warning("%s: the feed's depth is not usable (%s); the book is synthetic", quote.symbol, exc)
        else:
            return Book(quote.symbol, quote.timestamp, bids, asks, synthetic=False)
    bids, asks = synthetic_levels(quote, settings)
    return Book(quote.symbol, quote.timestamp, bids, asks, synthetic=True)


def synthetic_levels(quote: Quote, settings: Settings) -> tuple[tuple[Level, ...], tuple[Level, ...]]:
    step = settings.book_step_bps / 10_000
    bid, ask = quote.bid, quote.ask
    if bid >= ask:  # no spread to start from: open one step around the touch
        middle = ask
        bid, ask = middle * (1 - step / 2), middle * (1 + step / 2)
    bids: list[Level] = []
    asks: list[Level] = []
    for k in range(settings.book_levels):
        price = (bid * (1 - k * step)).quantize(UNIT, rounding=ROUND_FLOOR)
        if bids:
            price = min(price, bids[-1][0] - UNIT)
        if price <= 0:
            break
        bids.append((price, _amount(settings.book_level_notional, price)))
    for k in range(settings.book_levels):
        price = (ask * (1 + k * step)).quantize(UNIT, rounding=ROUND_CEILING)
        if asks:
            price = max(price, asks[-1][0] + UNIT)
        if price > MAX_PRICE:
            break
        asks.append((price, _amount(settings.book_level_notional, price)))
    return tuple(bids), tuple(asks)


def _amount(notional: Decimal, price: Decimal) -> Decimal:
    return min((notional / price).quantize(UNIT, rounding=ROUND_FLOOR), MAX_AMOUNT) or UNIT


def check_book_limit(limit: Any) -> int | None:
    """``fetch_order_book``'s ``limit``: None for the whole book, else a positive integer (levels a side)."""
    if limit is None:
        return None
    if isinstance(limit, bool) or not isinstance(limit, int) or limit <= 0:
        raise BadRequest(f"limit must be a positive integer, got {str(limit)[:40]!r}")
    return min(limit, MAX_LEVELS)
