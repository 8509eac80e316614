"""The fill rules of ``FILL_MODEL=book``, written once: how orders take liquidity from a book snapshot.

A snapshot is a symbol's book at one feed timestamp (``engine/depth.py``: the feed's depth, or the synthetic
book). Each level offers its amount, counted in whole units of 1e-8 (rounded down); what orders of every account
took from it in this snapshot is gone until the feed writes another timestamp (``engine/snapshot.py`` keeps the
count in Valkey). An order trades whole steps of its market's amount precision, so what a level has *left* for it
is the level's remainder rounded down to a step.

- **Takers** (a market order; the marketable part of a limit on arrival or when a trigger fires) walk the other
  side best first. At each level they take what they still need or what the level has left, whichever is less:
  one trade at the level's price. They stop when filled, at the first level past their limit price (limits) or
  past ``MAX_SLIPPAGE_BPS`` from the best level that has anything left when they arrive (market orders; the
  bound is inclusive), or when the side runs out. A market buy by cost takes at each level the most whole steps
  that the cost it has left pays for at that price.
- **Resting orders** crossed by the snapshot fill in price-time priority across all accounts: the best limit
  first (the highest buy, the lowest sell), then the earliest (placed, or triggered), then the lowest id. Each
  takes, best level first, from the levels at prices at least as good as its limit, as much as it needs and they
  have left, and makes one trade per settlement pass, at its own limit price.

Everything here is exact integer arithmetic on units plus Decimal price comparisons: the same snapshot and the
same orders give the same fills, every run. What an order's trades cost and what it reserves is in
``engine/book_orders.py``.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from itertools import islice
from operator import attrgetter
from typing import Any, NamedTuple

from ..keys import BUY
from .money import MAX_AMOUNT, UNITS_PER_ONE, fmt, to_units

#: A level never offers more than the largest amount one order may move (feed amounts may be up to 10^30).
MAX_LEVEL_UNITS = to_units(MAX_AMOUNT)
ASKS, BIDS = "a", "b"


def level_units(amount: Decimal) -> int:
    """What a level of the feed offers, in whole units (rounded down: a fraction of a unit cannot be traded)."""
    return min(int((amount * UNITS_PER_ONE).to_integral_value(rounding=ROUND_FLOOR)), MAX_LEVEL_UNITS)


def level_field(side: str, price: Decimal) -> str:
    """The level's name in the snapshot's consumption hash: ``a:<price>`` or ``b:<price>``."""
    return f"{side}:{fmt(price)}"


@dataclass
class Level:
    """One level of one side of a snapshot as this pass sees it: offered, and taken so far (by everyone)."""

    price: Decimal
    field: str
    offered: int
    taken: int

    def left(self, step: int) -> int:
        """What the level has left for an order of whole ``step`` units."""
        return (self.offered - self.taken) // step * step


class Take(NamedTuple):
    """Units an order takes from one level."""

    level: Level
    units: int


class Side:
    """One side of a snapshot (the asks a buyer takes, or the bids a seller takes), best first, with what every
    order of the pass has taken. ``step`` is the market's amount step in units."""

    def __init__(self, name: str, levels: list[Level], step: int) -> None:
        self.name = name
        self.levels = levels
        self.step = step
        self._first = 0  # levels before it have nothing left
        self._past = operator.gt if name == ASKS else operator.lt  # whether a price is past a taker's limit

    @classmethod
    def of(cls, name: str, levels: Iterable[tuple[Decimal, str, int]], taken: dict[str, int], step: int) -> Side:
        """A side from its levels as ``named`` gives them, with what was taken from each."""
        return cls(name, [Level(price, field, offered, taken.get(field, 0)) for price, field, offered in levels], step)

    @property
    def buyers_side(self) -> bool:
        """Whether this side is the asks, which buyers take (better is lower)."""
        return self.name == ASKS

    def best(self) -> Level | None:
        """The best level with anything left."""
        for level in self.levels[self._first :]:
            if level.left(self.step) > 0:
                return level
        return None

    def reaches(self, price: Decimal, limit: Decimal) -> bool:
        """Whether a level's price is at least as good as ``limit`` for the taker of this side."""
        return not self._past(price, limit)

    def slippage_bound(self, bps: Decimal) -> Decimal | None:
        """The worst price a market order may reach: ``bps`` basis points beyond the best level with anything left
        (before the order takes anything); None when nothing is left."""
        best = self.best()
        if best is None:
            return None
        factor = bps / 10_000
        return best.price * (1 + factor) if self.buyers_side else best.price * (1 - factor)

    def walk(self, units: int, limit: Decimal | None) -> list[Take]:
        """What a taker needing ``units`` takes, best first, from levels at least as good as ``limit`` (None: no
        bound). Nothing changes until ``commit``."""
        takes: list[Take] = []
        step, past = self.step, self._past  # a pass walks once per resting order: locals, not lookups
        for level in islice(self.levels, self._first, None):
            if units == 0 or (limit is not None and past(level.price, limit)):
                break
            part = min(units, level.left(step))
            if part > 0:
                takes.append(Take(level, part))
                units -= part
        return takes

    def spend(self, budget: int, limit: Decimal | None, cost: Callable[[int, Decimal], int]) -> list[Take]:
        """A market buy by cost: at each level, best first, the most whole steps that the ``budget`` it has left
        (units of quote) pays for at the level's price (``cost`` rounds as the buyer pays)."""
        takes: list[Take] = []
        for level in self.levels[self._first :]:
            if limit is not None and not self.reaches(level.price, limit):
                break
            affordable = int((Decimal(budget) / level.price).to_integral_value(rounding=ROUND_FLOOR))
            # cost rounds up to a whole unit, and the budget is whole units: it pays exactly for amount * price
            part = min(affordable // self.step * self.step, level.left(self.step))
            if part <= 0:
                if level.left(self.step) > 0:
                    break  # the budget does not pay for a step here, nor at any worse price
                continue
            takes.append(Take(level, part))
            budget -= cost(part, level.price)
        return takes

    def commit(self, takes: Iterable[Take]) -> None:
        """The takes happened: the levels have that much less left for every later order of the pass."""
        for take in takes:
            take.level.taken += take.units
        while self._first < len(self.levels) and self.levels[self._first].left(self.step) == 0:
            self._first += 1


def named(name: str, levels: Iterable[tuple[Decimal, Decimal]]) -> tuple[tuple[Decimal, str, int], ...]:
    """A side's levels as (price, field, units offered)."""
    return tuple((price, level_field(name, price), level_units(amount)) for price, amount in levels)


class Resting(NamedTuple):
    """A resting order as the priority rule sees it. ``key`` is the caller's handle for it."""

    key: Any
    side: str  # the order's side: a buy rests against the asks
    limit: Decimal
    units: int  # its remainder
    since: int  # when it entered the book (ms): placed, or triggered
    number: int  # its id as a number


def in_priority(orders: Iterable[Resting]) -> list[Resting]:
    """Best limit first (highest buy, lowest sell), then the earliest, then the lowest id (two stable sorts)."""
    ordered = sorted(orders, key=attrgetter("since", "number"))
    ordered.sort(key=attrgetter("limit"), reverse=bool(ordered) and ordered[0].side == BUY)
    return ordered


def allocate(side: Side, orders: Iterable[Resting]) -> list[tuple[Resting, list[Take]]]:
    """Resting orders of one side (all buys, or all sells) against the other side of one snapshot, in priority
    order: each takes what it can (best levels first, at prices at least as good as its limit). Returns the
    orders that take something, with their takes, in priority order; ``side`` keeps what they took."""
    filled: list[tuple[Resting, list[Take]]] = []
    for order in in_priority(orders):
        takes = side.walk(order.units, order.limit)
        if takes:
            side.commit(takes)
            filled.append((order, takes))
    return filled
