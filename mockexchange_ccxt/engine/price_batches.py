"""Batched prices: many ticks of one symbol in one round trip, with the same outcome as one ``set_price`` each.

A back-test feeds many prices between two of its own decisions. Tick by tick each costs a round trip, though
most settle nothing: they write the feed hash, fold into the candles, and meet no order. ``lua/price_ticks.lua``
applies such ticks in one script call, exactly as ``set_price`` writes and records them, and stops before the
first tick that needs more: one that a resting order or a trigger of any account would meet (its fills are
planned in Python), or that is older than the feed's price (late data). That tick goes through ``set_price``
itself, and the rest of the batch follows in the next call. Every stored byte is the one a tick-by-tick replay
leaves (``tests/engine/test_price_batches.py`` compares both).

Which orders a tick meets is decided as ``settle.lua`` decides it, from the touch: buys at or above the ask,
sells at or below the bid, triggers the last price reached. Under ``FILL_MODEL=book`` the synthetic book of a
bare price opens at or beyond its bid and ask, so the same test stops at every tick the book model could fill
at, and at a few more (those take ``set_price``'s path: the outcome is the same, only slower).

On Valkey Cluster the feed's keys and an account's keys live in different slots, and no script may touch both:
there the accounts' bounds are read first (one pipeline over the nodes) and handed to the script, which then
touches the feed's slot only: two round trips a batch instead of one. (An order placed by someone else between
the two is met by the next price, as between the two steps of ``set_price`` there.)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import TYPE_CHECKING, Any, NamedTuple

from ..errors import BadRequest
from ..memo import Memo
from .candles import tick_volumes
from .clock import ReplayClock
from .every_account import settle_accounts
from .history import parse_volume, written_fields
from .markets import split_symbol
from .money import UNITS_PER_ONE, fmt
from .prices import Quote

if TYPE_CHECKING:
    from .core import Engine

#: At most this many ticks per script call, so that no call blocks Valkey for long (a tick is a few microseconds).
BATCH_TICKS = 500

#: A tick as ``set_prices`` takes it: (timestamp ms, price) or (timestamp ms, price, base volume or None).
PriceTick = Sequence[Any]


def set_prices(engine: Engine, symbol: str, ticks: Iterable[PriceTick]) -> int:
    """Write ``ticks`` of ``symbol`` in order, each as ``engine.set_price(symbol, price, timestamp, volume=...)``
    would, in as few round trips as the settlement allows; returns the orders filled. Every tick is checked
    before any is written (BadRequest names the first bad one, and nothing changes)."""
    split_symbol(symbol)
    checked = [_tick(engine, index, tick) for index, tick in enumerate(ticks)]
    filled, done = 0, 0
    while done < len(checked):
        part = checked[done : done + BATCH_TICKS]
        applied = _apply(engine, symbol, part)
        if applied:
            last = part[applied - 1]  # what the feed now holds: the next order needs no read first
            engine.quote_memory.written(symbol, written_fields(last.price, last.timestamp, None, None))
            if isinstance(engine.clock, ReplayClock):
                engine.clock.advance_to(last.timestamp)
        done += applied
        if applied < len(part):  # this tick needs settling (or is late): set_price's own path
            tick = part[applied]
            filled += engine.set_price(symbol, tick.price, tick.timestamp, volume=tick.volume)
            done += 1
    return filled


class _Tick(NamedTuple):
    """A checked tick, and the script's arguments for it."""

    timestamp: int
    price: Decimal
    volume: Decimal | None
    arguments: tuple[str | int, ...]


def _tick(engine: Engine, index: int, tick: PriceTick) -> _Tick:
    """A tick checked as ``set_price`` checks its arguments."""
    row = type(tick) in (tuple, list) or (isinstance(tick, Sequence) and not isinstance(tick, str))
    if not row or len(tick) not in (2, 3):
        raise BadRequest(f"tick {index + 1}: expected (timestamp, price) or (timestamp, price, volume)")
    timestamp, value = tick[0], tick[1]
    volume = tick[2] if len(tick) == 3 else None
    try:
        engine.check_timestamp(timestamp)
        price, text, ask, bid = _price(engine, value)
        if volume is None:
            return _Tick(timestamp, price, None, (text, timestamp, ask, bid, "", "", ""))
        traded = parse_volume(volume)
        base, quote = tick_volumes(price, traded)
        return _Tick(timestamp, price, traded, (text, timestamp, ask, bid, base, quote, fmt(traded)))
    except BadRequest as exc:
        raise BadRequest(f"tick {index + 1}: {exc.message}") from None


