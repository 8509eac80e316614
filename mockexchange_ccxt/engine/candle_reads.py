"""Reading history back: ``fetch_ohlcv``'s candles and the tickers' 24 h statistics (a mixin of ``History``).

Every read is one script call (``lua/read_candles.lua``) per run of at most 5,000 periods: one HMGET of the
records and, in the same atomic step, the bookkeeping that says how to read them: the newest period of each
level (runs are cut to the retention window) and the open minute, which its hour's record does not hold yet and
a reader of hours folds in. ``fetch_ohlcv`` with a ``since`` up to now is one round trip; without one, a first
read finds the newest candle. Where the timeframe is a stored level (1m, 1h), rows are built straight from the
records' text, with no object per candle.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from ..errors import BadSymbol
from ..keys import Keys
from .candles import (
    DAY_MS,
    EXACT,
    HOUR_MS,
    LEVELS,
    MINUTE_MS,
    PERIODS_PER_DAY,
    VOLUME_DECIMALS,
    Candle,
    Timeframe,
    aggregate,
    check_limit,
    check_since,
    fold,
    timeframe,
)
from .markets import split_symbol
from .money import UNIT
from .prices import Quote
from .store import Store

#: Periods per read script call, so that no call blocks Valkey for long.
_CHUNK = 5000
_VOLUME_UNITS = 10**VOLUME_DECIMALS
_VOLUME_ONE = Decimal(_VOLUME_UNITS)
Run = tuple[str, int, int]  # level, first period, stop (exclusive)


@dataclass(frozen=True)
class Snapshot:
    """One read: whether the feed hash exists, the newest period of each level that has any, the open minute,
    and per run asked for, the first period read (cut to retention) and its records (None: no record)."""

    exists: bool
    last: dict[str, int]
    open: Candle | None
    runs: list[tuple[int, list[str | None]]]

    @classmethod
    def parse(cls, reply: list[Any]) -> Snapshot:
        exists, last_minute, last_hour, open_minute, open_text = reply[:5]
        newest = zip(LEVELS, (last_minute, last_hour), strict=True)
        last = {level: int(value) for level, value in newest if value is not None}
        candle = None if open_text is None else Candle.parse(int(open_minute) * MINUTE_MS, open_text)
        return cls(bool(exists), last, candle, [(int(reply[i]), reply[i + 1]) for i in range(5, len(reply), 2)])

    def candles(self, index: int, level: str) -> list[Candle]:
        """The records of run ``index`` (of ``level``) as candles, the open minute folded into its hour."""
        first, records = self.runs[index]
        length = LEVELS[level]
        found = [
            candle
            for period, text in enumerate(records, first)
            if text is not None and (candle := Candle.parse(period * length, text, length)) is not None
        ]
        hour = self.open_hour(level, first, len(records))
        if hour is not None and self.open is not None:  # after its hour's record, in time order
            found.insert(bisect_left([candle.start for candle in found], hour + 1), self.open)
        return found

    def open_hour(self, level: str, first: int, count: int) -> int | None:
        """The start of the open minute's hour when a run of hours ``first`` to ``first + count - 1`` holds it."""
        if level != "1h" or self.open is None or not first <= self.open.start // HOUR_MS < first + count:
            return None
        return self.open.start // HOUR_MS * HOUR_MS


@dataclass(frozen=True)
class Stats:
    """The last 24 h of a symbol, from its candles (what a ticker's statistics come from)."""

    open: Decimal
    high: Decimal
    low: Decimal
    volume: Decimal
    quote_volume: Decimal


