"""What the engine knows about its markets beyond balances and orders: prices written through it, tickers with
their 24 h statistics, candles, order books. A mixin of ``Engine``, kept apart so each file stays small."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..errors import BadRequest
from .clock import MAX_TIMESTAMP_MS, ReplayClock
from .depth import DEPTH_FIELDS, Book, book_of, check_book_limit, depth_fields
from .history import fingerprint, parse_volume
from .markets import MAX_PRICE, is_symbol, split_symbol
from .money import fmt, parse_positive, short
from .prices import Quote

if TYPE_CHECKING:
    from ..config import Settings
    from .clock import Clock
    from .history import History
    from .prices import PriceFeed
    from .store import Store


class MarketData:
    """Market-data methods of ``Engine`` (``self`` is the engine)."""

    settings: Settings
    clock: Clock
    store: Store
    feed: PriceFeed
    history: History

    if TYPE_CHECKING:  # defined by Engine

        def now_ms(self) -> int: ...
        def process_price_tick(self, symbol: str) -> int: ...
        def _settle_command(self, quote: Quote, checked: bool = False) -> tuple[Any, ...]: ...
        def _settle_more(self, quote: Quote, taken: int, filled: int) -> int: ...

    def ticker(self, symbol: str) -> dict[str, Any]:
        """The ccxt-unified ticker of a priced symbol (BadSymbol if unknown, InvalidOrder if unpriced), with
        the statistics of its last 24 h of candles."""
        split_symbol(symbol)
        return self.history.tickers([self.feed.require_quote(symbol)])[symbol]

    def tickers(self, symbols: list[str] | None = None) -> dict[str, dict[str, Any]]:
        """Tickers of the given symbols, or of every priced one; unpriced symbols are left out."""
        if symbols is not None:
            for symbol in symbols:
                split_symbol(symbol)
        quotes = self.feed.quotes(symbols)
        return self.history.tickers([quote for symbol, quote in quotes.items() if is_symbol(symbol)])

    def ohlcv(self, symbol: str, timeframe: Any = "1m", since: Any = None, limit: Any = None) -> list[list[Any]]:
        """Candles ``[timestamp, open, high, low, close, volume]`` oldest first (see ``History.ohlcv``)."""
        return self.history.ohlcv(symbol, timeframe, since, limit, self.now_ms())

    def book(self, symbol: str) -> Book:
        """The symbol's current book, exact: the feed's depth, or the synthetic book (see ``engine.depth``)."""
        split_symbol(symbol)
        return book_of(self.feed.require_quote(symbol, DEPTH_FIELDS), self.settings)

    def order_book(self, symbol: str, limit: Any = None) -> dict[str, Any]:
        """The ccxt-unified order book, ``limit`` levels a side."""
        return self.book(symbol).unified(check_book_limit(limit))

    def set_price(
        self,
        symbol: str,
        price: Any,
        timestamp: int | None = None,
        bid: Any = None,
        ask: Any = None,
        volume: Any = None,
        bids: Any = None,
        asks: Any = None,
    ) -> int:
        """Publish a price in the feed hash, record it in the symbol's candles and settle the symbol at once;
        returns the orders filled. ``volume`` is the base amount traded since the previous price; ``bids`` and
        ``asks`` the depth (``[price, amount]`` pairs, best first).

        ``timestamp`` (ms) defaults to the engine clock; a ``ReplayClock`` moves forward to it. A price older
        than the one the feed holds is recorded in its minute and leaves the feed alone. The write, its
        recording and the first settlement batch go to Valkey in one round trip.
        """
        split_symbol(symbol)
        last = self._price_argument(price, "price")
        best_bid = None if bid is None else self._price_argument(bid, "bid")
        best_ask = None if ask is None else self._price_argument(ask, "ask")
        traded = None if volume is None else parse_volume(volume)
        depth = depth_fields(bids, asks)
        if timestamp is None:
            timestamp = self.now_ms()
        elif isinstance(timestamp, bool) or not isinstance(timestamp, int) or not 0 < timestamp <= MAX_TIMESTAMP_MS:
            raise BadRequest(
                f"timestamp must be a positive integer of milliseconds up to {MAX_TIMESTAMP_MS}, got {short(timestamp)}"
            )
        if isinstance(self.clock, ReplayClock):
            self.clock.advance_to(timestamp)
        quote = Quote(symbol, last, best_bid or last, best_ask or last, timestamp, {})
        commands = [
            self.history.publish_command(symbol, last, timestamp, traded, best_bid, best_ask, depth),
            self._settle_command(quote, checked=True),
        ]
        taken, filled = self.store.run_pipelined(commands)[-1]
        if taken < 0:  # the feed holds a newer price than this late one, which was only recorded
            return self.process_price_tick(symbol)
        return int(filled) + self._settle_more(quote, taken, filled)

    def notice(self, symbol: str) -> int:
        """Someone else wrote ``symbol``'s feed hash: record the price it holds now in history (once, whoever
        notices first) and settle the symbol, in one round trip. Returns the orders filled."""
        if not is_symbol(symbol):
            return 0
        quote = self.feed.quote(symbol)
        if quote is None:
            return 0
        return self._notice_quote(quote)

    def _notice_quote(self, quote: Quote) -> int:
        _recorded, (taken, filled) = self.store.run_pipelined(
            [self.history.record_command(quote), self._settle_command(quote)]
        )
        return int(filled) + self._settle_more(quote, taken, filled)

    def notice_outside_writes(self) -> int:
        """Record and settle every symbol whose feed hash holds a snapshot not recorded yet: the tick loop's
        pass, for when keyspace notifications are off or were missed. Returns the orders filled."""
        symbols = [symbol for symbol in self.feed.symbols() if is_symbol(symbol)]
        filled = 0
        for start in range(0, len(symbols), 500):
            chunk = symbols[start : start + 500]
            commands = [c for s in chunk for c in (self.feed.read_command(s), self.history.seen_command(s))]
            replies = self.store.pipeline(commands, writes=False, errors_as_values=True)
            for index, symbol in enumerate(chunk):
                reply, seen = replies[2 * index], replies[2 * index + 1]
                quote = Quote.parse(symbol, reply) if isinstance(reply, list) else None
                if quote is not None and fingerprint(quote) != seen:
                    filled += self._notice_quote(quote)
        return filled

    @staticmethod
    def _price_argument(value: Any, what: str) -> Decimal:
        number = parse_positive(value, what, BadRequest)
        if number > MAX_PRICE:
            raise BadRequest(f"{what} {fmt(number)} is above the maximum {fmt(MAX_PRICE)}")
        return number
