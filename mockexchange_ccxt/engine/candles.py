"""Candles: the stored record, the timeframes served, their UTC alignment, and aggregation. No I/O here.

History is stored at two levels, each a hash per symbol from period number to a record (``lua/candle_lib.lua``):
``1m`` (the base resolution every accepted price is folded into) and ``1h`` (the same prices by the hour, so
that a day is read from 24 records instead of 1,440, and a month of history, whatever the timeframe, from at
most 720). Every timeframe is aggregated on read from the longer level that divides it: 1m to 30m from ``1m``,
1h to 1M from ``1h``. (A third level would cost every price write more than it saves.) An hour's record lacks
the open minute (the newest, still receiving prices, so that a price writes one record), which readers of
hours fold in.

A record is ``open,high,low,close,volume,quoteVolume,openAt,closeAt[,span]``: prices as plain decimal text,
the volumes as integers of 1e-8 and 1e-16 (``VOLUME_DECIMALS``, ``QUOTE_DECIMALS``: the scripts add them as
integers, exactly), or, marked by a leading ``=``, as plain decimal text when a volume is finer than those units
(added exactly as text); ``openAt``/``closeAt`` the milliseconds from the period's start of the prices that set
the open and the close (so a late price lands in the right place); ``span`` the candle's length in minutes when
it is not the level's own: an imported coarser candle (a 5m file is kept as 5m candles at the ``1m`` level). A
record is used for a timeframe only when it lies wholly inside one of its candles: 5m candles serve 5m, 15m and
1h, never 1m.
"""

from __future__ import annotations

import calendar
import time
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Context, Decimal

from ..errors import BadRequest
from .money import fmt

MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS
WEEK_MS = 7 * DAY_MS
#: 1970-01-05, the first Monday: weeks open on Monday 00:00 UTC, as Binance aligns them.
FIRST_MONDAY_MS = 4 * DAY_MS