#: Checked prices by (type, value) of the argument: a series revisits the same prices again and again.
_PRICES: Memo[tuple[type, Any], tuple[Decimal, str, str, str]] = Memo(65536)


def _price(engine: Engine, value: Any) -> tuple[Decimal, str, str, str]:
    """A price argument checked as ``set_price`` checks it, the text the feed holds, and its units rounded up and
    down (the ask and bid ``settle_command`` sends for a quote whose bid and ask are its price)."""
    try:
        key = (type(value), value)
        found = _PRICES.get(key)
    except TypeError:  # unhashable: not a price, as the check says
        key, found = None, None
    if found is None:
        price = engine.check_price(value, "price")
        units = price * UNITS_PER_ONE
        ask, bid = (units.to_integral_value(rounding=rounding) for rounding in (ROUND_CEILING, ROUND_FLOOR))
        found = (price, fmt(price), str(int(ask)), str(int(bid)))
        if key is not None:
            _PRICES.keep(key, found)
    return found


def _apply(engine: Engine, symbol: str, part: Sequence[_Tick]) -> int:
    """One script call for the front of ``part``; returns how many ticks it applied (the next one, if any, needs
    ``set_price``). The holders the call names are those the engine last saw, sent with a read of the set: when
    an account joined meanwhile the script writes nothing, and the call is made again with the set just read."""
    keys, cluster = engine.keys, engine.store.cluster
    args: list[Any] = [symbol, engine.history.days, 0, "" if engine.settings.book_fills else "1", "", "", "", ""]
    for tick in part:
        args += tick.arguments
    known: dict[str, set[str]] = engine._root.__dict__.setdefault("_holders", {})
    while True:
        holders = known.get(symbol, set())
        accounts = sorted({engine.settings.account, *holders})
        args[2] = len(holders)
        if cluster:  # the accounts' sets live in other slots: their bounds are read first, and sent
            account_keys, (args[4:8], forget) = [], _bounds(engine, accounts, symbol)
        else:
            account_keys = [key for name in accounts for key in _account_keys(engine, name, symbol)]
        command = engine.store.eval_command(
            "price_ticks", [*engine.history.keys_of(symbol), keys.symbol_accounts(symbol), *account_keys], args
        )
        reply, members = engine.store.run_pipelined([command, ("SMEMBERS", keys.symbol_accounts(symbol))])
        applied = int(reply)
        if applied >= 0:
            if cluster and applied and forget and not engine.settings.book_fills:
                last = part[applied - 1]  # what set_price's settlement does for an account with nothing to settle
                settle_accounts(engine, Quote.published(symbol, last.price, None, None, last.timestamp), forget)
            return applied
        known[symbol] = set(members)


def _account_keys(engine: Engine, name: str, symbol: str) -> list[str]:
    """An account's keys the script reads: its active symbols, then the four sets an order of ``symbol`` rests in."""
    keys = engine.keys.of_account(name)
    return [keys.active_symbols, *keys.symbol_sets(symbol)]


def _bounds(engine: Engine, accounts: list[str], symbol: str) -> tuple[list[str], list[str]]:
    """On a cluster, read what ``price_ticks.lua`` reads itself on a single node: over the accounts, the highest
    buy limit, the lowest sell limit, the lowest up trigger, the highest down trigger ('' for none), in one
    pipeline; and the accounts that have no order on ``symbol`` but still list it as active (settle.lua forgets
    it there on every price)."""
    reads: list[tuple[Any, ...]] = []
    for name in accounts:
        keys = engine.keys.of_account(name)
        buy, sell, up, down = keys.symbol_sets(symbol)
        reads += [("ZRANGE", buy, -1, -1, "WITHSCORES"), ("ZRANGE", sell, 0, 0, "WITHSCORES")]
        reads += [("ZRANGE", up, 0, 0, "WITHSCORES"), ("ZRANGE", down, -1, -1, "WITHSCORES")]
        reads.append(("SISMEMBER", keys.active_symbols, symbol))
    replies = engine.store.pipeline(reads, writes=False)
    bounds = []
    for kind, pick in enumerate((max, min, min, max)):
        # [member, score], or [[member, score]] where the connection speaks RESP3
        scores = [str(reply[0][1] if isinstance(reply[0], list) else reply[1]) for reply in replies[kind::5] if reply]
        bounds.append(pick(scores, key=float) if scores else "")
    forget = [name for at, name in enumerate(accounts) if replies[5 * at + 4] and not any(replies[5 * at : 5 * at + 4])]
    return bounds, forget
