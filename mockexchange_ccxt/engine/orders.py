"""Order arithmetic, planned exactly in Python before the one script call that applies it.

An order is planned completely here: its fill price, cost and fee in integer units, the balance moves of its
fill (a taker order) or of its reservation (a resting limit, an untriggered trigger order), and for an order
that stays open the moves its later fill and its cancel will make. The scripts only check and apply those
moves, so the rounding rules live in one place:

- the cost of a buy is rounded *up* to a whole unit, the cost of a sell *down*; the fee is rounded up;
- a resting buy reserves its cost at its limit price plus the maker fee, which is exactly what its fill
  takes, so a fill never needs more money and a cancel releases exactly what was held;
- a resting sell reserves its amount of the base asset;
- an open order also records what its fill will bring in (``pending``, see ``engine/moves.py``), so that the
  balances provably stay within int64 whatever fills later.

Time in force: a marketable order fills at once at the touch (taker); otherwise GTC rests, IOC and FOK end at
once ``canceled`` (under the touch model an order fills whole or not at all, so the two agree), and a post-only
(PO) order that would take is refused. Trigger orders are planned in ``engine/triggers.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..errors import InvalidOrder, OrderImmediatelyFillable
from ..keys import BUY, free_field
from ..memo import Memo
from .markets import Market
from .money import MAX_AMOUNT, fee_units, fmt, fmt_units, to_units, units_down, units_up
from .moves import Moves, resting_flats
from .order_request import FOK, IOC, PO, STOP_LOSS, TAKE_PROFIT, OrderRequest
from .prices import Quote
from .record_codec import pack
from .rules import check_active, check_amount, check_notional, check_price

if TYPE_CHECKING:
    from .fills import Take
    from .snapshot import BookView

OPEN, CLOSED, CANCELED = "open", "closed", "canceled"
STATUSES = (OPEN, CLOSED, CANCELED)
#: Where an open order rests (the record's ``_at``): the book of its side, or the up/down trigger set.
IN_BOOK, IN_UP, IN_DOWN = "b", "u", "d"

#: An order may move at most MAX_AMOUNT of its quote asset, like any amount.
MAX_COST_UNITS = to_units(MAX_AMOUNT)

#: Record field of each trigger kind's price (besides ``triggerPrice``, which every trigger order has).
TRIGGER_FIELDS = {STOP_LOSS: "stopLossPrice", TAKE_PROFIT: "takeProfitPrice"}


@dataclass(slots=True)
class OrderPlan:
    """Everything a placing (or triggering) script needs, and the record it will store."""

    record: dict[str, Any]
    moves: Moves
    rests_in: str = ""  # '' when the order is done at once, else IN_BOOK, IN_UP or IN_DOWN
    score: str = ""  # the book or trigger score in units, when it rests
    fill_ts: int | None = None  # the trade's time, when the order filled at once
    spend_asset: str = ""
    spend_units: int = 0  # what the order takes from (or needs in) free
    fill_price: Decimal | None = None
    cost_units: int = 0
    fee_units: int = 0
    taker: bool = False
    trades: int = 0  # FILL_MODEL=book: the trades it makes, named "#0", "#1", ... in the record until ids exist
    takes: list[Take] = field(default_factory=list)  # FILL_MODEL=book: what its trades take from the book

    def record_tail(self) -> str:
        """The stored record minus its opening ``{``; the script puts it back (an id does not belong in it)."""
        return pack(self.record)[1:]


@dataclass(frozen=True, slots=True)
class MarketTexts:
    """What every order of a market writes the same: its fee rates as text and its assets' free fields."""

    maker: str
    taker: str
    free_base: str
    free_quote: str


_TEXTS: Memo[int, tuple[Market, MarketTexts]] = Memo(10_000)


def market_texts(market: Market) -> MarketTexts:
    """The texts of a market, made once per ``Market`` (an engine keeps one per symbol)."""
    entry = _TEXTS.get(id(market))
    if entry is None or entry[0] is not market:
        texts = MarketTexts(fmt(market.maker), fmt(market.taker), free_field(market.base), free_field(market.quote))
        entry = _TEXTS.keep(id(market), (market, texts))
    return entry[1]


def touch_price(side: str, quote: Quote) -> Decimal:
    """What a taker pays (buy: the ask) or gets (sell: the bid)."""
    return quote.ask if side == BUY else quote.bid


def cost_of(side: str, amount: Decimal, price: Decimal, market: Market) -> int:
    """Units of quote an amount costs: a buyer pays rounded up, a seller gets rounded down (never zero)."""
    if side == BUY:
        units = units_up(amount * price)
    else:
        units = units_down(amount * price)
        if units == 0:
            raise InvalidOrder(f"cost of selling {fmt(amount)} {market.base} at {fmt(price)} rounds to zero")
    if units > MAX_COST_UNITS:
        raise InvalidOrder(f"cost {fmt_units(units)} {market.quote} is above the maximum {fmt(MAX_AMOUNT)}")
    return units


def plan_order(
    request: OrderRequest,
    market: Market,
    quote: Quote,
    now_ms: int,
    view: BookView | None = None,
    slippage_bps: Decimal = Decimal(0),
) -> OrderPlan:
    """Check the market's rules, then plan the order at the current quote, or (``FILL_MODEL=book``) against
    ``view``, the book snapshot it meets."""
    check_active(market)
    if request.amount is not None:
        amount = request.amount
    elif view is not None:
        from .book_orders import amount_for_cost as amount_from_book  # book_orders builds on this module

        amount = amount_from_book(request, market, view, slippage_bps)
    else:
        amount = amount_for_cost(request, market, quote)
    check_amount(market, amount)
    if request.price is not None:
        check_price(market, request.price)
    if request.trigger is not None:
        from .triggers import plan_trigger  # triggers build on this module

        check_price(market, request.trigger.price, "trigger price")
        return plan_trigger(request, amount, market, quote, now_ms)
    reference = request.price if request.price is not None else touch_price(request.side, quote)
    check_notional(market, amount, reference)
    record = new_record(request, amount, market, now_ms)
    return execute(request, amount, market, quote, record, now_ms, view=view, slippage_bps=slippage_bps)


def amount_for_cost(request: OrderRequest, market: Market, quote: Quote) -> Decimal:
    """A market order by cost (Binance's ``quoteOrderQty``): the most whole steps of the market's amount
    precision whose value at the touch does not exceed the cost. A buy's steps cost at most that at the ask
    (the fee comes on top); a sell's bring in at most that at the bid (the fee comes off), as Binance sizes a
    market sell by quote amount."""
    assert request.cost is not None
    touch = touch_price(request.side, quote)
    amount = request.cost // (touch * market.step) * market.step  # ``//`` on Decimals: the exact whole quotient
    if amount <= 0:
        trade = "buys" if request.side == BUY else "sells"
        raise InvalidOrder(
            f"cost {fmt(request.cost)} {market.quote} {trade} less than one step ({fmt(market.step)}) at {fmt(touch)}"
        )
    return amount


def new_record(request: OrderRequest, amount: Decimal, market: Market, now_ms: int) -> dict[str, Any]:
    """The record of an order that has done nothing yet (the plan then fills, rests or ends it)."""
    amount_text = fmt(amount)
    record: dict[str, Any] = {
        "clientOrderId": request.client_order_id,
        "timestamp": now_ms,
        "lastTradeTimestamp": None,
        "lastUpdateTimestamp": now_ms,
        "symbol": request.symbol,
        "type": request.type,
        "side": request.side,
        "timeInForce": request.time_in_force,
        "price": None if request.price is None else fmt(request.price),
        "average": None,
        "amount": amount_text,
        "filled": "0",
        "remaining": amount_text,
        "cost": "0",
        "status": OPEN,
        "fee": {"currency": market.quote, "cost": "0", "rate": market_texts(market).maker},
        "takerOrMaker": None,
    }
    if request.time_in_force == PO:
        record["postOnly"] = True
    if request.order_type != request.type:
        record["orderType"] = request.order_type
    if request.cost is not None:
        record["quoteOrderQty"] = fmt(request.cost)
    if request.trigger is not None:
        record["triggerPrice"] = fmt(request.trigger.price)
        name = TRIGGER_FIELDS.get(request.trigger.kind)
        if name is not None:
            record[name] = record["triggerPrice"]
    return record


def execute(
    request: OrderRequest,
    amount: Decimal,
    market: Market,
    quote: Quote,
    record: dict[str, Any],
    ts: int,
    reserved: bool = False,
    view: BookView | None = None,
    slippage_bps: Decimal = Decimal(0),
) -> OrderPlan:
    """The order as it meets the quote at time ``ts``: it fills at once at the touch (taker), rests at its limit
    (maker), or ends at once (IOC/FOK); a post-only order that would take is refused. ``reserved``: its funds
    are already held (a triggered order), so an order that ends at once needs nothing more. With ``view``
    (``FILL_MODEL=book``) it meets the book instead (``engine/book_orders.py``)."""
    if view is not None:
        from .book_orders import execute_book  # book_orders builds on this module

        return execute_book(request, amount, market, view, record, ts, slippage_bps, reserved)
    side, limit = request.side, request.price
    touch = touch_price(side, quote)
    if limit is None or (limit >= touch if side == BUY else limit <= touch):
        if request.time_in_force == PO:
            raise OrderImmediatelyFillable(
                f"post-only {side} at {fmt(limit or touch)} would take liquidity: the "
                f"{'ask' if side == BUY else 'bid'} is {fmt(touch)}"
            )
        return _fill_at_once(request, amount, market, touch, record, ts)
    plan = _rest(request, amount, market, limit, record)
    if request.time_in_force in (IOC, FOK):
        record.update(status=CANCELED, reason=f"{request.time_in_force}: nothing could fill at once")
        for name in ("_fill", "_release", "_cost", "_fee", "_at"):
            record.pop(name, None)
        record["takerOrMaker"] = None
        moves = Moves() if reserved else Moves().require(free_field(plan.spend_asset), plan.spend_units)
        return OrderPlan(record, moves, spend_asset=plan.spend_asset, spend_units=plan.spend_units)
    return plan


def _fill_at_once(
    request: OrderRequest, amount: Decimal, market: Market, price: Decimal, record: dict[str, Any], ts: int
) -> OrderPlan:
    cost = cost_of(request.side, amount, price, market)
    fee = fee_units(cost, market.taker)
    texts = market_texts(market)
    moves = Moves()
    if request.side == BUY:
        spend_asset, spend = market.quote, cost + fee
        moves.credit(texts.free_base, to_units(amount)).debit(texts.free_quote, spend)
    else:
        spend_asset, spend = market.base, to_units(amount)
        moves.credit(texts.free_quote, cost - fee).debit(texts.free_base, spend)
    price_text = fmt(price)
    record["lastTradeTimestamp"] = record["lastUpdateTimestamp"] = ts
    record["average"] = price_text
    if record["price"] is None:  # a market order's price is its fill's; a limit keeps its own, as on an exchange
        record["price"] = price_text
    record["filled"], record["remaining"], record["cost"] = record["amount"], "0", fmt_units(cost)
    record["status"] = CLOSED
    record["fee"] = {"currency": market.quote, "cost": fmt_units(fee), "rate": texts.taker}
    record["takerOrMaker"] = "taker"
    return OrderPlan(record, moves, "", "", ts, spend_asset, spend, price, cost, fee, True)


def _rest(request: OrderRequest, amount: Decimal, market: Market, limit: Decimal, record: dict[str, Any]) -> OrderPlan:
    """A limit that does not cross rests in its book at its limit price, and will fill there as maker."""
    cost = cost_of(request.side, amount, limit, market)
    fee = fee_units(cost, market.maker)
    amount_units = to_units(amount)
    if request.side == BUY:
        spend_asset, spend, receive_asset, receive = market.quote, cost + fee, market.base, amount_units
    else:
        spend_asset, spend, receive_asset, receive = market.base, amount_units, market.quote, cost - fee
    moves = Moves().reserve(spend_asset, spend).expect(receive_asset, receive)
    fill, release = resting_flats(spend_asset, spend, receive_asset, receive)
    record.update(
        takerOrMaker="maker",
        fee={"currency": market.quote, "cost": "0", "rate": market_texts(market).maker},
        _at=IN_BOOK,
        _fill=fill,
        _release=release,
        _cost=fmt_units(cost),
        _fee=fmt_units(fee),
    )
    return OrderPlan(record, moves, IN_BOOK, str(to_units(limit)), None, spend_asset, spend, limit, cost, fee, False)