#: Stored levels: name -> period length (ms). Their order is the order of the keys the scripts receive.
LEVELS: dict[str, int] = {"1m": MINUTE_MS, "1h": HOUR_MS}
PERIODS_PER_DAY = {name: DAY_MS // ms for name, ms in LEVELS.items()}

#: ``fetch_ohlcv``: default ``limit``, and the most candles one call returns (a larger limit is served as this).
DEFAULT_LIMIT, MAX_LIMIT = 500, 1000

#: Decimals of the units of the volumes in a record (``lua/candle_lib.lua`` says the same): base volume in 1e-8
#: (the engine's own unit), quote volume in 1e-16 (a price and a volume of 8 decimals multiply into whole units).
VOLUME_DECIMALS, QUOTE_DECIMALS = 8, 16
#: Exact arithmetic on volumes (each at most 80 digits, see ``money.in_exponent_range``).
EXACT = Context(prec=200)
_VOLUME_ONE, _QUOTE_ONE = Decimal(10**VOLUME_DECIMALS), Decimal(10**QUOTE_DECIMALS)


@dataclass(frozen=True)
class Timeframe:
    """One timeframe served by ``fetch_ohlcv``, aligned in UTC: fixed lengths to multiples of their length since
    1970-01-01, ``1w`` to Monday 00:00, ``1M`` to the first of the month."""

    name: str
    ms: int  # the length; for 1M the longest month, as a bound when reading
    level: str

    def start(self, ts: int) -> int:
        """Open time of the candle that contains ``ts``."""
        if self.name == "1M":
            year, month = time.gmtime(ts // 1000)[:2]
            return calendar.timegm((year, month, 1, 0, 0, 0)) * 1000
        if self.name == "1w":
            return (ts - FIRST_MONDAY_MS) // WEEK_MS * WEEK_MS + FIRST_MONDAY_MS
        return ts // self.ms * self.ms

    def following(self, start: int) -> int:
        """Open time of the candle after the one opening at ``start``."""
        if self.name == "1M":
            year, month = time.gmtime(start // 1000)[:2]
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
            return calendar.timegm((year, month, 1, 0, 0, 0)) * 1000
        return start + self.ms

    def first_at_or_after(self, ts: int) -> int:
        start = self.start(ts)
        return start if start == ts else self.following(start)

    def shifted(self, start: int, count: int) -> int:
        """Open time of the candle ``count`` candles after (before, when negative) the one opening at ``start``."""
        if self.name != "1M":
            return start + count * self.ms
        year, month = time.gmtime(start // 1000)[:2]
        year, month = divmod(year * 12 + month - 1 + count, 12)
        return calendar.timegm((year, month + 1, 1, 0, 0, 0)) * 1000


def _timeframes() -> dict[str, Timeframe]:
    minutes = {"1m": 1, "3m": 3, "5m": 5, "15m": 15, "30m": 30, "1h": 60, "2h": 120, "4h": 240, "6h": 360}
    minutes.update({"8h": 480, "12h": 720, "1d": 1440, "3d": 4320, "1w": 10080, "1M": 44640})
    found = {}
    for name, length in minutes.items():
        level = "1h" if length % 60 == 0 else "1m"
        found[name] = Timeframe(name, length * MINUTE_MS, level)
    return found


#: Every timeframe served, 1m to 1M (the ccxt class's ``timeframes`` lists exactly these).
TIMEFRAMES = _timeframes()


def timeframe(name: object) -> Timeframe:
    if not isinstance(name, str) or name not in TIMEFRAMES:
        raise BadRequest(f"timeframe must be one of {', '.join(TIMEFRAMES)}, got {str(name)[:20]!r}")
    return TIMEFRAMES[name]


@dataclass
class Candle:
    """One record, read back: its period's start (ms), exact prices and volumes, and where open/close were set."""

    start: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    quote_volume: Decimal
    open_at: int  # ms from ``start``
    close_at: int
    span_ms: int

    @classmethod
    def parse(cls, start: int, text: str, own_span_ms: int = MINUTE_MS) -> Candle | None:
        """The record of the period opening at ``start`` of a level whose periods last ``own_span_ms``."""
        exact = text.startswith("=")
        parts = (text[1:] if exact else text).split(",")
        if len(parts) not in (8, 9):
            return None
        o, h, lo, c = map(Decimal, parts[:4])
        volume, quote = volumes(parts[4], parts[5], exact)
        span = int(parts[8]) * MINUTE_MS if len(parts) == 9 else own_span_ms
        return cls(start, o, h, lo, c, volume, quote, int(parts[6]), int(parts[7]), span)

    def record(self, own_span_ms: int = MINUTE_MS) -> str:
        """The record the scripts store for this candle at a level whose periods last ``own_span_ms``."""
        o, h, lo, c = map(fmt, (self.open, self.high, self.low, self.close))
        units = volume_units(self.volume, self.quote_volume)
        v, q = units if units is not None else (fmt(self.volume), fmt(self.quote_volume))
        span = "" if self.span_ms == own_span_ms else f",{self.span_ms // MINUTE_MS}"
        return f"{'' if units else '='}{o},{h},{lo},{c},{v},{q},{self.open_at},{self.close_at}{span}"

    def row(self) -> list[int | Decimal]:
        """The ccxt OHLCV row: ``[timestamp, open, high, low, close, volume]``."""
        return [self.start, self.open, self.high, self.low, self.close, self.volume]


def volume_units(volume: Decimal, quote: Decimal) -> tuple[str, str] | None:
    """The volumes as integers of their units (``VOLUME_DECIMALS``, ``QUOTE_DECIMALS``); None when either is
    finer."""
    v, q = EXACT.scaleb(volume, VOLUME_DECIMALS), EXACT.scaleb(quote, QUOTE_DECIMALS)
    if v != v.to_integral_value() or q != q.to_integral_value():
        return None
    return str(int(v)), str(int(q))


def tick_volumes(price: Decimal, volume: Decimal | None) -> tuple[str, str]:
    """What a script folds in for one price: the base volume traded at it and the quote volume (their exact
    product), as integers of their units, or as plain decimals after ``=`` when finer; ``""`` for none."""
    if volume is None:
        return "", ""
    return tick_volume_texts(fmt(price), fmt(volume))


def tick_volume_texts(price: str, volume: str) -> tuple[str, str]:
    """``tick_volumes`` of a price and a volume written by ``fmt`` (set_price has both texts already): the
    units come from the digits (a plain decimal with at most 8 decimals is a whole number of 1e-8), four times
    faster than scaling Decimals, on the path of every recorded price."""
    v_whole, _, v_part = volume.partition(".")
    p_whole, _, p_part = price.partition(".")
    if len(v_part) <= VOLUME_DECIMALS and len(p_part) <= VOLUME_DECIMALS:
        units = int(v_whole + v_part.ljust(VOLUME_DECIMALS, "0"))
        return str(units), str(units * int(p_whole + p_part.ljust(VOLUME_DECIMALS, "0")))  # units of 1e-16
    return f"={volume}", f"={fmt(EXACT.multiply(Decimal(price), Decimal(volume)))}"


def volumes(volume: str, quote: str, exact: bool) -> tuple[Decimal, Decimal]:
    """A record's volumes: plain decimals when ``exact``, else integers of units."""
    if exact:
        return Decimal(volume), Decimal(quote)
    return EXACT.divide(Decimal(volume), _VOLUME_ONE), EXACT.divide(Decimal(quote), _QUOTE_ONE)


def fold(candles: Iterable[Candle], start: int) -> Candle | None:
    """One candle opening at ``start`` from records in time order: the first open, the last close, the extremes
    and the sums (what the scripts do when they fold a price into a record)."""
    folded: Candle | None = None
    for candle in candles:
        if folded is None:
            folded = Candle(
                start,
                candle.open,
                candle.high,
                candle.low,
                candle.close,
                candle.volume,
                candle.quote_volume,
                candle.start - start + candle.open_at,
                0,
                0,
            )
        else:
            folded.high = max(folded.high, candle.high)
            folded.low = min(folded.low, candle.low)
            folded.volume += candle.volume
            folded.quote_volume += candle.quote_volume
        folded.close = candle.close
        folded.close_at = candle.start - start + candle.close_at
    return folded


def aggregate(records: Iterable[Candle], frame: Timeframe) -> list[Candle]:
    """Candles of ``frame`` from level records in time order; records that do not lie inside one candle of the
    frame (an imported 1h candle asked for as 15m) are left out, as are empty candles (gaps)."""
    result: list[Candle] = []
    group: list[Candle] = []
    window = following = None
    for record in records:
        if window is None or following is None or record.start >= following:
            if group and window is not None:
                result.append(_folded(group, window))
            window = frame.start(record.start)
            following = frame.following(window)
            group = []
        if record.start + record.span_ms <= following:
            group.append(record)
    if group and window is not None:
        result.append(_folded(group, window))
    return result


def _folded(group: list[Candle], start: int) -> Candle:
    folded = fold(group, start)
    assert folded is not None
    return folded


def check_since(since: object) -> int | None:
    """``since`` (ms, inclusive): None, or an integer from 0 (1970) to 2^63 - 1. One later than now is valid and
    finds nothing yet, as on an exchange: a loop that pages forward (``since`` = the last open + a period) ends on
    an empty page instead of an error."""
    if since is None:
        return None
    if isinstance(since, bool) or not isinstance(since, int):
        raise BadRequest(f"since must be an integer timestamp in ms, got {str(since)[:40]!r}")
    if since < 0:
        raise BadRequest(f"since {since} is before 1970")
    if since >= 2**63:
        raise BadRequest("since is out of range")
    return since


def check_limit(limit: object) -> int:
    """``limit``: None for the default 500; a positive integer, above 1000 served as 1000."""
    if limit is None:
        return DEFAULT_LIMIT
    if isinstance(limit, bool) or not isinstance(limit, int):
        raise BadRequest(f"limit must be a positive integer, got {str(limit)[:40]!r}")
    if limit <= 0:
        raise BadRequest(f"limit must be a positive integer, got {limit}")
    if limit > 2**63:
        raise BadRequest("limit is out of range")
    return min(limit, MAX_LIMIT)
