"""Orders under ``FILL_MODEL=book``: an order meeting a book snapshot (``engine/fills.py`` says what it takes) and
the money of each trade, planned exactly here, once.

Money, per trade: a buy's cost is amount x price rounded up to a unit, a sell's rounded down; the fee is cost x
rate rounded up. An order's ``filled``, ``cost`` and ``fee`` are the sums of its trades', its ``average`` their
amount-weighted price (their price when they share one, else rounded half-even to 8 decimals); its
``takerOrMaker`` and fee rate are its first trade's (each trade keeps its own).

Reservations: an order that rests reserves what its remainder needs at its limit price, exactly as under the
touch model (a buy its cost rounded up plus the maker fee rounded up, a sell its remainder). After a partial
fill the reservation becomes what the new remainder needs, in the same script. Rounding per trade can make the
trade plus the new reservation a few units more than the old reservation: those units come from free, and a
fill that free cannot cover waits, as does any fill the balances cannot take.

Records: the trades live in the order's record (``_trades``: id, time, price, amount, cost, fee, rate, taker or
maker), the first sharing the order's id. The trades an order makes when it is placed have the ids that follow
its own (the script takes them from the account's counter in the same step), so the record names them by their
offset from it (0, 1, ...); a later trade planned before its id exists is named ``"#0"`` and the script names
it. An order whose only trade is the fill of its whole amount at its limit (a resting order filled in one pass)
keeps the touch model's record, which describes that one trade itself. A resting order carries the full fill of
its remainder (``_fill`` moves; ``_trade`` and ``_done``, the fields it has once filled, when it has trades
already) and its cancel (``_release``), so a settlement pass that fills it whole needs no Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Context, Decimal
from typing import Any

from ..errors import InvalidOrder, OrderImmediatelyFillable
from ..keys import BUY, free_field
from .fills import Take
from .markets import Market
from .money import UNIT, fee_units, fmt, fmt_units, from_units, text_units, to_units
from .moves import Moves, resting_moves
from .order_request import GTC, PO, OrderRequest
from .orders import CANCELED, CLOSED, IN_BOOK, MAX_COST_UNITS, OPEN, OrderPlan
from .snapshot import BookView

_WIDE = Context(prec=200)
TAKER, MAKER = "taker", "maker"


@dataclass(frozen=True)
class Trade:
    """One planned trade: ``units`` of base at ``price``; its cost and fee in units of quote."""

    price: Decimal
    units: int
    cost: int
    fee: int
    rate: Decimal
    role: str

    @classmethod
    def plan(cls, side: str, units: int, price: Decimal, rate: Decimal, role: str) -> Trade:
        exact = Decimal(units) * price  # units of base x price = units of quote
        cost = int(exact.to_integral_value(rounding=ROUND_CEILING if side == BUY else ROUND_FLOOR))
        return cls(price, units, cost, fee_units(cost, rate), rate, role)

    @classmethod
    def of_entry(cls, entry: list[Any]) -> Trade:
        """A trade the record keeps, back (its id and time aside)."""
        _id, _ts, price, units, cost, fee, rate, role = entry
        return cls(Decimal(price), text_units(units), text_units(cost), text_units(fee), Decimal(rate), role)

    def entry(self, trade_id: str | int, ts: int) -> list[Any]:
        """The trade as the record keeps it (an int id: the order's id plus it)."""
        return [trade_id, ts, *self.fields()]

    def fields(self) -> list[str]:
        return [
            fmt(self.price),
            fmt_units(self.units),
            fmt_units(self.cost),
            fmt_units(self.fee),
            fmt(self.rate),
            self.role,
        ]


def free_moves(side: str, trades: list[Trade], market: Market) -> Moves:
    """What trades do to free: a buyer gets base and pays cost + fee, a seller the other way."""
    units = sum(trade.units for trade in trades)
    if side == BUY:
        paid = sum(trade.cost + trade.fee for trade in trades)
        return Moves().credit(free_field(market.base), units).debit(free_field(market.quote), paid)
    got = sum(trade.cost - trade.fee for trade in trades)
    return Moves().debit(free_field(market.base), units).credit(free_field(market.quote), got)


def average(trades: list[Trade]) -> str:
    """The trades' amount-weighted price: their price when they share one, else rounded half-even to 1e-8."""
    if all(trade.price == trades[0].price for trade in trades):
        return fmt(trades[0].price)
    total = Decimal(0)
    for trade in trades:
        total = _WIDE.add(total, _WIDE.multiply(Decimal(trade.units), trade.price))
    filled = Decimal(sum(trade.units for trade in trades))
    return fmt(_WIDE.divide(total, filled).quantize(UNIT, rounding=ROUND_HALF_EVEN, context=_WIDE))


def summary(record: dict[str, Any], trades: list[Trade]) -> dict[str, Any]:
    """The order's fields that follow from its trades."""
    filled = sum(trade.units for trade in trades)
    return {
        "filled": fmt_units(filled),
        "remaining": fmt_units(text_units(record["amount"]) - filled),
        "cost": fmt_units(sum(trade.cost for trade in trades)),
        "average": average(trades),
        "fee": {
            "currency": record["fee"]["currency"],
            "cost": fmt_units(sum(trade.fee for trade in trades)),
            "rate": fmt(trades[0].rate),
        },
        "takerOrMaker": trades[0].role,
    }


def _remainder(side: str, units: int, limit: Decimal, market: Market) -> tuple[Trade, Moves, Moves, Moves, int]:
    """A remainder of ``units`` resting at ``limit``: its full fill as a trade, the moves that reserve it, fill it
    and release it, and what it holds (units of the asset it spends)."""
    trade = Trade.plan(side, units, limit, market.maker, MAKER)
    if side == BUY:
        spend, hold, receive, gets = market.quote, trade.cost + trade.fee, market.base, units
    else:
        spend, hold, receive, gets = market.base, units, market.quote, trade.cost - trade.fee
    reserve = Moves().reserve(spend, hold).expect(receive, gets)
    fill, release = resting_moves(spend, hold, receive, gets)
    return trade, reserve, fill, release, hold


def rest(record: dict[str, Any], market: Market, units: int, limit: Decimal, trades: list[Trade]) -> Moves:
    """Make the record rest with a remainder of ``units`` at ``limit`` (its fill and cancel precomputed); returns
    the moves that reserve it. An order with no trade yet rests exactly as under the touch model (its whole fill
    is one trade that the record itself describes: ``_cost``, ``_fee``); one with trades also carries the
    remainder's trade (``_trade``) and what its fields become once filled (``_done``)."""
    trade, reserve, fill, release, _hold = _remainder(record["side"], units, limit, market)
    record.update(_at=IN_BOOK, _fill=fill.flat(), _release=release.flat())
    if not trades:
        record.update(_cost=fmt_units(trade.cost), _fee=fmt_units(trade.fee))
        return reserve
    done = summary(record, [*trades, trade])
    del done["filled"], done["remaining"]
    record.update(_trade=trade.fields(), _done=done)
    return reserve


def held(side: str, units: int, limit: Decimal, market: Market) -> int:
    """What a resting order of ``units`` at ``limit`` reserves (the funds an IOC/FOK limit must have)."""
    return _remainder(side, units, limit, market)[4]


def _record_trades(record: dict[str, Any], trades: list[Trade], entries: list[list[Any]], ts: int) -> None:
    record.update(summary(record, trades), _trades=entries, lastTradeTimestamp=ts, lastUpdateTimestamp=ts)


def execute_book(
    request: OrderRequest,
    amount: Decimal,
    market: Market,
    view: BookView,
    record: dict[str, Any],
    ts: int,
    slippage_bps: Decimal,
    reserved: bool = False,
) -> OrderPlan:
    """The order as it meets the book at ``ts``: it takes what it can (taker), then rests at its limit (GTC, PO),
    or ends (market, IOC: canceled with what filled; FOK: all or nothing). A post-only order that would take is
    refused. ``reserved``: its funds are already held (a triggered order), so it needs nothing more to end."""
    side, limit, tif = request.side, request.price, request.time_in_force
    book_side = view.side_for(side)
    bound = limit if limit is not None else book_side.slippage_bound(slippage_bps)
    need = to_units(amount)
    takes = book_side.walk(need, bound) if bound is not None else []
    if takes and tif == PO:
        raise OrderImmediatelyFillable(
            f"post-only {side} at {fmt(limit or takes[0].level.price)} would take liquidity: the book's "
            f"{'ask' if side == BUY else 'bid'} {fmt(takes[0].level.price)} has {fmt_units(takes[0].units)} left"
        )
    if sum(take.units for take in takes) < need and request.time_in_force == "FOK":
        takes = []
    trades = [Trade.plan(side, take.units, take.level.price, market.taker, TAKER) for take in takes]
    if sum(trade.cost for trade in trades) > MAX_COST_UNITS:
        raise InvalidOrder(f"cost {fmt_units(sum(t.cost for t in trades))} {market.quote} is above the maximum")
    moves = free_moves(side, trades, market) if trades else Moves()
    entries = [trade.entry(index, ts) for index, trade in enumerate(trades)]  # ids: the order's id + index
    if entries:
        _record_trades(record, trades, entries, ts)
        if limit is None:
            record["price"] = record["average"]
    left = need - sum(trade.units for trade in trades)
    plan = OrderPlan(record, moves, fill_ts=ts if trades else None, trades=len(trades), takes=takes)
    plan.cost_units, plan.fee_units = sum(t.cost for t in trades), sum(t.fee for t in trades)
    plan.taker = bool(trades)
    plan.fill_price = Decimal(record["average"]) if trades else limit
    plan.spend_asset = market.quote if side == BUY else market.base
    plan.spend_units = plan.cost_units + plan.fee_units if side == BUY else need - left
    if left == 0:
        record["status"] = CLOSED
        return plan
    if limit is not None and tif in (GTC, PO):
        moves.extend(rest(record, market, left, limit, trades))
        record.update(status=OPEN, takerOrMaker=record["takerOrMaker"] or MAKER)
        plan.rests_in, plan.score = IN_BOOK, str(to_units(limit))
        plan.spend_units += held(side, left, limit, market)
        return plan
    record.update(status=CANCELED, reason=_why(request, trades, view, bound, slippage_bps))
    if not reserved:
        if limit is not None:  # IOC and FOK need the funds a resting order would hold, as on Binance
            moves.require(free_field(plan.spend_asset), held(side, need, limit, market))
        elif side != BUY:
            moves.require(free_field(market.base), need)
    return plan


def _why(request: OrderRequest, trades: list[Trade], view: BookView, bound: Decimal | None, bps: Decimal) -> str:
    """Why an order that met the book ended with a remainder (its ``info.reason``)."""
    tif, filled = request.time_in_force, fmt_units(sum(trade.units for trade in trades))
    if request.price is not None:
        if tif == "FOK":
            return "FOK: the book could not fill it entirely at once"
        return "IOC: nothing could fill at once" if not trades else f"IOC: {filled} filled at once, the rest canceled"
    what = "asks" if request.side == BUY else "bids"
    if bound is None:
        return f"market order: the book has no {what} left"
    where = f"within MAX_SLIPPAGE_BPS ({fmt(bps)}) of the best price, up to {fmt(bound)}"
    if tif == "FOK":
        return f"FOK: the book's {what} {where} could not fill it entirely"
    return f"market order: {filled} filled from the {what} {where}; the rest canceled"


def fill_resting(record: dict[str, Any], market: Market, takes: list[Take], ts: int) -> OrderPlan:
    """A resting order's trade in a settlement pass: ``takes`` (what it takes from the book, in total) at its
    limit price, as maker; its reservation becomes what the remainder needs (or it closes)."""
    side, limit = record["side"], Decimal(record["price"])
    units = sum(take.units for take in takes)
    at = max(ts, int(record["timestamp"]), int(record.get("lastTradeTimestamp") or 0))  # never before its last trade
    trade = Trade.plan(side, units, limit, market.maker, MAKER)
    known = list(record.get("_trades") or [])
    entries = [*known, trade.entry("#0" if known else str(record["id"]), at)]
    trades = [*(Trade.of_entry(entry) for entry in known), trade]
    moves = Moves.parse(record["_release"]).extend(free_moves(side, [trade], market))
    for name in ("_fill", "_release", "_trade", "_done", "_at", "_cost", "_fee", "reason"):
        record.pop(name, None)
    _record_trades(record, trades, entries, at)
    left = to_units(Decimal(record["amount"])) - to_units(Decimal(record["filled"]))
    plan = OrderPlan(record, moves, fill_ts=at, trades=1, takes=takes, taker=False)
    if left == 0:
        record["status"] = CLOSED
    else:
        moves.extend(rest(record, market, left, limit, trades))
        plan.rests_in, plan.score = IN_BOOK, str(to_units(limit))
    return plan


def amount_for_cost(request: OrderRequest, market: Market, view: BookView, slippage_bps: Decimal) -> Decimal:
    """A market buy by cost: what the cost buys walking the asks (within ``MAX_SLIPPAGE_BPS``), fees on top."""
    assert request.cost is not None
    asks = view.asks
    budget = to_units(request.cost)
    bound = asks.slippage_bound(slippage_bps)
    takes = (
        []
        if bound is None
        else asks.spend(budget, bound, lambda units, price: Trade.plan(BUY, units, price, market.taker, TAKER).cost)
    )
    amount = from_units(sum(take.units for take in takes))
    if amount <= 0:
        raise InvalidOrder(
            f"cost {fmt(request.cost)} {market.quote} buys less than one step ({fmt(market.step)}) from the book's asks"
        )
    return amount
