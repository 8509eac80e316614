"""An independent model of the order rules (DESIGN.md sections 4, 5 and 12), written from the rules themselves
and not from the engine's code, to check the engine against: what an order does on arrival and on each later
quote, what it reserves, and what every fill moves.

Rules modelled (touch fill model: an order fills whole at one price or not at all):
- a market order, and a limit that is marketable (buy: limit >= ask; sell: limit <= bid), fills at once at the
  touch (buy: the ask, sell: the bid) at the taker rate; a post-only order that would do so is refused;
- a limit that is not marketable rests (GTC, PO) and fills later at its limit at the maker rate once a quote
  crosses it, or ends at once canceled with nothing filled (IOC, FOK);
- a trigger order rests untriggered; it fires on the last price reaching its trigger (touch counts): a stop-loss
  sell or take-profit buy when last <= trigger, a stop-loss buy or take-profit sell when last >= trigger, a
  generic trigger when last reaches it from the side it was on at placement; a trigger already reached at
  placement is refused; once fired it is the market or limit order it carries, at that quote;
- money: a buy pays its cost rounded up to 1e-8, a sell receives its cost rounded down, the fee is the cost
  times the rate rounded up, in the quote asset; a resting buy reserves cost at its limit plus the maker fee, an
  untriggered buy limit its cost at the limit plus the fee at the higher rate, an untriggered buy market its cost
  at the trigger plus the taker fee; a sell reserves its amount.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

UNIT = Decimal("0.00000001")
REFUSED, OPEN, CLOSED, CANCELED = "refused", "open", "closed", "canceled"


def up(value: Decimal) -> Decimal:
    return value.quantize(UNIT, rounding=ROUND_CEILING)


def down(value: Decimal) -> Decimal:
    return value.quantize(UNIT, rounding=ROUND_FLOOR)


@dataclass(frozen=True)
class Quote:
    last: Decimal
    bid: Decimal
    ask: Decimal


@dataclass
class Spec:
    """One order as a bot asks for it."""

    side: str
    carries: str  # market or limit
    tif: str  # GTC, IOC, FOK, PO (market: IOC)
    amount: Decimal
    limit: Decimal | None = None
    trigger_kind: str | None = None  # stop_loss, take_profit, trigger
    trigger: Decimal | None = None


@dataclass
class Model:
    """The order and the account as the rules say they must be."""

    base: str
    quote: str
    maker: Decimal
    taker: Decimal
    spec: Spec
    balances: dict[str, Decimal]
    status: str = OPEN
    triggered: bool = False
    direction: str | None = None  # 'up' or 'down' while untriggered
    reserved: tuple[str, Decimal] | None = None
    fill_price: Decimal | None = None
    cost: Decimal = Decimal(0)
    fee: Decimal = Decimal(0)
    rate: Decimal | None = None
    history: list[str] = field(default_factory=list)

    # -- money -----------------------------------------------------------------------------------------------

    def _free(self, asset: str) -> Decimal:
        return self.balances.get(f"free:{asset}", Decimal(0))

    def _add(self, name: str, amount: Decimal) -> None:
        self.balances[name] = self.balances.get(name, Decimal(0)) + amount

    def _reserve(self, asset: str, amount: Decimal) -> None:
        self._add(f"free:{asset}", -amount)
        self._add(f"used:{asset}", amount)
        self.reserved = (asset, amount)

    def _unreserve(self) -> None:
        if self.reserved is not None:
            asset, amount = self.reserved
            self._add(f"free:{asset}", amount)
            self._add(f"used:{asset}", -amount)
            self.reserved = None

    def _fill(self, price: Decimal, rate: Decimal) -> None:
        """The whole amount trades at ``price``; funds come from free (any reservation was released first)."""
        amount = self.spec.amount
        if self.spec.side == "buy":
            cost = up(amount * price)
            fee = up(cost * rate)
            self._add(f"free:{self.base}", amount)
            self._add(f"free:{self.quote}", -(cost + fee))
        else:
            cost = down(amount * price)
            fee = up(cost * rate)
            self._add(f"free:{self.base}", -amount)
            self._add(f"free:{self.quote}", cost - fee)
        self.status, self.fill_price, self.cost, self.fee, self.rate = CLOSED, price, cost, fee, rate

    def _rest_reservation(self, limit: Decimal) -> tuple[str, Decimal]:
        if self.spec.side == "buy":
            cost = up(self.spec.amount * limit)
            return self.quote, cost + up(cost * self.maker)
        return self.base, self.spec.amount

    # -- the rules -------------------------------------------------------------------------------------------

    @staticmethod
    def _touch(side: str, quote: Quote) -> Decimal:
        return quote.ask if side == "buy" else quote.bid

    def _marketable(self, quote: Quote) -> bool:
        limit = self.spec.limit
        if self.spec.carries == "market" or limit is None:
            return True
        return limit >= quote.ask if self.spec.side == "buy" else limit <= quote.bid

    def _execute(self, quote: Quote, placing: bool) -> None:
        """The order as a plain market or limit order meeting ``quote`` (its funds are in free)."""
        spec = self.spec
        if self._marketable(quote):
            if spec.tif == "PO":
                self.status = REFUSED
                return
            self._fill(self._touch(spec.side, quote), self.taker)
            return
        assert spec.limit is not None
        if spec.tif in ("IOC", "FOK"):
            self.status = CANCELED
            return
        self._reserve(*self._rest_reservation(spec.limit))
        self.status, self.rate = OPEN, self.maker

    def place(self, quote: Quote) -> None:
        spec = self.spec
        if spec.trigger is None:
            self._execute(quote, placing=True)
            return
        kind, trigger, last = spec.trigger_kind, spec.trigger, quote.last
        if kind == "stop_loss":
            self.direction = "up" if spec.side == "buy" else "down"
        elif kind == "take_profit":
            self.direction = "down" if spec.side == "buy" else "up"
        else:
            self.direction = "up" if last < trigger else "down"
        if last == trigger or (last > trigger if self.direction == "up" else last < trigger):
            self.status = REFUSED
            return
        if spec.side == "sell":
            self._reserve(self.base, spec.amount)
        elif spec.carries == "limit":
            assert spec.limit is not None
            cost = up(spec.amount * spec.limit)
            self._reserve(self.quote, cost + up(cost * max(self.maker, self.taker)))
        else:
            cost = up(spec.amount * trigger)
            self._reserve(self.quote, cost + up(cost * self.taker))

    def tick(self, quote: Quote) -> None:
        """A new quote: a resting limit crossed fills at its limit; an untriggered order reached fires."""
        if self.status != OPEN:
            return
        spec = self.spec
        if spec.trigger is None or self.triggered:
            assert spec.limit is not None
            crossed = quote.ask <= spec.limit if spec.side == "buy" else quote.bid >= spec.limit
            if crossed:
                self._unreserve()
                self._fill(spec.limit, self.maker)
            return
        assert spec.trigger is not None
        reached = quote.last >= spec.trigger if self.direction == "up" else quote.last <= spec.trigger
        if not reached:
            return
        self.triggered = True
        self._unreserve()
        self._execute(quote, placing=False)

    def cancel(self) -> None:
        self._unreserve()
        self.status = CANCELED

    def used(self) -> dict[str, Decimal]:
        return {a: self.balances.get(f"used:{a}", Decimal(0)) for a in (self.base, self.quote)}

    def free(self) -> dict[str, Decimal]:
        return {a: self._free(a) for a in (self.base, self.quote)}