class HistoryReads:
    """The reads of ``History``."""

    store: Store
    keys: Keys
    days: int
    keys_of: Callable[[str], list[str]]

    def ohlcv(
        self, symbol: str, frame_name: Any, since: Any, limit: Any, now_ms: int, floats: bool = False
    ) -> list[list[Any]]:
        """Candles oldest first: from ``since`` (open time at or after it, inclusive) or else the newest, at most
        ``limit`` (default 500, above 1000 served as 1000). Minutes without a price are gaps, left out.

        The numbers are exact Decimals, or with ``floats`` the float of each (what ``float()`` of the Decimal
        gives), built from the records' text without a Decimal: for the ccxt class, whose rows carry floats."""
        split_symbol(symbol)
        frame = timeframe(frame_name)
        count = check_limit(limit)
        periods = frame.ms // LEVELS[frame.level] * count
        if isinstance(since, int) and not isinstance(since, bool) and 0 <= since <= now_ms and periods <= _CHUNK:
            return self._from(symbol, frame, since, count, None, floats)  # one round trip
        snapshot = self._snapshots(symbol, [])[0]
        last = self._last(symbol, snapshot, frame.level)
        start = check_since(since)
        if last is None or (start is not None and start > max(now_ms, last * LEVELS[frame.level])):
            return []  # no history, or a since after now and after the newest candle: nothing opens there yet
        if start is None:
            return self._newest(symbol, frame, last, count, floats)
        return self._from(symbol, frame, start, count, last, floats)

    def _last(self, symbol: str, snapshot: Snapshot, level: str) -> int | None:
        """The newest period of ``level``; BadSymbol when the symbol has neither a feed hash nor history."""
        if not snapshot.exists and not snapshot.last:
            raise BadSymbol(f"unknown symbol {symbol}: no price and no history")
        return snapshot.last.get(level)

    def _oldest(self, level: str, last: int) -> int:
        return last - self.days * PERIODS_PER_DAY[level] + 1

    def _from(
        self, symbol: str, frame: Timeframe, since: int, count: int, last: int | None, floats: bool
    ) -> list[list[Any]]:
        level_ms = LEVELS[frame.level]
        window = frame.first_at_or_after(since)
        found: list[list[Any]] = []
        least = 0  # the first read covers what was asked; only gaps make another, of at least a chunk
        while len(found) < count:
            if last is not None:
                oldest = self._oldest(frame.level, last)
                if window < oldest * level_ms:
                    # a candle whose start fell out of retention still counts (it holds what is kept of it) when
                    # it opens at or after ``since``
                    kept = frame.start(oldest * level_ms)
                    window = max(window, kept if kept >= since else frame.following(kept))
                if window > last * level_ms:
                    break
            end = frame.shifted(window, max(count - len(found), least))
            least = self._step(frame)
            first, stop = window // level_ms, end // level_ms
            if last is not None:
                first, stop = max(first, oldest), min(stop, last + 1)
            snapshots = self._snapshots(symbol, self._runs(frame.level, first, stop))
            if last is None:
                last = self._last(symbol, snapshots[0], frame.level)
                if last is None:
                    return []
            found += self._rows(frame, snapshots, floats)
            window = end
        return found[:count]

    def _newest(self, symbol: str, frame: Timeframe, last: int, count: int, floats: bool) -> list[list[Any]]:
        level_ms = LEVELS[frame.level]
        oldest = self._oldest(frame.level, last)
        found: list[list[Any]] = []
        end = frame.following(frame.start(last * level_ms))
        least = 0  # as in _from: a chunk at least, once gaps left the first read short
        while len(found) < count and end > oldest * level_ms:
            start = frame.shifted(end, -max(count - len(found), least))
            least = self._step(frame)
            runs = self._runs(frame.level, max(start // level_ms, oldest), end // level_ms)
            found = self._rows(frame, self._snapshots(symbol, runs), floats) + found
            end = start
        return found[-count:]

    @staticmethod
    def _step(frame: Timeframe) -> int:
        """The fewest candles of ``frame`` a read after the first covers: a chunk of its level, so that a window
        of gaps (a ``since`` long before the history begins, a limit above what is kept) costs one round trip
        per chunk, not one per missing candle."""
        return max(1, _CHUNK * LEVELS[frame.level] // frame.ms)

    @staticmethod
    def _runs(level: str, first: int, stop: int) -> list[list[Run]]:
        """Periods ``first`` to ``stop - 1`` of ``level`` as runs of at most ``_CHUNK``, one per script call."""
        return [[(level, start, min(start + _CHUNK, stop))] for start in range(first, stop, _CHUNK)] or [[]]

    def _snapshots(self, symbol: str, calls: list[list[Run]]) -> list[Snapshot]:
        """One read script call per item of ``calls`` (each a list of runs; ``[]`` alone reads the bookkeeping
        only), in one pipeline."""
        keys = self.keys_of(symbol)
        commands = [self._read_command(keys, runs) for runs in calls or [[]]]
        return [Snapshot.parse(reply) for reply in self.store.run_pipelined(commands)]

    def _read_command(self, keys: list[str], runs: Sequence[Run]) -> tuple[Any, ...]:
        return self.store.eval_command("read_candles", keys, [self.days, *(part for run in runs for part in run)])

    def _rows(self, frame: Timeframe, snapshots: list[Snapshot], floats: bool) -> list[list[Any]]:
        """OHLCV rows of ``frame`` from the runs read (each snapshot one run of the frame's level)."""
        level_ms = LEVELS[frame.level]
        if frame.ms != level_ms:
            candles = [c for snapshot in snapshots if snapshot.runs for c in snapshot.candles(0, frame.level)]
            return [row_of(candle, floats) for candle in aggregate(candles, frame)]
        rows: list[list[Any]] = []
        for snapshot in snapshots:
            if not snapshot.runs:
                continue
            first, records = snapshot.runs[0]
            rows += level_rows(first, records, level_ms, floats)
            hour = snapshot.open_hour(frame.level, first, len(records))
            if hour is not None and snapshot.open is not None:  # the open minute's hour
                text = records[hour // HOUR_MS - first]
                stored = None if text is None else Candle.parse(hour, text, HOUR_MS)
                candle = fold([c for c in (stored, snapshot.open) if c is not None], hour)
                index = bisect_left([row[0] for row in rows], hour)
                if index < len(rows) and rows[index][0] == hour:
                    del rows[index]
                if candle is not None and (stored is None or stored.span_ms == HOUR_MS):
                    rows.insert(index, row_of(candle, floats))
        return rows

    def tickers(self, quotes: Sequence[Quote]) -> dict[str, dict[str, Any]]:
        """The ccxt-unified tickers of ``quotes`` by symbol, with their 24 h statistics."""
        stats = self.stats(quotes)
        return {quote.symbol: with_stats(quote.ticker(), stats.get(quote.symbol)) for quote in quotes}

    def stats(self, quotes: Sequence[Quote]) -> dict[str, Stats]:
        """The last 24 h up to each quote's own timestamp, by symbol (symbols without candles are left out).

        Whole hours come from the ``1h`` level and the ends from ``1m``, so a ticker reads at most about 140
        records however busy the symbol."""
        commands = []
        for quote in quotes:
            first_minute = -(-(quote.timestamp - DAY_MS) // MINUTE_MS)
            last_minute = quote.timestamp // MINUTE_MS
            first_hour, stop_hour = -(-first_minute // 60), (last_minute + 1) // 60
            runs = [
                ("1m", first_minute, min(first_hour * 60, last_minute + 1)),
                ("1h", first_hour, stop_hour),
                ("1m", max(stop_hour * 60, first_minute), last_minute + 1),
            ]
            commands.append(self._read_command(self.keys_of(quote.symbol), runs))
        replies = self.store.run_pipelined(commands) if commands else []
        result: dict[str, Stats] = {}
        for quote, reply in zip(quotes, replies, strict=True):
            snapshot = Snapshot.parse(reply)
            candles = sorted(
                [*snapshot.candles(0, "1m"), *snapshot.candles(1, "1h"), *snapshot.candles(2, "1m")],
                key=lambda candle: candle.start,
            )
            if candles:
                result[quote.symbol] = Stats(
                    candles[0].open,
                    max(candle.high for candle in candles),
                    min(candle.low for candle in candles),
                    sum((candle.volume for candle in candles), Decimal(0)),
                    sum((candle.quote_volume for candle in candles), Decimal(0)),
                )
        return result


def level_rows(first: int, records: list[str | None], level_ms: int, floats: bool = False) -> list[list[Any]]:
    """Rows of the records of a level's periods ``first``, ``first + 1``, ...: those spanning exactly their
    period (an imported coarser candle is not a candle of the level's own length). The hot loop of a read:
    a row straight from the text, no object per candle; with ``floats``, no Decimal either (``float()`` of the
    prices' text and the volume's units divided as integers: each the float nearest the exact value, as
    ``float()`` of the Decimal is)."""
    rows: list[list[Any]] = []
    new = Decimal
    start = first * level_ms
    for text in records:
        if text is not None:
            try:  # the usual record: eight fields, volumes in units
                o, h, lo, c, v, _q, _f, _t = text.split(",")
            except ValueError:
                o = "="
            if o[0] != "=":
                if floats:
                    rows.append([start, float(o), float(h), float(lo), float(c), int(v) / _VOLUME_UNITS])
                else:
                    # (a volume of up to 28 digits divides exactly in the default context, twice as fast)
                    volume = new(v) / _VOLUME_ONE if len(v) <= 28 else EXACT.divide(new(v), _VOLUME_ONE)
                    rows.append([start, new(o), new(h), new(lo), new(c), volume])
            elif (candle := Candle.parse(start, text, level_ms)) is not None and candle.span_ms == level_ms:
                rows.append(row_of(candle, floats))
        start += level_ms
    return rows


def row_of(candle: Candle, floats: bool) -> list[Any]:
    """The candle's OHLCV row, exact or as floats."""
    row = candle.row()
    return [row[0], *map(float, row[1:])] if floats else row


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
