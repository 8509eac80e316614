"""An independent model of the fill rules of FILL_MODEL=book, written from the rules as the README states them
(not from the engine's code), to check the engine against. One symbol, any number of accounts.

- A snapshot is the book at one feed timestamp: levels of (price, amount). A level offers its amount in whole
  units of 1e-8 (rounded down); what orders took from it is gone until the timestamp changes (a rewrite with
  the same timestamp keeps it). An order trades whole steps of the market's amount step.
- A taker walks the other side best first, taking at each level the lesser of what it needs and what the level
  has left (rounded down to a step): one trade at the level's price, at the taker rate. A limit stops past its
  limit; a market order past MAX_SLIPPAGE_BPS (inclusive) from the best level that has anything left.
- What is left: market / IOC end canceled with what filled; FOK fills entirely or not at all; GTC rests at its
  limit; a post-only order that would take anything is refused.
- Each new price write settles: the resting orders of all accounts, best limit first, then the earliest, then
  the lowest id, each take what they can at prices at least as good as their limit (best levels first), one
  trade at their own limit price, at the maker rate.
- Money per trade: a buy's cost rounded up to 1e-8, a sell's down, the fee = cost x rate rounded up; a resting
  order reserves its remainder's cost at its limit plus the maker fee (a buy) or its remainder (a sell); after a
  partial fill the reservation is recomputed for the new remainder and the difference settles against free; a
  fill whose net debit free cannot cover waits (nothing changes, it takes nothing).
- Funds: a market buy needs the cost + fee of its walk, a market sell its whole amount; a GTC limit needs its
  walk plus its remainder's reservation; IOC/FOK need what the whole order would reserve resting.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal

UNIT = Decimal("0.00000001")
ZERO = Decimal(0)


def units(value: Decimal) -> int:
    return int((value / UNIT).to_integral_value(rounding=ROUND_FLOOR))


def of_units(count: int) -> Decimal:
    return Decimal(count) * UNIT


def cost_of(side: str, count: int, price: Decimal) -> int:
    exact = Decimal(count) * price
    return int(exact.to_integral_value(rounding=ROUND_CEILING if side == "buy" else ROUND_FLOOR))


def fee_of(cost: int, rate: Decimal) -> int:
    return int((Decimal(cost) * rate).to_integral_value(rounding=ROUND_CEILING))


@dataclass
class Fill:
    price: Decimal
    amount: int
    cost: int
    fee: int
    role: str


@dataclass
class Order:
    account: str
    id: str
    since: int
    side: str
    kind: str  # market or limit
    tif: str
    amount: int
    limit: Decimal | None
    status: str = "open"
    fills: list[Fill] = field(default_factory=list)
    reserved: int = 0  # units of the asset it spends, while open

    @property
    def filled(self) -> int:
        return sum(f.amount for f in self.fills)

    @property
    def remaining(self) -> int:
        return self.amount - self.filled

    @property
    def cost(self) -> int:
        return sum(f.cost for f in self.fills)

    @property
    def fee(self) -> int:
        return sum(f.fee for f in self.fills)

    def average(self) -> Decimal | None:
        if not self.fills:
            return None
        if len({f.price for f in self.fills}) == 1:
            return self.fills[0].price
        weighted = sum((Decimal(f.amount) * f.price for f in self.fills), ZERO) / Decimal(self.filled)
        return weighted.quantize(UNIT, rounding=ROUND_HALF_EVEN)


class Refused(Exception):
    pass


class Market:
    """The model: a book snapshot with what was taken, accounts' balances, and every order."""

    def __init__(self, base: str, quote: str, maker: Decimal, taker: Decimal, step: Decimal, bps: Decimal) -> None:
        self.base, self.quote, self.maker, self.taker = base, quote, maker, taker
        self.step, self.bps = units(step), bps
        self.stamp: int | None = None
        self.levels: dict[str, list[tuple[Decimal, int]]] = {"bids": [], "asks": []}
        self.taken: dict[tuple[str, Decimal], int] = {}
        self.balances: dict[str, dict[str, int]] = {}
        self.orders: list[Order] = []

    # -- money ---------------------------------------------------------------------------------------------------

    def free(self, account: str, asset: str) -> int:
        return self.balances.setdefault(account, {}).get(f"free:{asset}", 0)

    def add(self, account: str, name: str, count: int) -> None:
        book = self.balances.setdefault(account, {})
        book[name] = book.get(name, 0) + count

    def hold(self, side: str, remaining: int, limit: Decimal) -> int:
        if side == "sell":
            return remaining
        cost = cost_of("buy", remaining, limit)
        return cost + fee_of(cost, self.maker)

    def spends(self, side: str) -> str:
        return self.quote if side == "buy" else self.base

    # -- the book --------------------------------------------------------------------------------------------------

    def write(self, stamp: int, bids: list[tuple[Decimal, Decimal]], asks: list[tuple[Decimal, Decimal]]) -> None:
        """A price write with depth: a new timestamp starts a fresh snapshot, the same one keeps what was taken.
        Then the settlement pass."""
        if stamp != self.stamp:
            self.taken = {}
        self.stamp = stamp
        self.levels = {"bids": [(p, units(a)) for p, a in bids], "asks": [(p, units(a)) for p, a in asks]}
        self.settle()

    def left(self, book_side: str, price: Decimal, offered: int) -> int:
        return (offered - self.taken.get((book_side, price), 0)) // self.step * self.step

    def walk(self, side: str, need: int, bound: Decimal | None) -> list[tuple[Decimal, int]]:
        book_side = "asks" if side == "buy" else "bids"
        takes = []
        for price, offered in self.levels[book_side]:
            if need == 0 or (bound is not None and (price > bound if side == "buy" else price < bound)):
                break
            part = min(need, self.left(book_side, price, offered))
            if part > 0:
                takes.append((price, part))
                need -= part
        return takes

    def take(self, side: str, takes: list[tuple[Decimal, int]]) -> None:
        book_side = "asks" if side == "buy" else "bids"
        for price, part in takes:
            self.taken[(book_side, price)] = self.taken.get((book_side, price), 0) + part

    def market_bound(self, side: str) -> Decimal | None:
        book_side = "asks" if side == "buy" else "bids"
        for price, offered in self.levels[book_side]:
            if self.left(book_side, price, offered) > 0:
                return price * (1 + self.bps / 10000) if side == "buy" else price * (1 - self.bps / 10000)
        return None

    # -- orders ----------------------------------------------------------------------------------------------------

    def place(self, order: Order) -> Order:
        """An order arrives at the current snapshot: it trades and rests or ends, or is refused (Refused)."""
        side, acct = order.side, order.account
        bound = order.limit if order.kind == "limit" else self.market_bound(side)
        takes = self.walk(side, order.amount, bound) if bound is not None else []
        if takes and order.tif == "PO":
            raise Refused("post-only would take")
        if order.tif == "FOK" and sum(part for _, part in takes) < order.amount:
            takes = []
        fills = []
        for price, part in takes:
            cost = cost_of(side, part, price)
            fills.append(Fill(price, part, cost, fee_of(cost, self.taker), "taker"))
        filled = sum(f.amount for f in fills)
        rests = filled < order.amount and order.kind == "limit" and order.tif in ("GTC", "PO")
        assert order.limit is not None or not rests
        # funds
        spend = self.spends(side)
        debit = sum(f.cost + f.fee for f in fills) if side == "buy" else filled
        if rests:
            assert order.limit is not None
            debit += self.hold(side, order.amount - filled, order.limit)
        need = debit
        if order.kind == "limit" and order.tif in ("IOC", "FOK"):
            assert order.limit is not None
            need = max(need, self.hold(side, order.amount, order.limit))
        elif order.kind == "market" and side == "sell":
            need = max(need, order.amount)
        if self.free(acct, spend) < need:
            raise Refused("insufficient funds")
        self.take(side, takes)
        for f in fills:
            self._trade_moves(acct, side, f)
        order.fills = fills
        if rests:
            assert order.limit is not None
            order.reserved = self.hold(side, order.remaining, order.limit)
            self.add(acct, f"free:{spend}", -order.reserved)
            self.add(acct, f"used:{spend}", order.reserved)
            order.status = "open"
        else:
            order.status = "closed" if order.remaining == 0 else "canceled"
        self.orders.append(order)
        return order

    def _trade_moves(self, acct: str, side: str, f: Fill) -> None:
        if side == "buy":
            self.add(acct, f"free:{self.base}", f.amount)
            self.add(acct, f"free:{self.quote}", -(f.cost + f.fee))
        else:
            self.add(acct, f"free:{self.base}", -f.amount)
            self.add(acct, f"free:{self.quote}", f.cost - f.fee)

    def cancel(self, order: Order) -> None:
        assert order.status == "open"
        spend = self.spends(order.side)
        self.add(order.account, f"free:{spend}", order.reserved)
        self.add(order.account, f"used:{spend}", -order.reserved)
        order.reserved, order.status = 0, "canceled"

    def settle(self) -> None:
        """The pass: resting orders of every account in price-time priority, one trade each at their limit."""
        resting = [o for o in self.orders if o.status == "open"]

        def rank(o: Order) -> tuple[Decimal, int, int]:
            assert o.limit is not None
            return (-o.limit if o.side == "buy" else o.limit, o.since, int(o.id))

        for order in sorted(resting, key=rank):
            takes = self.walk(order.side, order.remaining, order.limit)
            if not takes:
                continue
            assert order.limit is not None
            part = sum(p for _, p in takes)
            cost = cost_of(order.side, part, order.limit)
            fill = Fill(order.limit, part, cost, fee_of(cost, self.maker), "maker")
            new_hold = self.hold(order.side, order.remaining - part, order.limit) if order.remaining > part else 0
            spend = self.spends(order.side)
            # the old reservation is released, the trade settles against free, the new one is held
            if (
                order.side == "buy"
                and self.free(order.account, spend) + order.reserved - cost - fill.fee - new_hold < 0
            ):
                continue  # free cannot cover the rounding of this partial fill: it waits, taking nothing
            self.add(order.account, f"free:{spend}", order.reserved - new_hold)
            self.add(order.account, f"used:{spend}", new_hold - order.reserved)
            self._trade_moves(order.account, order.side, fill)
            order.reserved = new_hold
            order.fills.append(fill)
            self.take(order.side, takes)
            if order.remaining == 0:
                order.status = "closed"
