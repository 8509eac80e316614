"""The CLI's long-running commands: ``feed``, ``import-ohlcv`` and ``replay``.

Each talks to the exchange through ``perform(call)`` (the CLI's transport: straight to Valkey, or ``--url`` over
HTTP), so they work the same on both. Long jobs draw a progress bar on a terminal.
"""

from __future__ import annotations

import argparse
import json
import re
import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..engine.bars import drive, parse_rows, replay_ticks
from ..engine.candles import MAX_LIMIT, TIMEFRAMES, Candle
from ..engine.money import fmt
from ..errors import MockExchangeError
from ..routes import Call
from .files import CandleFileError, read_candles
from .mirror import IMPORT_BATCH, Mirror
from .progress import Progress

COMMANDS = ("feed", "import-ohlcv", "replay")
Perform = Callable[[Call], Any]
_DURATION = re.compile(r"(\d+)([mhdw])")
_UNIT_MS = {"m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}


class FeedError(MockExchangeError):
    """A usage problem of these commands, or a file that is not candles (the CLI prints it and exits 2)."""

    http_status = 400

    def __init__(self, message: str, code: str = "USAGE") -> None:
        super().__init__(message)
        self.code = code


def add_price_arguments(price: argparse.ArgumentParser) -> None:
    """``mockexchange price SYMBOL [PRICE]``'s options: what ``set_price`` takes beside the price."""
    price.add_argument("price", nargs="?", metavar="PRICE")
    price.add_argument("--timestamp", type=int, metavar="MS", help="the price's time in ms (default now)")
    price.add_argument("--bid", help="best bid (default: the price)")
    price.add_argument("--ask", help="best ask (default: the price)")
    price.add_argument("--volume", help="base amount traded since the previous price (recorded in the candles)")


def price_call(args: argparse.Namespace) -> Call:
    """``mockexchange price``: the ticker, or a price write with its options."""
    given = {
        name: value for name in ("timestamp", "bid", "ask", "volume") if (value := getattr(args, name)) is not None
    }
    if args.price is None:
        if given:
            raise FeedError("--timestamp, --bid, --ask and --volume need a PRICE")
        return Call("ticker", path={"symbol": args.symbol})
    return Call("set_price", body={"symbol": args.symbol, "price": args.price, **given})


def ran(args: argparse.Namespace, transport: Any) -> bool:
    """Run ``args`` if it is one of ``COMMANDS`` over the CLI's ``transport`` (printing what it says, closing the
    transport); False for any other command."""
    if args.command not in COMMANDS:
        return False
    try:
        print(run(args, lambda call: transport.perform(call)[0]))
    finally:
        transport.close()
    return True


def add_parsers(command: Callable[[str, str], argparse.ArgumentParser]) -> None:
    feed = command("feed", "mirror a real exchange's public prices, depth and candles (ccxt, no API keys)")
    feed.add_argument("--exchange", required=True, help="ccxt exchange id, e.g. binance")
    feed.add_argument("--symbols", required=True, help="comma-separated, e.g. BTC/USDT,ETH/USDT")
    feed.add_argument("--interval", type=float, default=2.0, metavar="S", help="seconds between rounds (2)")
    feed.add_argument("--depth", type=int, default=0, metavar="N", help="mirror N book levels a side (0: none)")
    feed.add_argument("--backfill", metavar="SPAN", help="first import this much 1m history, e.g. 90m, 12h, 1d, 1w")
    feed.add_argument("--exchange-config", metavar="JSON", help="ccxt config of the source, e.g. '{\"timeout\": 5000}'")
    feed.add_argument("--rounds", type=int, metavar="N", help="stop after N rounds (default: run until stopped)")
    feed.add_argument(
        "--markets-file",
        metavar="FILE",
        help="first write the source's rules of these symbols (tick, step, limits, fees) to FILE, for MARKETS_FILE",
    )

    imports = command("import-ohlcv", "import a candle file into history (CSV, freqtrade .json or .feather)")
    imports.add_argument("file", metavar="FILE")
    imports.add_argument("--symbol", required=True)
    imports.add_argument("--timeframe", required=True, choices=list(TIMEFRAMES), metavar="TF")

    replay = command("replay", "drive prices from candles: a file, or the recorded history of --symbol")
    replay.add_argument("file", nargs="?", metavar="FILE")
    replay.add_argument("--symbol", required=True, help="the symbol whose price the candles drive")
    replay.add_argument("--since", metavar="T", help="with no FILE: replay history from T (ISO date or ms)")
    replay.add_argument("--timeframe", default="1m", choices=list(TIMEFRAMES), metavar="TF", help="of FILE (1m)")
    replay.add_argument("--speed", type=float, default=0.0, metavar="N", help="N times the data's pace (0: fastest)")
    replay.add_argument("--from-now", action="store_true", help="move the data so its first bar opens now")


def run(args: argparse.Namespace, perform: Perform) -> str:
    """Run one of ``COMMANDS``; returns the line to print."""
    if args.command == "import-ohlcv":
        return import_file(args.file, args.symbol, args.timeframe, perform)
    if args.command == "replay":
        return replay(args, perform)
    return feed(args, perform)


def import_file(path: str, symbol: str, timeframe: str, perform: Perform) -> str:
    """Every row is checked before the first is sent, so a bad line imports nothing of the file."""
    bars = _bars(path, timeframe)
    progress = Progress(f"importing {symbol}")
    stored = 0
    try:
        for first in range(0, len(bars), IMPORT_BATCH):
            rows = [_row(bar) for bar in bars[first : first + IMPORT_BATCH]]
            body = {"symbol": symbol, "timeframe": timeframe, "candles": rows}
            stored += int(perform(Call("import_ohlcv", body=body))["stored"])
            progress(min(first + IMPORT_BATCH, len(bars)), len(bars))
    finally:
        progress.close()
    kept = "" if stored == len(bars) else f" ({len(bars) - stored} older than the history kept)"
    return f"imported {stored} {timeframe} candles of {symbol} from {path}{kept}"


def _bars(path: str, timeframe: str) -> list[Candle]:
    try:
        return read_candles(path).bars(timeframe)
    except CandleFileError as exc:
        raise FeedError(str(exc), "BAD_FILE") from None


def _row(bar: Candle) -> list[Any]:
    return [bar.start, *(fmt(value) for value in (bar.open, bar.high, bar.low, bar.close, bar.volume))]


def replay(args: argparse.Namespace, perform: Perform) -> str:
    if args.speed < 0 or args.speed != args.speed or args.speed == float("inf"):
        raise FeedError("--speed must be a finite number >= 0")
    if args.file is not None:
        bars = _bars(args.file, args.timeframe)
        from_now = args.from_now
    else:
        if args.since is None:
            raise FeedError("replay needs a FILE, or --since to replay the recorded history of --symbol")
        bars = parse_rows(_history(perform, args.symbol, parse_time(args.since)), "1m")
        from_now = True  # its own history is older than its price: it is replayed as new prices from now on
    if not bars:
        return f"nothing to replay for {args.symbol}"
    shift = 0
    if from_now:
        now = int(perform(Call("time"))["serverTime"])
        shift = now // 60_000 * 60_000 - bars[0].start
    ticks = replay_ticks(bars, shift)

    def write(tick: tuple[int, Any, Any]) -> int:
        body = {"symbol": args.symbol, "price": fmt(tick[1]), "timestamp": tick[0]}
        if tick[2] is not None:
            body["volume"] = fmt(tick[2])
        return int(perform(Call("set_price", body=body))["filled"])

    def write_many(part: Sequence[tuple[int, Any, Any]]) -> int:  # at speed 0: many ticks per request
        rows = [[stamp, fmt(price), *([] if volume is None else [fmt(volume)])] for stamp, price, volume in part]
        return int(perform(Call("set_prices", body={"symbol": args.symbol, "ticks": rows}))["filled"])

    progress = Progress(f"replaying {args.symbol}")
    try:
        filled = drive(ticks, write, args.speed, progress, write_many)
    finally:
        progress.close()
    return f"replayed {len(bars)} bars ({len(ticks)} prices) of {args.symbol}: {filled} order(s) filled"


def _history(perform: Perform, symbol: str, since: int) -> list[list[Any]]:
    rows: list[list[Any]] = []
    while True:
        page = perform(Call("ohlcv", path={"symbol": symbol}, query={"since": since, "limit": MAX_LIMIT}))
        rows += page
        if len(page) < MAX_LIMIT:
            return rows
        since = int(page[-1][0]) + 1


def parse_time(text: str) -> int:
    """Milliseconds, or an ISO date/time (UTC unless it says otherwise)."""
    if text.strip().isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise FeedError(f"{text!r} is neither milliseconds nor an ISO date") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp() * 1000)


