"""Trigger orders (stop-loss, take-profit, generic trigger): planned at placement and when they fire.

At placement (``plan_trigger``) a trigger order gets its direction, is refused if the last price already
reached its trigger (touch counts, as on Binance: "Stop price would trigger immediately"), reserves its funds
and rests untriggered in the up or down trigger set of its symbol, scored by its trigger price:

- a stop-loss sell and a take-profit buy fire when the last price falls to the trigger (``DOWN``);
- a stop-loss buy and a take-profit sell fire when it rises to the trigger (``UP``);
- a generic trigger fires when the last price reaches it from the side it was on at placement.

Reservations: a sell holds its amount of base. A buy limit holds its cost at the limit plus the fee at the
higher of the maker and taker rates (it may fill either way once triggered); a buy market order holds its cost
at the trigger price plus the taker fee.

When a settlement pass finds the last price at or past a trigger, it hands the order back here
(``plan_fire``): the order releases its reservation and becomes, at the same quote, the market or limit order
it carries (``orders.execute``), all in one script that first checks the order is still untriggered. If its
funds do not cover the fill (a market buy that costs more than reserved, with too little free), the fallback
plan cancels it with the reason in its ``info``, changing nothing else.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..errors import MockExchangeError, OrderImmediatelyFillable
from ..keys import BUY, DOWN, UP
from .markets import Market
from .money import fee_units, fmt, to_units
from .moves import Moves, resting_moves
from .order_request import LIMIT, STOP_LOSS, TAKE_PROFIT, TRIGGER, OrderRequest
from .orders import CANCELED, IN_DOWN, IN_UP, OrderPlan, cost_of, execute, new_record
from .prices import Quote
from .record_codec import pack
from .rules import check_notional

if TYPE_CHECKING:
    from .snapshot import BookView, DepthSpec

#: The trigger set of each direction, as the record's ``_at`` names it.
SET_OF_DIRECTION = {UP: IN_UP, DOWN: IN_DOWN}


def direction(kind: str, side: str, trigger: Decimal, last: Decimal) -> str:
    """Which way the last price must move to fire the order."""
    if kind == STOP_LOSS:
        return UP if side == BUY else DOWN
    if kind == TAKE_PROFIT:
        return DOWN if side == BUY else UP
    return UP if last < trigger else DOWN


def plan_trigger(request: OrderRequest, amount: Decimal, market: Market, quote: Quote, now_ms: int) -> OrderPlan:
    assert request.trigger is not None
    trigger, last = request.trigger.price, quote.price
    name = {STOP_LOSS: "stopLossPrice", TAKE_PROFIT: "takeProfitPrice", TRIGGER: "triggerPrice"}[request.trigger.kind]
    way = direction(request.trigger.kind, request.side, trigger, last)
    if last == trigger or (last > trigger if way == UP else last < trigger):
        raise OrderImmediatelyFillable(
            f"{name} {fmt(trigger)} would trigger immediately: the last price {fmt(last)} has already reached it"
        )
    reference = request.price if request.type == LIMIT else trigger
    assert reference is not None
    check_notional(market, amount, reference)
    cost = cost_of(request.side, amount, reference, market)
    amount_units = to_units(amount)
    if request.side == BUY:
        rate = max(market.maker, market.taker) if request.type == LIMIT else market.taker
        spend_asset, spend = market.quote, cost + fee_units(cost, rate)
        receive_asset, receive = market.base, amount_units
    else:
        spend_asset, spend = market.base, amount_units
        receive_asset, receive = market.quote, cost - fee_units(cost, market.taker)
    record = new_record(request, amount, market, now_ms)
    record.update(
        _at=SET_OF_DIRECTION[way],
        _release=resting_moves(spend_asset, spend, receive_asset, receive)[1].flat(),
    )
    moves = Moves().reserve(spend_asset, spend).expect(receive_asset, receive)
    score = str(to_units(trigger))
    return OrderPlan(record, moves, SET_OF_DIRECTION[way], score, None, spend_asset, spend, reference, cost, 0, False)


@dataclass(frozen=True)
class Fire:
    """How one triggered order is applied: the plans the script tries in order (the first whose moves hold)."""

    order_id: str
    expected_at: str  # the trigger set the order must still be in
    plans: list[OrderPlan]

    def argument(self, spec: DepthSpec | None = None) -> str:
        """One script argument: the plans as JSON (each: record JSON, moves, where it rests, score, fill time;
        with ``spec``, FILL_MODEL=book: how many trades it makes and what they take from the book)."""
        plans = []
        for plan in self.plans:
            record = plan.record
            if spec is not None and record.get("_trades"):  # ids at fire time are not the order's id + offset
                record = dict(record, _trades=[[f"#{entry[0]}", *entry[1:]] for entry in record["_trades"]])
            entry: dict[str, Any] = {
                "record": pack(record),
                "moves": plan.moves.flat(),
                "rest": plan.rests_in,
                "score": plan.score if plan.rests_in else str(plan.record["lastUpdateTimestamp"]),
                "fill": plan.fill_ts or 0,
            }
            if spec is not None:
                entry.update(trades=plan.trades, takes=spec.add(plan.takes))
            plans.append(entry)
        return json.dumps({"id": self.order_id, "at": self.expected_at, "plans": plans}, separators=(",", ":"))


def plan_fire(
    record: dict[str, Any],
    market: Market,
    quote: Quote,
    view: BookView | None = None,
    slippage_bps: Decimal = Decimal(0),
) -> Fire:
    """The triggered order at ``quote`` (and, ``FILL_MODEL=book``, the book ``view`` as this pass left it): its
    reservation released and the order it carries executed, or else canceled with the reason. The fill is timed
    at the quote, never before the order was placed."""
    ts = max(quote.timestamp, int(record["timestamp"]))
    release = Moves.parse(record["_release"])
    request = OrderRequest(
        record["symbol"],
        record["side"],
        record["type"],
        Decimal(record["amount"]),
        None if record["price"] is None else Decimal(record["price"]),
        record["clientOrderId"],
        record["timeInForce"],
        order_type=record.get("orderType", record["type"]),
    )
    base = {key: value for key, value in record.items() if key not in ("id", "_release", "_at")}
    base.update(triggerTimestamp=ts, lastUpdateTimestamp=ts)
    plans: list[OrderPlan] = []
    try:
        amount = Decimal(record["amount"])
        plan = execute(request, amount, market, quote, dict(base), ts, True, view, slippage_bps)
        plan.moves = Moves().extend(release).extend(plan.moves)
        plans.append(plan)
        why = "its reserved and free funds did not cover the fill"
    except MockExchangeError as exc:
        why = exc.message
    canceled = dict(base, status=CANCELED, reason=f"triggered at {fmt(quote.price)} but canceled: {why}")
    plans.append(OrderPlan(canceled, release))
    return Fire(str(record["id"]), record["_at"], plans)
