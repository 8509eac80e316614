"""Reading and writing the price feed: hashes ``sym_<SYMBOL>`` with ``price`` and ``timestamp``.

The hashes belong to whatever feed writes them, so nothing in them is trusted: a missing field, an empty
string, a word where a number belongs, a negative price or the wrong key type all make the symbol *unpriced*
(no ticker, no market, no trading, and the tick loop skips it) rather than an error that stops anything.
``bid`` and ``ask`` are optional (both default to ``price``), as are ``baseVolume`` and ``quoteVolume``. A
crossed quote (a bid above the price or an ask below it, hence also a bid above the ask) is unpriced too: a bot
could buy at the ask and sell higher at the bid at once.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from ..errors import BadRequest, BadSymbol, InvalidOrder
from ..keys import Keys
from .clock import MAX_TIMESTAMP_MS, iso8601, timestamp_to_ms
from .markets import MAX_PRICE
from .money import fmt, in_exponent_range
from .store import Store

#: Fields read from a feed hash, in HMGET order.
FEED_FIELDS = ("price", "timestamp", "bid", "ask", "baseVolume", "quoteVolume", "volume")


def padded(fields: Sequence[str | None]) -> list[str | None]:
    """The first fields of a feed hash (price, timestamp, ...), in ``FEED_FIELDS`` order, with the rest absent."""
    return [*fields, *[None] * (len(FEED_FIELDS) - len(fields))]


def _number(text: str | None) -> Decimal | None:
    """A positive finite number from the feed, or None."""
    if text is None or len(text) > 64:
        return None
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        return None
    return value if in_exponent_range(value) and value > 0 else None


@dataclass(frozen=True)
class Quote:
    """One valid reading of a feed hash."""

    symbol: str
    price: Decimal
    bid: Decimal
    ask: Decimal
    timestamp: int
    raw: dict[str, str]

    @classmethod
    def parse(cls, symbol: str, values: list[str | None]) -> Quote | None:
        raw = {name: value for name, value in zip(FEED_FIELDS, values, strict=True) if value is not None}
        price, stamp = _number(raw.get("price")), _number(raw.get("timestamp"))
        if price is None or stamp is None or price > MAX_PRICE or stamp > MAX_TIMESTAMP_MS:
            return None
        bid, ask = _number(raw.get("bid")), _number(raw.get("ask"))
        if max(bid or price, ask or price) > MAX_PRICE or crossed(price, bid, ask):
            return None
        return cls(symbol, price, bid or price, ask or price, timestamp_to_ms(stamp), raw)

    @classmethod
    def published(cls, symbol: str, price: Decimal, bid: Decimal | None, ask: Decimal | None, timestamp: int) -> Quote:
        """The quote ``set_price`` publishes (bid and ask default to the price); BadRequest if crossed."""
        reason = crossed(price, bid, ask)
        if reason:
            raise BadRequest(reason)
        return cls(symbol, price, bid or price, ask or price, timestamp, {})

    @property
    def volume(self) -> Decimal | None:
        """Base traded since the feed's previous write (its optional ``volume`` field; malformed is absent)."""
        return _number(self.raw.get("volume"))

    def ticker(self) -> dict[str, Any]:
        """The ccxt-unified ticker (numbers as exact Decimals, ``info`` the raw hash fields)."""
        return {
            "symbol": self.symbol,
            "timestamp": self.timestamp,
            "datetime": iso8601(self.timestamp),
            "high": None,
            "low": None,
            "bid": self.bid,
            "bidVolume": None,
            "ask": self.ask,
            "askVolume": None,
            "vwap": None,
            "open": None,
            "close": self.price,
            "last": self.price,
            "previousClose": None,
            "change": None,
            "percentage": None,
            "average": None,
            "baseVolume": _number(self.raw.get("baseVolume")),
            "quoteVolume": _number(self.raw.get("quoteVolume")),
            "markPrice": None,
            "indexPrice": None,
            "info": dict(self.raw),
        }


class PriceFeed:
    """Reads quotes for the engine and writes them for ``Engine.set_price``."""

    def __init__(self, store: Store, keys: Keys) -> None:
        self.store = store
        self.keys = keys

    def read_command(self, symbol: str) -> tuple[str, ...]:
        return ("HMGET", self.keys.price(symbol), *FEED_FIELDS)

    def quote(self, symbol: str) -> Quote | None:
        """The symbol's quote, or None when its hash is absent or malformed."""
        replies = self.store.pipeline([self.read_command(symbol)], writes=False, errors_as_values=True)
        return quote_from_reply(symbol, replies[0])

    def require_quote(self, symbol: str, extra: tuple[str, ...] = ()) -> Quote:
        """A quote to trade at: BadSymbol when the feed has never priced the symbol, InvalidOrder when its
        hash is there but holds no valid price. ``extra`` fields (the depth) are read in the same HMGET, so
        they belong to the same snapshot, and kept in ``raw``."""
        command = (*self.read_command(symbol), *extra)
        reply = self.store.pipeline([command], writes=False, errors_as_values=True)[0]
        return self.required(symbol, reply, extra)

    def required(self, symbol: str, reply: Any, extra: tuple[str, ...] = ()) -> Quote:
        """The quote in the reply to ``read_command`` plus ``extra`` fields, or the error ``require_quote`` raises."""
        quote = quote_from_reply(symbol, reply[: len(FEED_FIELDS)] if isinstance(reply, list) else reply)
        if quote is None:
            if isinstance(reply, list) and not any(reply):
                raise BadSymbol(f"unknown symbol {symbol}: the price feed has no hash {self.keys.price(symbol)}")
            raise InvalidOrder(f"{symbol} has no valid price right now (hash {self.keys.price(symbol)})")
        for name, value in zip(extra, reply[len(FEED_FIELDS) :], strict=True):
            if value is not None:
                quote.raw[name] = value
        return quote

    def symbols(self) -> Iterator[str]:
        """Every symbol with a feed hash, found with SCAN (never KEYS) on every primary, so a large keyspace
        never blocks."""
        for name in self.store.scan_iter(self.keys.price_pattern):
            yield self.keys.symbol_from_price_key(name)

    def quotes(self, symbols: list[str] | None = None) -> dict[str, Quote]:
        """Valid quotes of the given symbols (default: every symbol the feed prices), by symbol."""
        wanted = sorted(set(self.symbols())) if symbols is None else symbols
        if not wanted:
            return {}
        replies = self.store.pipeline([self.read_command(s) for s in wanted], writes=False, errors_as_values=True)
        quotes = (quote_from_reply(symbol, reply) for symbol, reply in zip(wanted, replies, strict=True))
        return {quote.symbol: quote for quote in quotes if quote is not None}


def crossed(price: Decimal, bid: Decimal | None, ask: Decimal | None) -> str | None:
    """Why a quote is crossed, or None: the bid may not be above the price, nor the ask below it (so neither
    above the other); an absent side is the price."""
    if bid is not None and ask is not None and bid > ask:
        return f"bid {fmt(bid)} is above the ask {fmt(ask)}"
    if bid is not None and bid > price:
        return f"bid {fmt(bid)} is above the price {fmt(price)}"
    if ask is not None and ask < price:
        return f"ask {fmt(ask)} is below the price {fmt(price)}"
    return None


def quote_from_reply(symbol: str, reply: Any) -> Quote | None:
    """The quote in a reply to ``read_command`` (None when the hash holds no valid price, or is no hash)."""
    if not isinstance(reply, list):  # an error reply: the key holds something that is not a hash
        return None
    return Quote.parse(symbol, reply)
