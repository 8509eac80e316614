"""``mockexchange feed``: mirror a real exchange's public market data through ccxt, written through the engine.

Every ``interval`` seconds, for each symbol: the source's last two 1m candles replace the mock's (so history is
the exchange's own, volumes included), then its ticker (last, bid, ask, its time) and, with ``depth`` N, the
top N levels of its book are published with one ``set_price``, which records and settles. ``backfill`` first
imports that much 1m history. Any ccxt exchange id works, with no API keys (public endpoints only). The
source's errors (network, rate limits, maintenance) are logged and retried with a growing pause; the mirror
runs until stopped.

Prices are written with at most 8 decimals, the mock's unit: the last price and candle opens and closes
rounded half-even, bids and lows down, asks and highs up (so a book never crosses by rounding).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal
from functools import partial
from typing import Any

from ..engine.money import UNIT, fmt
from ..routes import Call

log = logging.getLogger("mockexchange_ccxt.feed")

Perform = Callable[[Call], Any]

#: Candles per import call (a request body stays well under the server's size limit).
IMPORT_BATCH = 500
#: The longest pause between retries after the source failed.
MAX_BACKOFF_SEC = 60.0


def exact(value: Any, rounding: str = ROUND_HALF_EVEN) -> str | None:
    """A ccxt float as decimal text with at most 8 decimals; None for a missing or non-positive value."""
    if value is None:
        return None
    number = Decimal(repr(value) if isinstance(value, float) else str(value)).quantize(UNIT, rounding=rounding)
    return fmt(number) if number > 0 else None


def candle_row(row: Sequence[Any]) -> list[Any] | None:
    """A ccxt OHLCV row as the import route takes it (None when a price is missing)."""
    prices = [exact(row[1]), exact(row[2], ROUND_CEILING), exact(row[3], ROUND_FLOOR), exact(row[4])]
    if any(price is None for price in prices):
        return None
    volume = row[5] if row[5] is not None else 0
    return [int(row[0]), *prices, repr(volume) if isinstance(volume, float) else str(volume)]


def book_side(levels: Sequence[Sequence[Any]], rounding: str, depth: int) -> list[list[str]]:
    """The top ``depth`` levels as [price, amount] text; levels that round to one price are merged."""
    side: list[list[str]] = []
    for level in levels:
        price, amount = exact(level[0], rounding), level[1]
        if price is None or amount is None or amount <= 0:
            continue
        amount_text = repr(amount) if isinstance(amount, float) else str(amount)
        if side and side[-1][0] == price:
            side[-1][1] = fmt(Decimal(side[-1][1]) + Decimal(amount_text))
        elif len(side) < depth:
            side.append([price, amount_text])
    return side


class Mirror:
    """Copies ``symbols`` of a ccxt exchange ``source`` into the mock through ``perform``."""

    def __init__(
        self,
        source: Any,
        perform: Perform,
        symbols: Sequence[str],
        interval: float = 2.0,
        depth: int = 0,
        candles: bool = True,
    ) -> None:
        self.source = source
        self.perform = perform
        self.symbols = list(symbols)
        self.interval = interval
        self.depth = depth
        self.candles = candles and bool(source.has.get("fetchOHLCV"))
        self.steps = 0
        self.errors = 0

    def backfill(self, span_ms: int, progress: Callable[[int, int], object] | None = None) -> int:
        """Import the last ``span_ms`` of 1m candles of every symbol; returns the candles imported."""
        now = int(self.source.milliseconds())
        start = now - span_ms
        imported = 0
        for index, symbol in enumerate(self.symbols):
            since = start
            while since < now:
                page: list[list[Any]] = self._retrying(partial(self.source.fetch_ohlcv, symbol, "1m", since, 1000))
                rows = [row for row in page if row[0] >= since]
                if not rows:
                    break
                imported += self._import(symbol, rows)
                since = int(rows[-1][0]) + 60_000
                if progress is not None:
                    progress(index * span_ms + min(since - start, span_ms), len(self.symbols) * span_ms)
        return imported

    def _import(self, symbol: str, rows: Sequence[Sequence[Any]]) -> int:
        converted = [row for row in (candle_row(raw) for raw in rows) if row is not None]
        stored = 0
        for first in range(0, len(converted), IMPORT_BATCH):
            batch = converted[first : first + IMPORT_BATCH]
            answer = self.perform(Call("import_ohlcv", body={"symbol": symbol, "timeframe": "1m", "candles": batch}))
            stored += int(answer["stored"])
        return stored

    def step(self) -> int:
        """One round over the symbols; returns how many were published. Raises what the source raised."""
        tickers = self._tickers()
        published = 0
        for symbol in self.symbols:
            ticker = tickers.get(symbol) or {}
            last = exact(ticker.get("last") or ticker.get("close"))
            if last is None:
                log.warning("%s: the source gave no last price; skipped this round", symbol)
                continue
            if self.candles:
                self._import(symbol, self.source.fetch_ohlcv(symbol, "1m", None, 2))
            body: dict[str, Any] = {
                "symbol": symbol,
                "price": last,
                "timestamp": int(ticker.get("timestamp") or self.source.milliseconds()),
                "bid": exact(ticker.get("bid"), ROUND_FLOOR),
                "ask": exact(ticker.get("ask"), ROUND_CEILING),
            }
            if body["bid"] is not None and body["ask"] is not None and Decimal(body["bid"]) > Decimal(body["ask"]):
                body["bid"] = body["ask"] = None  # a crossed quote from the source is no quote
            if self.depth:
                book = self.source.fetch_order_book(symbol, self.depth)
                body["bids"] = book_side(book["bids"], ROUND_FLOOR, self.depth)
                body["asks"] = book_side(book["asks"], ROUND_CEILING, self.depth)
            self.perform(Call("set_price", body={k: v for k, v in body.items() if v is not None}))
            published += 1
        self.steps += 1
        return published

    def check_symbols(self) -> list[str]:
        """The symbols the source does not list (its markets are loaded, retrying while it is unreachable)."""
        markets = self._retrying(self.source.load_markets)
        return [symbol for symbol in self.symbols if symbol not in markets]

    def _tickers(self) -> dict[str, Any]:
        if self.source.has.get("fetchTickers"):
            return dict(self.source.fetch_tickers(self.symbols))
        return {symbol: self.source.fetch_ticker(symbol) for symbol in self.symbols}

    def run(self, stop: threading.Event | None = None, max_steps: int | None = None) -> None:
        """Step every ``interval`` seconds until ``stop`` is set (or ``max_steps`` steps were made)."""
        stop = stop or threading.Event()
        while not stop.is_set() and (max_steps is None or self.steps < max_steps):
            started = time.monotonic()
            if self._retrying(self.step, stop) is None:
                return
            stop.wait(max(0.0, self.interval - (time.monotonic() - started)))

    def _retrying(self, action: Callable[[], Any], stop: threading.Event | None = None) -> Any:
        """``action()``, retried after errors with pauses of 1, 2, 4, ... up to 60 s; None once ``stop`` is set."""
        pause = 1.0
        while True:
            try:
                return action()
            except Exception as exc:  # the source's errors (any ccxt error) and the mock's (a server restart)
                self.errors += 1
                log.warning("feed: %s: %s; retrying in %.0f s", type(exc).__name__, str(exc)[:200], pause)
                if stop is not None and stop.wait(pause):
                    return None
                if stop is None:
                    time.sleep(pause)
                pause = min(pause * 2, MAX_BACKOFF_SEC)