def parse_span(text: str) -> int:
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        raise FeedError(f"--backfill takes a span like 90m, 12h, 1d or 1w, got {text!r}")
    return int(match.group(1)) * _UNIT_MS[match.group(2)]


def write_rules(source: Any, symbols: list[str], path: str) -> None:
    """The source's market rules of ``symbols``, as a markets file (``engine/rules.py``) the server can load."""
    from ccxt.base.decimal_to_precision import DECIMAL_PLACES

    from ..engine.rules import rules_of_markets

    rules = rules_of_markets({s: source.markets[s] for s in symbols}, source.precisionMode == DECIMAL_PLACES)
    try:
        Path(path).write_text(json.dumps(rules, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise FeedError(f"cannot write the markets file {path}: {exc}") from None
    print(f"wrote the market rules of {', '.join(symbols)} to {path} (load them with MARKETS_FILE)", flush=True)


def feed(args: argparse.Namespace, perform: Perform) -> str:
    import ccxt

    from .. import register

    register()  # so that --exchange mockexchange mirrors another mock
    symbols = [symbol.strip() for symbol in args.symbols.split(",") if symbol.strip()]
    if args.interval <= 0 or args.depth < 0:
        raise FeedError("--interval must be positive and --depth at least 0")
    try:
        config = json.loads(args.exchange_config) if args.exchange_config else {}
    except ValueError as exc:
        raise FeedError(f"--exchange-config is not JSON: {exc}") from None
    if args.exchange not in ccxt.exchanges:
        raise FeedError(f"ccxt has no exchange {args.exchange!r}")
    source = getattr(ccxt, args.exchange)({"enableRateLimit": True, **config})
    mirror = Mirror(source, perform, symbols, args.interval, args.depth)
    unknown = mirror.check_symbols()
    if unknown:
        raise FeedError(f"{args.exchange} does not list {', '.join(unknown)}")
    if args.markets_file:
        write_rules(source, symbols, args.markets_file)
    if args.backfill:
        progress = Progress(f"backfilling {len(symbols)} symbol(s)")
        try:
            mirror.backfill(parse_span(args.backfill), progress)
        finally:
            progress.close()
    stop = threading.Event()
    print(f"mirroring {', '.join(symbols)} from {args.exchange} every {args.interval:g} s (Ctrl-C stops)", flush=True)
    try:
        mirror.run(stop, args.rounds)
    except KeyboardInterrupt:
        stop.set()
    return f"stopped after {mirror.steps} round(s), {mirror.errors} source error(s)"
