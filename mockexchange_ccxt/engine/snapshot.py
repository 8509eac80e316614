"""A book snapshot as orders meet it (``FILL_MODEL=book``): the feed's quote and depth at one timestamp and what
orders have taken from it, read together; and what a script must find before it applies a plan made from it.

The snapshot of a symbol is (symbol, the feed's timestamp). What orders took from it lives in a hash beside the
feed hash (``Keys.depth_taken``, in the feed's slot): ``ts`` names the snapshot it counts for, and a snapshot with
another timestamp starts from nothing (the script that first takes from it clears the hash). A rewrite of the
feed with the same timestamp is the same snapshot and keeps what was taken.

A plan made from a snapshot carries its *expectation* (``DepthSpec``): the feed's price, timestamp, bid and ask
as it read them, the SHA-1 of its bids and asks text, and for every level the plan takes from, the most that may
have been taken from it already for the plan to still hold (what the level offers minus what the plan takes).
The script that applies the plan checks all of it first (book_lib.lua's ``depth_holds``): a newer snapshot, another
depth, or a level that someone else emptied meanwhile makes it answer ``STALE`` and change nothing, and the
engine plans again from what it reads then. Liquidity only shrinks within a snapshot, so a plan whose levels
still have what it takes is exactly the plan the engine would make now.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from ..config import Settings
from ..keys import Keys
from ..memo import Memo
from .depth import DEPTH_FIELDS, Book, book_of
from .fills import ASKS, BIDS, Side, Take, named
from .prices import FEED_FIELDS, PriceFeed, Quote, padded, quote_from_reply

#: The feed fields a plan's expectation names (besides the SHA-1 of the depth).
CHECKED_FIELDS = ("price", "timestamp", "bid", "ask")
#: How many times an operation plans again when the book changed under it before it gives up (503).
ATTEMPTS = 30


def feed_expectation(quote: Quote) -> list[str]:
    """The first arguments of book_lib.lua's ``depth_spec``: the snapshot's name (the feed's timestamp in ms) and the
    checked feed fields as they were read (the script compares the text, so a rewrite of the same quote holds)."""
    raw = quote.raw
    return [str(quote.timestamp), *(raw.get(name) or "" for name in CHECKED_FIELDS)]


def snapshot_commands(keys: Keys, symbol: str) -> list[tuple[str, ...]]:
    """The reads of a snapshot, in one pipeline to the feed's slot: the feed hash with its depth, and what was
    taken from it."""
    return [("HMGET", keys.price(symbol), *FEED_FIELDS, *DEPTH_FIELDS), ("HGETALL", keys.depth_taken(symbol))]


@dataclass(frozen=True)
class _Parsed:
    """What a feed's quote and depth text make (the book, its levels named, the SHA-1 of its depth): parsed once
    per text, since a snapshot is read by every order that meets it, and feeds often rewrite the same depth."""

    book: Book
    asks: tuple[tuple[Decimal, str, int], ...]
    bids: tuple[tuple[Decimal, str, int], ...]
    digests: tuple[str, str]


_PARSED: Memo[tuple[Any, ...], _Parsed] = Memo(256)


def _parse(quote: Quote, settings: Settings) -> _Parsed:
    raw = quote.raw
    key = (quote.symbol, raw.get("bids"), raw.get("asks"), quote.bid, quote.ask, *(getattr(settings, n) for n in _BOOK))
    parsed = _PARSED.get(key)
    if parsed is None:
        book = book_of(quote, settings)
        digests = (_digest(raw.get("bids")), _digest(raw.get("asks")))
        parsed = _Parsed(book, named(ASKS, book.asks), named(BIDS, book.bids), digests)
        _PARSED.keep(key, parsed)
    return parsed


#: The settings the synthetic book is built from.
_BOOK = ("book_levels", "book_step_bps", "book_level_notional")


@dataclass(frozen=True)
class Snapshot:
    """One symbol's book at one feed timestamp, with what orders took from it (units per level field)."""

    quote: Quote
    parsed: _Parsed
    taken: dict[str, int]

    @property
    def book(self) -> Book:
        return replace(self.parsed.book, timestamp=self.quote.timestamp)

    @property
    def symbol(self) -> str:
        return self.quote.symbol

    @property
    def stamp(self) -> str:
        """The snapshot's name in the consumption hash: the feed's timestamp in ms."""
        return str(self.quote.timestamp)

    def after(self, takes: dict[str, int]) -> Snapshot:
        """This snapshot once ``takes`` (units per level field) are taken from it as well."""
        taken = dict(self.taken)
        for field, units in takes.items():
            taken[field] = taken.get(field, 0) + units
        return Snapshot(self.quote, self.parsed, taken)

    def sides(self, step: int) -> BookView:
        """A fresh view of both sides for orders trading whole ``step`` units (one per pass or order)."""
        parsed = self.parsed
        return BookView(
            self, Side.of(ASKS, parsed.asks, self.taken, step), Side.of(BIDS, parsed.bids, self.taken, step)
        )


def parse_snapshot(
    symbol: str, replies: list[Any], settings: Settings, feed: PriceFeed | None = None
) -> Snapshot | None:
    """The snapshot in the replies to ``snapshot_commands``; None when the symbol has no valid price. With ``feed``,
    an unpriced symbol raises what ``PriceFeed.require_quote`` raises (BadSymbol, InvalidOrder) instead."""
    reply, taken = replies
    if feed is not None:
        quote = feed.required(symbol, reply, DEPTH_FIELDS)
    else:
        found = quote_from_reply(symbol, reply[: len(FEED_FIELDS)] if isinstance(reply, list) else reply)
        if found is None:
            return None
        quote = found
        for name, value in zip(DEPTH_FIELDS, reply[len(FEED_FIELDS) :], strict=True):
            if value is not None:
                quote.raw[name] = value
    counted: dict[str, int] = {}
    if isinstance(taken, dict) and taken.get("ts") == str(quote.timestamp):
        counted = {field: int(units) for field, units in taken.items() if field != "ts" and units.isdigit()}
    return Snapshot(quote, _parse(quote, settings), counted)


def written_snapshot(
    symbol: str, fields: Sequence[str | None], depth: tuple[str, str] | None, settings: Settings
) -> Snapshot | None:
    """The snapshot that ``set_price`` just wrote (price, timestamp, bid and ask as written, and the depth's text),
    with nothing taken from it yet as far as this process knows; None when it is no valid quote."""
    return parse_snapshot(symbol, [[*padded(fields), *(depth or (None, None))], {}], settings)


#: The fields a placing script's ``STALE`` reply holds when it read a snapshot's depth (place_order.lua).
_STALE_FIELDS = ("price", "timestamp", "bid", "ask", *DEPTH_FIELDS)


def stale_snapshot(symbol: str, reply: list[Any], settings: Settings, feed: PriceFeed) -> Snapshot | None:
    """The snapshot a placing script found in Valkey (its ``STALE`` reply: the feed's fields and what was taken),
    as a read would give it; None when the reply holds no depth (then read). Raises as ``require_quote`` when the
    symbol has no valid price."""
    if len(reply) != len(_STALE_FIELDS) + 2:
        return None
    found = dict(zip(_STALE_FIELDS, reply[1:-1], strict=True))
    taken = reply[-1] if isinstance(reply[-1], dict) else dict(zip(reply[-1][::2], reply[-1][1::2], strict=True))
    return parse_snapshot(symbol, [[found.get(name) for name in (*FEED_FIELDS, *DEPTH_FIELDS)], taken], settings, feed)


@dataclass
class BookView:
    """Both sides of a snapshot for one pass: plans made one after the other see each other's takes."""

    snapshot: Snapshot
    asks: Side
    bids: Side

    def side_for(self, order_side: str) -> Side:
        """The side an order of ``order_side`` takes from (a buy takes the asks)."""
        return self.asks if order_side == "buy" else self.bids


def _digest(text: str | None) -> str:
    """SHA-1 of a depth field as Valkey holds it; ``*`` when the text we read is not what Valkey holds (its bytes
    were not UTF-8, so we read replacement characters: then it is not depth anyway, and is not compared)."""
    if text is None:
        return ""
    if "\ufffd" in text:
        return "*"
    return hashlib.sha1(text.encode()).hexdigest()


class DepthSpec:
    """The expectation of a plan (or of one script call's part of it): the snapshot, and the levels it takes
    from. ``add`` registers one order's takes and names them for the script (``"1:500,2:20"``: level 1 of this
    spec gives 500 units, level 2 gives 20)."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self._levels: dict[str, list[int]] = {}  # field -> [offered, taken by this spec], in order of first use
        self._index: dict[str, int] = {}

    def add(self, takes: Iterable[Take]) -> str:
        parts = []
        levels, index = self._levels, self._index
        for level, units in takes:
            field = level.field
            counted = levels.get(field)
            if counted is None:
                counted = levels[field] = [level.offered, 0]
                index[field] = len(index) + 1
            counted[1] += units
            parts.append(f"{index[field]}:{units}")
        return ",".join(parts)

    def units(self) -> dict[str, int]:
        """What the spec takes, per level field."""
        return {field: taken for field, (_offered, taken) in self._levels.items()}

    def args(self) -> list[str]:
        """The script arguments (book_lib.lua ``depth_spec``): the snapshot's timestamp, the feed fields as read, the
        SHA-1 of bids and asks, then per level its field, the most that may be taken already, and the units."""
        out = [*feed_expectation(self.snapshot.quote), *self.snapshot.parsed.digests]
        out.append(str(len(self._levels)))
        for field, (offered, taken) in self._levels.items():
            out += [field, str(offered - taken), str(taken)]
        return out
