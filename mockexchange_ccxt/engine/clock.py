"""Time in milliseconds: the wall clock for live use, a replay clock that prices drive for back-tests."""

from __future__ import annotations

import threading
import time
from decimal import Decimal
from typing import Protocol

from ..memo import Memo


class Clock(Protocol):
    def now_ms(self) -> int: ...


class WallClock:
    """The system clock."""

    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000


class ReplayClock:
    """A data-driven clock for back-tests: it stands at the newest price timestamp the engine was given.

    ``Engine.set_price(symbol, price, timestamp)`` moves it forward, so orders placed between ticks carry the
    time of the replayed data, not of the machine running the replay.
    """

    def __init__(self, start_ms: int | None = None) -> None:
        """Until ``start_ms`` or a first price timestamp sets it, the clock reads the wall clock."""
        self._now = start_ms
        self._lock = threading.Lock()

    def now_ms(self) -> int:
        return WallClock().now_ms() if self._now is None else self._now

    def advance_to(self, timestamp_ms: int) -> None:
        with self._lock:
            if self._now is None or timestamp_ms > self._now:
                self._now = timestamp_ms


def iso8601(timestamp_ms: int | None) -> str | None:
    """ccxt's datetime format: ``2024-01-02T03:04:05.678Z``. Every order answer formats a few timestamps, most
    in the same second as the one before: the text of a second is formatted once and kept; and an answer often
    formats the very same timestamp twice (an order's and its trade's): the last text is kept too."""
    global _last
    if timestamp_ms is None:
        return None
    last = _last
    if last[0] is timestamp_ms:
        return last[1]
    seconds, millis = divmod(timestamp_ms, 1000)
    text = _SECONDS.get(seconds)
    if text is None:
        text = _SECONDS.keep(seconds, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)))
    text = f"{text}.{millis:03d}Z"
    _last = (timestamp_ms, text)
    return text


_SECONDS: Memo[int, str] = Memo(4096)
#: The last timestamp formatted (the same object: then its text is the same) and its text.
_last: tuple[object, str] = (None, "")


#: The last millisecond before 10^14 (in year 5138). Later timestamps are garbage, not prices: and Lua's cjson
#: would write integers from 10^14 up in exponent form into order records.
MAX_TIMESTAMP_MS = 99_999_999_999_999


def timestamp_to_ms(value: Decimal | int) -> int:
    """Feed timestamps may be seconds or milliseconds: below 10^11 they are seconds (10^11 s is year 5138)."""
    return int(value * 1000) if value < 100_000_000_000 else int(value)
