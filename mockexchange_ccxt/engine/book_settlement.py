"""Settlement under ``FILL_MODEL=book``: one pass of a symbol, over every account holding orders on it, against
one book snapshot.

1. Read the snapshot (``engine/snapshot.py``) and, per account, the resting orders the book may cross and the
   trigger orders the last price reached (``book_orders.lua``, in pages of ``SETTLE_BATCH``).
2. Plan: the resting orders of all accounts take from the snapshot in price-time priority (``fills.allocate``),
   one trade each at their limit price; then the triggered orders, earliest placed first, become the orders they
   carry and meet what is left (``triggers.plan_fire``). An order whose remainder fills whole is named only: its
   record already holds that fill (``book_orders.rest``); a partial fill is planned here in full.
3. Apply, in priority order, in calls of at most ``SETTLE_BATCH`` orders, one per account (``settle_book.lua``,
   ``fire_triggers.lua``). On a single Valkey each call checks the snapshot and the levels it takes from and
   writes what it took, atomically with the fills. On Valkey Cluster each call's liquidity is first taken in
   the feed's slot (``take_depth.lua``) and what an order that did not fill had taken is given back.

A call that finds the book moved (``STALE``: a newer snapshot, or a level someone emptied meanwhile) stops the
pass; it is planned again from what Valkey then holds (orders already filled are filled: a second pass over the
same snapshot finds nothing more for them, since each took all it could). Several processes may settle one symbol
at once: nothing is filled twice, and no level gives more than it has.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import TYPE_CHECKING, Any

from ..keys import BUY, SELL
from .book_orders import fill_resting
from .fills import Resting, Take, allocate
from .markets import Market
from .money import UNITS_PER_ONE, text_units, to_units
from .record_codec import pack, unpack
from .snapshot import ATTEMPTS, BookView, DepthSpec, Snapshot
from .triggers import plan_fire

if TYPE_CHECKING:
    from .core import Engine

log = logging.getLogger("mockexchange_ccxt.settlement")


def _units(price: Decimal, rounding: str) -> str:
    return str(int((price * UNITS_PER_ONE).to_integral_value(rounding=rounding)))


@dataclass
class _Pass:
    """What one pass read: per account (by index in ``views``) its crossed resting orders and reached triggers."""

    views: list[Engine]
    resting: list[Resting]
    remainders: dict[tuple[int, str], str]  # (account, id) -> the remainder text its record holds
    triggered: list[tuple[int, str, str]]  # (account, id, JSON or '')


#: One script call of a pass: its expectation, its arguments after the head, and the takes of each order it names.
_Call = tuple[DepthSpec, list[Any], dict[str, list[Take]]]


def settle_book(engine: Engine, symbol: str, accounts: Iterable[str]) -> int:
    """One settlement pass of ``symbol`` for ``accounts`` against the book snapshot the feed holds now; returns
    the orders that traded."""
    market = engine.market(symbol)
    views = [engine.for_account(name) for name in sorted(set(accounts))]
    traded = 0
    for _ in range(ATTEMPTS):
        snapshot = engine.snapshot(symbol)
        if snapshot is None or not views:
            return traded
        book = snapshot.sides(to_units(market.step))
        found = _read(engine, views, snapshot, book)
        done, stale = _fill_resting(engine, market, snapshot, book, found)
        traded += done
        if not stale:
            done, stale = _fire(engine, market, snapshot, book, found)
            traded += done
        if not stale:
            return traded
    log.warning("%s: the book kept changing during settlement; the next pass settles the rest", symbol)
    return traded


def _read(engine: Engine, views: list[Engine], snapshot: Snapshot, book: BookView) -> _Pass:
    best_ask, best_bid = book.asks.best(), book.bids.best()
    last = snapshot.quote.price
    bounds = [
        "" if best_ask is None else _units(best_ask.price, ROUND_CEILING),
        "" if best_bid is None else _units(best_bid.price, ROUND_FLOOR),
        _units(last, ROUND_FLOOR),
        _units(last, ROUND_CEILING),
    ]
    found = _Pass(views, [], {}, [])
    resting, remainders = found.resting, found.remainders
    limits: dict[str, Decimal] = {}
    amounts: dict[str, int] = {}
    batch = engine.settings.settle_batch
    symbol = snapshot.symbol
    for index, view in enumerate(views):
        keys = view.keys
        offsets = [0, 0, 0, 0]
        while True:
            reply = engine.store.run(
                "book_orders",
                [keys.orders, *keys.symbol_sets(symbol)],
                [*bounds, *offsets, batch],
            )
            for side, entries in ((BUY, reply[0]), (SELL, reply[1])):
                fields = iter(entries)
                for order_id, price, remaining, since in zip(fields, fields, fields, fields, strict=True):
                    limit = limits.get(price) or limits.setdefault(price, Decimal(price))  # many share a price
                    units = amounts.get(remaining)  # and many an amount
                    if units is None:
                        units = amounts[remaining] = text_units(remaining)
                    key = (index, order_id)
                    resting.append(Resting(key, side, limit, units, int(since), int(order_id)))
                    remainders[key] = remaining
            for entries in (reply[2], reply[3]):
                found.triggered += [(index, entries[at], entries[at + 1]) for at in range(0, len(entries), 2)]
            scanned = [int(count) for count in reply[4]]
            if all(count < batch for count in scanned):
                break
            offsets = [offset + count for offset, count in zip(offsets, scanned, strict=True)]
    return found


def _account_keys(engine: Engine, view: Engine, symbol: str) -> list[str]:
    """The keys of an account's settle and fire scripts (and, on a single node, the snapshot's)."""
    keys = [*view._settle_keys(symbol), view.keys.trade_orders, view.keys.sequence]
    if not engine.store.cluster:
        keys += [engine.keys.price(symbol), engine.keys.depth_taken(symbol)]
    return keys


def _fill_resting(engine: Engine, market: Market, snapshot: Snapshot, book: BookView, found: _Pass) -> tuple[int, bool]:
    """Allocate the snapshot to the crossed resting orders and apply the fills; returns (filled, stale)."""
    planned = allocate(book.asks, [r for r in found.resting if r.side == BUY])
    planned += allocate(book.bids, [r for r in found.resting if r.side == SELL])
    if not planned:
        return 0, False
    partial = [order.key for order, takes in planned if _taken(takes) < order.units]
    records = _records(engine, found.views, partial)
    # (account, id, its arguments: the first three, then its takes, then the rest; takes)
    steps: list[tuple[int, str, tuple[Any, ...], list[Take]]] = []
    for order, takes in planned:
        key = order.key
        index, order_id = key
        record = records.get(key)
        if record is None:
            steps.append((index, order_id, ("F", order_id, found.remainders[key]), takes))
            continue
        if record["status"] != "open":  # it ended since the pass read it (a cancel, another process's pass)
            continue
        plan = fill_resting(record, market, takes, snapshot.quote.timestamp)
        moves = plan.moves.flat()
        tail = [pack(plan.record), plan.fill_ts, "1" if plan.rests_in else "0"]
        steps.append((index, order_id, ("P", order_id, found.remainders[key], *tail, len(moves), *moves), takes))
    filled = 0
    for start in range(0, len(steps), engine.settings.settle_batch):
        calls: dict[int, _Call] = {}
        for index, order_id, args, takes in steps[start : start + engine.settings.settle_batch]:
            spec, out, owned = calls.get(index) or calls.setdefault(index, (DepthSpec(snapshot), [], {}))
            out += args[:3]
            out.append(spec.add(takes))
            out += args[3:]
            owned[order_id] = takes
        done, stale = _apply(engine, snapshot, found.views, calls, "settle_book", lambda reply: reply[1:])
        filled += done
        if stale:
            return filled, True
    return filled, False


def _taken(takes: list[Take]) -> int:
    """What takes give in all (most orders of a pass take from one level)."""
    return takes[0].units if len(takes) == 1 else sum(take.units for take in takes)


def _records(engine: Engine, views: list[Engine], keys: list[tuple[int, str]]) -> dict[tuple[int, str], Any]:
    """Full records of some orders (the few that fill partially), one read per account."""
    wanted: dict[int, list[str]] = defaultdict(list)
    for index, order_id in keys:
        wanted[index].append(order_id)
    records = {}
    for index, ids in wanted.items():
        for order_id, raw in zip(ids, engine.store.read("HMGET", views[index].keys.orders, *ids), strict=True):
            if raw:
                records[(index, order_id)] = unpack(order_id, raw)
    return records


def _apply(
    engine: Engine,
    snapshot: Snapshot,
    views: list[Engine],
    calls: dict[int, _Call],
    script: str,
    missed: Any,
) -> tuple[int, bool]:
    """Run one script call per account (their liquidity taken first on a cluster, and given back for the orders
    the call names in ``missed(reply)``); returns (orders that traded, stale)."""
    store, symbol = engine.store, snapshot.symbol
    depth_keys = [engine.keys.price(symbol), engine.keys.depth_taken(symbol)]
    order = sorted(calls)
    if store.cluster:
        takes = store.run_pipelined(
            [store.eval_command("take_depth", depth_keys, ["take", *calls[i][0].args()]) for i in order]
        )
        if "STALE" in takes:
            gives = [calls[i][0] for i, reply in zip(order, takes, strict=True) if reply != "STALE"]
            _give(engine, depth_keys, gives)
            return 0, True
    commands = []
    for index in order:
        spec, args, _owned = calls[index]
        view = views[index]
        head = [symbol, str(view.account_number)] + ([snapshot.quote.timestamp] if script == "settle_book" else [])
        commands.append(store.eval_command(script, _account_keys(engine, view, symbol), [*head, *spec.args(), *args]))
    replies = store.run_pipelined(commands)
    traded, stale, gives = 0, False, []
    for index, reply in zip(order, replies, strict=True):
        if reply == ["STALE"]:
            stale = True
            continue
        traded += int(reply[1] if script == "fire_triggers" else reply[0])
        if store.cluster:
            owned = calls[index][2]
            back = DepthSpec(snapshot)
            back.add(take for order_id in missed(reply) for take in owned.get(str(order_id), []))
            gives.append(back)
    if gives:
        _give(engine, depth_keys, gives)
    return traded, stale


def _give(engine: Engine, depth_keys: list[str], specs: list[DepthSpec]) -> None:
    """Give back what fills that did not happen had taken (a cluster's first step ran, its second did not)."""
    commands = [engine.store.eval_command("take_depth", depth_keys, ["give", *s.args()]) for s in specs if s.units()]
    if commands:
        engine.store.run_pipelined(commands)


def _fire(engine: Engine, market: Market, snapshot: Snapshot, book: BookView, found: _Pass) -> tuple[int, bool]:
    """Plan the triggered orders, earliest placed first, against what the resting fills left; apply them."""
    if not found.triggered:
        return 0, False
    entries = []
    for index, order_id, raw in found.triggered:
        record = unpack(order_id, raw) if raw else None
        entries.append((int(record["timestamp"]) if record else 0, int(order_id), index, order_id, record))
    entries.sort(key=lambda entry: entry[:2])
    bps = engine.settings.max_slippage_bps
    steps: list[tuple[int, str, Any]] = []
    for _stamp, _number, index, order_id, record in entries:
        if record is None:
            steps.append((index, order_id, None))
            continue
        fire = plan_fire(record, market, snapshot.quote, book, bps)
        book.side_for(record["side"]).commit(fire.plans[0].takes)
        steps.append((index, order_id, fire))
    traded = 0
    for start in range(0, len(steps), engine.settings.settle_batch):
        calls: dict[int, _Call] = {}
        for index, order_id, fire in steps[start : start + engine.settings.settle_batch]:
            spec, out, owned = calls.get(index) or calls.setdefault(index, (DepthSpec(snapshot), [], {}))
            if fire is None:
                out.append(json.dumps({"id": order_id, "at": "", "plans": []}))
                continue
            out.append(fire.argument(spec))
            owned[order_id] = fire.plans[0].takes
        done, stale = _apply(engine, snapshot, found.views, calls, "fire_triggers", lambda reply: reply[4:])
        traded += done
        if stale:
            return traded, True
    return traded, False
