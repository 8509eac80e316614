"""Whole candles from outside (a file, a backfill, a replay): checked, and turned into records or into ticks.

A row is ``[timestamp, open, high, low, close, volume]`` (ms; numbers or decimal text). Every row of a batch
is checked before anything is written, and the first bad one is reported by its position (``RowError.index``),
so a file reader can name the line.

Replay turns each bar into four ticks, the rule stated once here: the open at the bar's open time, then the
nearer of high and low to the open (the high on a tie), then the other one, then the close; at 0, 1/3 and 2/3
of the bar and at its last millisecond. The bar's volume goes with the close, so a replayed bar's 1m candles
carry the bar's volume once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from ..errors import BadRequest
from .candles import LEVELS, Candle, Timeframe, timeframe
from .clock import MAX_TIMESTAMP_MS
from .history import parse_volume
from .markets import MAX_PRICE
from .money import UNIT, fmt, parse_positive


class RowError(BadRequest):
    """A row that is not a candle; ``index`` is its position in the batch (0-based)."""

    def __init__(self, index: int, message: str) -> None:
        super().__init__(f"candle {index + 1}: {message}")
        self.index = index
        self.reason = message


def bar_ticks(bar: Candle) -> list[tuple[int, Decimal, Decimal | None]]:
    """The replay rule: (timestamp, price, volume) of a bar's four ticks."""
    high_first = bar.high - bar.open <= bar.open - bar.low
    first, second = (bar.high, bar.low) if high_first else (bar.low, bar.high)
    third = bar.span_ms // 3
    return [
        (bar.start, bar.open, None),
        (bar.start + third, first, None),
        (bar.start + 2 * third, second, None),
        (bar.start + bar.span_ms - 1, bar.close, bar.volume),
    ]


def parse_rows(rows: Iterable[Sequence[Any]], frame_name: Any) -> list[Candle]:
    """Checked bars, oldest first (a repeated timestamp: the later row wins); RowError at the first bad row."""
    frame = timeframe(frame_name)
    bars: dict[int, Candle] = {}
    for index, row in enumerate(rows):
        try:
            bar = _bar(row, frame)
        except BadRequest as exc:
            raise RowError(index, exc.message) from None
        bars[bar.start] = bar
    return [bars[start] for start in sorted(bars)]


def _bar(row: Sequence[Any], frame: Timeframe) -> Candle:
    if not isinstance(row, list | tuple) or len(row) != 6:
        raise BadRequest("expected [timestamp, open, high, low, close, volume]")
    start = _timestamp(row[0])
    if frame.start(start) != start:
        raise BadRequest(f"timestamp {start} is not the open time of a {frame.name} candle")
    o, h, lo, c = (_price(value, name) for value, name in zip(row[1:5], ("open", "high", "low", "close"), strict=True))
    if not lo <= min(o, c) <= max(o, c) <= h:
        raise BadRequest(f"not low <= open, close <= high: {fmt(o)} {fmt(h)} {fmt(lo)} {fmt(c)}")
    volume = parse_volume(row[5])
    # a whole candle is opened and closed at its start (a later price in its period moves the close); its quote
    # volume is estimated at the typical price (high + low + close) / 3, to 1e-8
    quote = (volume * (h + lo + c) / 3).quantize(UNIT, rounding=ROUND_HALF_EVEN)
    return Candle(start, o, h, lo, c, volume, quote, 0, 0, frame.following(start) - start)


def _timestamp(value: Any) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    elif isinstance(value, float | Decimal) and value == int(value):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_TIMESTAMP_MS:
        raise BadRequest(f"timestamp must be whole milliseconds from 0 to {MAX_TIMESTAMP_MS}, got {str(value)[:30]!r}")
    return value


def _price(value: Any, name: str) -> Decimal:
    price = parse_positive(value, name, BadRequest)
    if price > MAX_PRICE:
        raise BadRequest(f"{name} {fmt(price)} is above the maximum {fmt(MAX_PRICE)}")
    return price


def level_records(bars: Sequence[Candle], frame_name: str) -> tuple[str, list[tuple[int, str]]]:
    """The level the bars are stored at (the longest that divides their timeframe) and their records."""
    level = timeframe(frame_name).level
    length = LEVELS[level]
    return level, [(bar.start // length, bar.record(length)) for bar in bars]


Tick = tuple[int, Decimal, Decimal | None]  # (timestamp ms, price, base volume traded since the previous tick)

#: Ticks per ``write_many`` call of a batched replay: a progress bar moves after each.
CHUNK_TICKS = 500


def replay_ticks(bars: Sequence[Candle], shift_ms: int = 0) -> list[Tick]:
    """Every bar's ticks in order, each moved ``shift_ms`` later."""
    return [(ts + shift_ms, price, volume) for bar in bars for ts, price, volume in bar_ticks(bar)]


def drive(
    ticks: Sequence[Tick],
    write: Callable[[Tick], int],
    speed: float = 0.0,
    progress: Callable[[int, int], object] | None = None,
    write_many: Callable[[Sequence[Tick]], int] | None = None,
) -> int:
    """Write ``ticks`` in order, ``speed`` times faster than their own clock (0: as fast as it can); returns
    the sum of what ``write`` returned (orders filled). ``progress(done, total)`` is told now and then. At speed
    0, ``write_many`` (when given) takes them in runs of ``CHUNK_TICKS`` instead (a batched replay)."""
    if not (isinstance(speed, int | float) and not isinstance(speed, bool) and 0 <= speed < float("inf")):
        raise BadRequest(f"speed must be a finite number >= 0, got {str(speed)[:20]!r}")
    filled, total = 0, len(ticks)
    if speed == 0 and write_many is not None:
        for start in range(0, total, CHUNK_TICKS):
            filled += write_many(ticks[start : start + CHUNK_TICKS])
            if progress is not None:
                progress(min(start + CHUNK_TICKS, total), total)
        return filled
    started, first = time.monotonic(), ticks[0][0] if ticks else 0
    every = max(1, total // 200)
    for done, tick in enumerate(ticks, 1):
        if speed > 0:
            delay = started + (tick[0] - first) / 1000 / speed - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        filled += write(tick)
        if progress is not None and (done % every == 0 or done == total):
            progress(done, total)
    return filled
