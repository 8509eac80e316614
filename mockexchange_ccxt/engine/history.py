"""Price history in Valkey: recording prices into candles, importing candles, and reading them back.

Recording is part of the write: ``Engine.set_price`` sends ``publish_command`` (the price and its candles in one
script, ``lua/record_price.lua``) in the same round trip as the settlement. A price that someone else wrote
into a feed hash is recorded by whoever notices it first (the notification subscriber or the tick loop):
``record`` runs the same script in ``record`` mode, which checks that the hash still holds what was parsed and
that nobody recorded that snapshot yet, so several processes never record one write twice.

Retention is counted in the data's own time: each level keeps ``history_days`` days back from its newest
candle (a back-test of 2021 keeps 2021), and a price older than that is not recorded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Context, Decimal
from typing import Any

from ..errors import BadRequest, BadSymbol
from ..keys import Keys
from .candles import (
    DAY_MS,
    LEVELS,
    MINUTE_MS,
    PERIODS_PER_DAY,
    Candle,
    Timeframe,
    aggregate,
    check_limit,
    check_since,
    timeframe,
)
from .markets import split_symbol
from .money import UNIT, fmt, parse_decimal
from .prices import Quote
from .store import Store

#: Exact products of a price and a volume (each at most 80 digits, see ``money.in_exponent_range``).
_EXACT = Context(prec=200)
#: A volume larger than this is not a volume.
MAX_VOLUME = Decimal(10) ** 30
#: Fields read from a history bookkeeping hash: the newest period of each level.
_NEWEST_FIELDS = tuple(LEVELS)
#: Periods per HMGET, so that no single command is huge.
_CHUNK = 5000


def parse_volume(value: Any, what: str = "volume") -> Decimal:
    """A base amount traded: a finite number from 0 to 10^30 (BadRequest otherwise)."""
    number = parse_decimal(value, what, BadRequest)
    if number < 0 or number > MAX_VOLUME:
        raise BadRequest(f"{what} must be from 0 to 10^30, got {fmt(number)}")
    return number


def quote_volume(price: Decimal, volume: Decimal | None) -> str:
    """The quote amount of ``volume`` traded at ``price``, exactly, as the scripts add it up."""
    return "0" if volume is None else fmt(_EXACT.multiply(price, volume))


def fingerprint(quote: Quote) -> str:
    """What identifies a feed snapshot for recording: its raw price, timestamp and volume (as the scripts'
    ``feed_fingerprint`` reads them)."""
    raw = quote.raw
    return f"{raw.get('price', '')}|{raw.get('timestamp', '')}|{raw.get('volume', '')}"


@dataclass(frozen=True)
class Stats:
    """The last 24 h of a symbol, from its candles (what a ticker's statistics come from)."""

    open: Decimal
    high: Decimal
    low: Decimal
    volume: Decimal
    quote_volume: Decimal


class History:
    """Candles of every symbol: the commands that record prices, and the reads that serve them."""

    def __init__(self, store: Store, keys: Keys, days: int) -> None:
        self.store = store
        self.keys = keys
        self.days = days

    # -- recording ---------------------------------------------------------------------------------------------

    def publish_command(
        self,
        symbol: str,
        price: Decimal,
        timestamp_ms: int,
        volume: Decimal | None,
        bid: Decimal | None,
        ask: Decimal | None,
        depth: tuple[str, str] | None,
    ) -> tuple[Any, ...]:
        """The script call that publishes a price (``Engine.set_price``) and records it; it replies 1 when the
        feed now holds this price, 0 when the feed already held a newer one (the price is still recorded)."""
        optional = ["" if value is None else fmt(value) for value in (bid, ask)]
        bids, asks = depth or ("", "")
        return self.store.eval_command(
            "record_price",
            self.keys.history_keys(symbol),
            [
                "publish",
                fmt(price),
                str(timestamp_ms),
                "" if volume is None else fmt(volume),
                quote_volume(price, volume),
                self.days,
                *optional,
                bids,
                asks,
            ],
        )

    def record_command(self, quote: Quote) -> tuple[Any, ...]:
        """The script call that records a price someone else wrote (``quote``, as parsed). It replies 0 when
        that snapshot was recorded already or the hash changed since it was read (the change will be noticed
        in its turn)."""
        volume = quote.volume
        return self.store.eval_command(
            "record_price",
            self.keys.history_keys(quote.symbol),
            [
                "record",
                fmt(quote.price),
                str(quote.timestamp),
                "" if volume is None else fmt(volume),
                quote_volume(quote.price, volume),
                self.days,
                fingerprint(quote),
            ],
        )

    def seen_command(self, symbol: str) -> tuple[str, ...]:
        """Reads the fingerprint of the snapshot last recorded for ``symbol``."""
        return ("HGET", self.keys.history(symbol), "seen")

    def store_candles(
        self, symbol: str, level: str, records: Sequence[tuple[int, str]], price: tuple[Decimal, int] | None
    ) -> int:
        """Store whole records at ``level`` (replacing those of the same periods) and rebuild the coarser levels
        they touch; ``price`` (the newest close and its candle's open time) becomes the feed's price if the feed
        has none or an older one. Returns how many records were inside the retention window."""
        args: list[Any] = [level, self.days, *(("", "") if price is None else (fmt(price[0]), str(price[1])))]
        for period, text in records:
            args += [period, text]
        stored, _wrote = self.store.run("import_candles", self.keys.history_keys(symbol), args)
        return int(stored)

    # -- reading -----------------------------------------------------------------------------------------------

    def newest(self, symbol: str) -> dict[str, int]:
        """The newest period of each level that has any; BadSymbol when the symbol has neither a feed hash nor
        history."""
        newest, exists = self.store.pipeline(
            [("HMGET", self.keys.history(symbol), *_NEWEST_FIELDS), ("EXISTS", self.keys.price(symbol))], writes=False
        )
        found = {level: int(value) for level, value in zip(_NEWEST_FIELDS, newest, strict=True) if value is not None}
        if not found and not exists:
            raise BadSymbol(f"unknown symbol {symbol}: no price and no history")
        return found

    def ohlcv(self, symbol: str, frame_name: Any, since: Any, limit: Any, now_ms: int) -> list[list[Any]]:
        """Candles oldest first: from ``since`` (open time at or after it, inclusive) or else the newest, at most
        ``limit`` (default 500, above 1000 served as 1000). Minutes without a price are gaps, left out."""
        split_symbol(symbol)
        frame = timeframe(frame_name)
        count = check_limit(limit)
        newest = self.newest(symbol)
        level_ms = LEVELS[frame.level]
        last = newest.get(frame.level)
        start = check_since(since, max(now_ms, (last or 0) * level_ms))
        if last is None:
            return []
        oldest = last - self.days * PERIODS_PER_DAY[frame.level] + 1
        if start is None:
            candles = self._newest(symbol, frame, oldest, last, count)
        else:
            # the first candle opening at or after ``since``; one whose start fell out of retention still counts
            # (it holds what is kept of it) when it opens at or after ``since``
            window = frame.first_at_or_after(start)
            if window < oldest * level_ms:
                window = max(window, frame.start(oldest * level_ms))
                window = window if window >= start else frame.following(window)
            candles = self._from(symbol, frame, window, max(oldest, window // level_ms), last, count)
        return candles

    def _from(self, symbol: str, frame: Timeframe, window: int, oldest: int, last: int, count: int) -> list[list[Any]]:
        level_ms = LEVELS[frame.level]
        found: list[list[Any]] = []
        while len(found) < count and window <= last * level_ms:
            end = window
            for _ in range(count - len(found)):
                end = frame.following(end)
            first = max(window // level_ms, oldest)
            found += self._candles(symbol, frame, first, min(end // level_ms, last + 1))
            window = end
        return found[:count]

    def _newest(self, symbol: str, frame: Timeframe, oldest: int, last: int, count: int) -> list[list[Any]]:
        level_ms = LEVELS[frame.level]
        found: list[list[Any]] = []
        end = frame.following(frame.start(last * level_ms))
        while len(found) < count and end > oldest * level_ms:
            start = end
            for _ in range(count - len(found)):
                start = frame.start(start - 1)
            found = self._candles(symbol, frame, max(start // level_ms, oldest), end // level_ms) + found
            end = start
        return found[-count:]

    def _candles(self, symbol: str, frame: Timeframe, first: int, stop: int) -> list[list[Any]]:
        """OHLCV rows of ``frame`` from the level's periods ``first`` to ``stop - 1``."""
        level_ms = LEVELS[frame.level]
        records = self._records(symbol, frame.level, first, stop)
        if frame.ms == level_ms:  # 1m, 1h, 1d: a record is the candle itself when it spans its whole period
            span = str(level_ms // MINUTE_MS)
            rows: list[list[Any]] = []
            for period, text in records:
                parts = text.split(",")
                if len(parts) == 9 and parts[8] == span:
                    rows.append([period * level_ms, *map(Decimal, parts[:5])])
            return rows
        candles = (Candle.parse(period * level_ms, text) for period, text in records)
        return [candle.row() for candle in aggregate([c for c in candles if c is not None], frame)]

    def _records(self, symbol: str, level: str, first: int, stop: int) -> list[tuple[int, str]]:
        """(period, record) of periods ``first`` to ``stop - 1`` that have one, in time order; in chunks, so no
        script call blocks Valkey for long."""
        key = self.keys.candles(symbol, level)
        commands = [
            self.store.eval_command("read_candles", [key], [start, min(start + _CHUNK, stop) - 1])
            for start in range(first, stop, _CHUNK)
        ]
        if not commands:
            return []
        flat = [item for reply in self.store.run_pipelined(commands) for item in reply]
        return [(int(flat[i]), flat[i + 1]) for i in range(0, len(flat), 2)]

    def tickers(self, quotes: Sequence[Quote]) -> dict[str, dict[str, Any]]:
        """The ccxt-unified tickers of ``quotes`` by symbol, with their 24 h statistics."""
        stats = self.stats(quotes)
        return {quote.symbol: with_stats(quote.ticker(), stats.get(quote.symbol)) for quote in quotes}

    def stats(self, quotes: Sequence[Quote]) -> dict[str, Stats]:
        """The last 24 h up to each quote's own timestamp, by symbol (symbols without candles are left out).

        Whole hours come from the ``1h`` level and the ends from ``1m``, so a ticker reads at most about 140
        records however busy the symbol."""
        plans = []
        commands: list[tuple[Any, ...]] = []
        for quote in quotes:
            first_minute = -(-(quote.timestamp - DAY_MS) // LEVELS["1m"])
            last_minute = quote.timestamp // LEVELS["1m"]
            first_hour, stop_hour = -(-first_minute // 60), (last_minute + 1) // 60
            head = range(first_minute, min(first_hour * 60, last_minute + 1))
            minutes = [*head, *range(stop_hour * 60, last_minute + 1)]
            hours = list(range(first_hour, stop_hour))
            plans.append((quote.symbol, minutes, hours))
            # a field that no record has stands in for an empty list (HMGET needs one)
            commands.append(("HMGET", self.keys.candles(quote.symbol, "1m"), *(minutes or [-1])))
            commands.append(("HMGET", self.keys.candles(quote.symbol, "1h"), *(hours or [-1])))
        replies = self.store.pipeline(commands, writes=False, errors_as_values=True) if commands else []
        result: dict[str, Stats] = {}
        for index, (symbol, minutes, hours) in enumerate(plans):
            minute_texts, hour_texts = replies[2 * index], replies[2 * index + 1]
            if not isinstance(minute_texts, list) or not isinstance(hour_texts, list):
                continue
            records = [(m * LEVELS["1m"], text) for m, text in zip(minutes, minute_texts, strict=False) if text]
            records += [(h * LEVELS["1h"], text) for h, text in zip(hours, hour_texts, strict=False) if text]
            candles = sorted(
                (c for c in (Candle.parse(start, text) for start, text in records) if c is not None),
                key=lambda candle: candle.start,
            )
            if candles:
                result[symbol] = Stats(
                    candles[0].open,
                    max(candle.high for candle in candles),
                    min(candle.low for candle in candles),
                    sum((candle.volume for candle in candles), Decimal(0)),
                    sum((candle.quote_volume for candle in candles), Decimal(0)),
                )
        return result


def with_stats(ticker: dict[str, Any], stats: Stats | None) -> dict[str, Any]:
    """A ticker with its 24 h statistics: open, high, low, change, percentage and average from the candles
    (high and low include the last price), volumes from the feed when it gives either (as a pair: the feed's
    24 h figures and the mock's candles do not mix), else from the candles, and vwap = quote / base volume."""
    last: Decimal = ticker["last"]
    base, quote = ticker["baseVolume"], ticker["quoteVolume"]
    if stats is not None:
        change = last - stats.open
        ticker.update(
            open=stats.open,
            high=max(stats.high, last),
            low=min(stats.low, last),
            change=change,
            percentage=(change * 100 / stats.open).quantize(UNIT, rounding=ROUND_HALF_EVEN),
            average=(stats.open + last) / 2,
        )
        if base is None and quote is None:
            base, quote = stats.volume, stats.quote_volume
    vwap = None
    if base and quote is not None and (quote / base).adjusted() < 20:  # feed volumes may be anything
        vwap = (quote / base).quantize(UNIT, rounding=ROUND_HALF_EVEN)
    ticker.update(baseVolume=base, quoteVolume=quote, vwap=vwap)
    return ticker
