"""What the engine knows about its markets beyond balances and orders: prices written through it, tickers with
their 24 h statistics, candles, order books. A mixin of ``Engine``, kept apart so each file stays small."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..errors import BadRequest
from .bars import Tick, drive, level_records, parse_rows, replay_ticks
from .candles import MINUTE_MS
from .clock import MAX_TIMESTAMP_MS, ReplayClock
from .depth import DEPTH_FIELDS, Book, book_of, check_book_limit, depth_fields
from .every_account import settle_accounts
from .history import fingerprint, parse_volume, written_fields
from .markets import MAX_PRICE, is_symbol, split_symbol
from .money import fmt, parse_positive, short
from .price_batches import set_prices
from .prices import Quote
from .snapshot import written_snapshot

if TYPE_CHECKING:
    from ..config import Settings
    from ..keys import Keys
    from .clock import Clock
    from .history import History
    from .placement import QuoteMemory
    from .prices import PriceFeed
    from .store import Store


#: Candles per import script call, so that no call blocks Valkey for long.
_IMPORT_CHUNK = 1000


class MarketData:
    """Market-data methods of ``Engine`` (``self`` is the engine)."""

    settings: Settings
    keys: Keys
    clock: Clock
    store: Store
    feed: PriceFeed
    history: History
    quote_memory: QuoteMemory

    if TYPE_CHECKING:  # defined by Engine

        def now_ms(self) -> int: ...
        def process_price_tick(self, symbol: str) -> int: ...
        def settle_arguments(self, quote: Quote) -> tuple[list[str], list[Any]]: ...
        def continue_settlement(self, quote: Quote, reply: list[Any]) -> int: ...

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

    def ohlcv(
        self, symbol: str, timeframe: Any = "1m", since: Any = None, limit: Any = None, *, floats: bool = False
    ) -> list[list[Any]]:
        """Candles ``[timestamp, open, high, low, close, volume]`` oldest first (see ``History.ohlcv``; with
        ``floats`` the numbers are floats, for a caller that wants floats anyway)."""
        return self.history.ohlcv(symbol, timeframe, since, limit, self.now_ms(), floats)

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
        recording and the first settlement batch go to Valkey in one round trip (one script on a single node).
        """
        split_symbol(symbol)
        last = self.check_price(price, "price")
        best_bid = None if bid is None else self.check_price(bid, "bid")
        best_ask = None if ask is None else self.check_price(ask, "ask")
        traded = None if volume is None else parse_volume(volume)
        depth = depth_fields(bids, asks)
        timestamp = self.now_ms() if timestamp is None else self.check_timestamp(timestamp)
        quote = Quote.published(symbol, last, best_bid, best_ask, timestamp)  # BadRequest if crossed
        if isinstance(self.clock, ReplayClock):
            self.clock.advance_to(timestamp)
        fields = (symbol, last, timestamp, traded, best_bid, best_ask, depth)
        holders_command = ("SMEMBERS", self.keys.symbol_accounts(symbol))
        if self.store.cluster or self.settings.book_fills:  # two steps: on a cluster no script may touch the
            # feed's slot and the account's; under FILL_MODEL=book the pass reads the snapshot it settles against
            *_, published, holders = self.store.run_pipelined(
                [*self.history.publish_commands(*fields), holders_command]
            )
            if not published:  # the feed holds a newer price than this late one, which was only recorded
                return self.process_price_tick(symbol)
            self.remember_written(symbol, written_fields(last, timestamp, best_bid, best_ask), depth)
            return settle_accounts(self, quote, {self.settings.account, *holders})  # type: ignore[arg-type]
        commands = self.history.publish_commands(*fields, settle=self.settle_arguments(quote))
        *_, reply, holders = self.store.run_pipelined([*commands, holders_command])
        if int(reply[0]) < 0:  # the feed holds a newer price than this late one, which was only recorded
            return self.process_price_tick(symbol)
        self.remember_written(symbol, written_fields(last, timestamp, best_bid, best_ask), depth)  # no read first
        filled = self.continue_settlement(quote, reply)
        return filled + settle_accounts(self, quote, set(holders) - {self.settings.account})  # type: ignore[arg-type]

    def remember_written(self, symbol: str, fields: Sequence[str | None], depth: tuple[str, str] | None) -> None:
        """What ``set_price`` wrote, remembered as a read of the feed would give it: the next order on the symbol
        is planned from it without a read (under FILL_MODEL=book from the snapshot, nothing taken from it yet)."""
        self.quote_memory.written(symbol, fields)
        if self.settings.book_fills:
            snapshot = written_snapshot(symbol, fields, depth, self.settings)
            if snapshot is not None:
                self.quote_memory.snapshots[symbol] = snapshot

    def import_ohlcv(self, symbol: str, timeframe: Any, rows: Iterable[Sequence[Any]]) -> int:
        """Store whole candles ``[timestamp, open, high, low, close, volume]`` (a file, a backfill) in history,
        replacing those of the same periods, so a re-import changes nothing. Every row is checked first (a bad
        one raises ``RowError`` naming it, and nothing is stored). A symbol with no price gets the last close
        as its price (a newer one too), and is then settled. Returns the candles kept (inside retention)."""
        split_symbol(symbol)
        bars = parse_rows(rows, timeframe)
        level, records = level_records(bars, timeframe)
        stored = 0
        for start in range(0, len(records), _IMPORT_CHUNK):
            newest = None if start + _IMPORT_CHUNK < len(records) else (bars[-1].close, bars[-1].start)
            stored += self.history.store_candles(symbol, level, records[start : start + _IMPORT_CHUNK], newest)
        if bars:
            self.process_price_tick(symbol)
        return stored

    def replay(
        self,
        symbol: str,
        rows: Iterable[Sequence[Any]],
        timeframe: Any = "1m",
        speed: float = 0.0,
        from_now: bool = False,
        progress: Callable[[int, int], object] | None = None,
    ) -> dict[str, Any]:
        """Drive ``symbol``'s price from candles, four ticks a bar (``engine.bars``), each through ``set_price``,
        so resting orders fill as they would have and the prices are recorded in history (at speed 0 through
        ``set_prices``, in batches: the same outcome in far fewer round trips). ``speed`` N plays N times faster
        than the data's clock (0: as fast as it can); ``from_now`` moves the data so its first bar opens at the
        current minute (live bots compare candle times with their own clock). For back-tests give the engine a
        ``ReplayClock``: time then follows the data."""
        split_symbol(symbol)
        bars = parse_rows(rows, timeframe)
        shift = self.now_ms() // MINUTE_MS * MINUTE_MS - bars[0].start if from_now and bars else 0
        ticks = replay_ticks(bars, shift)

        def write(tick: Tick) -> int:
            return self.set_price(symbol, tick[1], timestamp=tick[0], volume=tick[2])

        filled = drive(ticks, write, speed, progress, lambda part: self.set_prices(symbol, part))
        return {"symbol": symbol, "bars": len(bars), "ticks": len(ticks), "filled": filled}

    def notice(self, symbol: str) -> int:
        """Someone else wrote ``symbol``'s feed hash: record the price it holds now in history (once, whoever
        notices first) and settle the symbol. Returns the orders filled.

        Whoever records a feed snapshot settles it: ``set_price`` the prices it writes (so the fills it returns
        are all those of its price: a subscriber that noticed its write never races it for them), the first
        subscriber or tick-loop pass an outside write. A snapshot found recorded already, or replaced since it
        was read (its successor is noticed in turn), is left to them."""
        if not is_symbol(symbol):
            return 0
        quote = self.feed.quote(symbol)
        if quote is None:
            return 0
        return self._notice_quote(quote)

    def _notice_quote(self, quote: Quote) -> int:
        holders_command = ("SMEMBERS", self.keys.symbol_accounts(quote.symbol))
        recorded, holders = self.store.run_pipelined([self.history.record_command(quote), holders_command])
        if not int(recorded):
            return 0
        return settle_accounts(self, quote, {self.settings.account, *holders})  # type: ignore[arg-type]

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

    def set_prices(self, symbol: str, ticks: Iterable[Sequence[Any]]) -> int:
        """Write many prices of ``symbol``, ``(timestamp, price)`` or ``(timestamp, price, volume)`` each, oldest
        first, with exactly the outcome of one ``set_price`` per tick, in one round trip for every run of ticks
        that settles nothing (``engine/price_batches.py``); returns the orders filled. For back-tests: the ticks
        between two decisions of a strategy."""
        return set_prices(self, symbol, ticks)  # type: ignore[arg-type]

    @staticmethod
    def check_price(value: Any, what: str) -> Decimal:
        """A price argument: positive, at most MAX_PRICE (BadRequest otherwise)."""
        number = parse_positive(value, what, BadRequest)
        if number > MAX_PRICE:
            raise BadRequest(f"{what} {fmt(number)} is above the maximum {fmt(MAX_PRICE)}")
        return number

    @staticmethod
    def check_timestamp(value: Any) -> int:
        """A price's timestamp argument: whole milliseconds, positive, at most MAX_TIMESTAMP_MS."""
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_TIMESTAMP_MS:
            raise BadRequest(
                f"timestamp must be a positive integer of milliseconds up to {MAX_TIMESTAMP_MS}, got {short(value)}"
            )
        return value
