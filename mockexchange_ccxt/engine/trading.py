"""Placing and canceling orders: the engine's order methods (mixed into ``Engine``).

Each method validates its input completely in Python, plans exact amounts (``orders.py``, ``triggers.py``),
then makes one atomic script call that checks everything before it writes anything. A refused call raises a
``MockExchangeError`` and has changed nothing. On a single Valkey an order is planned from the last quote the
engine saw and the script checks the feed still holds it (``placement.py``): one round trip per order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from ..config import Settings
from ..errors import BadRequest, InsufficientFunds, MockExchangeError, OrderNotFound, StoreUnavailable
from ..keys import DOWN, UP, Keys, free_field
from .balances import Balances, explain
from .markets import Market, split_symbol
from .money import from_units
from .moves import Moves
from .order_request import OrderRequest, validate_request
from .orders import IN_DOWN, IN_UP, OrderPlan, plan_order
from .placement import QuoteMemory, checked, is_stale, quote_spec
from .prices import PriceFeed, Quote, quote_from_reply
from .queries import check_id, of_symbol
from .record_codec import unpack, unpack_pairs
from .snapshot import DepthSpec
from .store import Store
from .views import named, order_view


@lru_cache(maxsize=4096)
def _place_keys(keys: Keys, symbol: str, side: str, rests_in: str, checked: bool) -> list[str]:
    """The placing script's KEYS (see place_order.lua): the same few lists for every order of an account and
    symbol, so built once each. ``checked``: with the feed hash and its snapshot's consumption (a single node)."""
    rest_set = {IN_UP: keys.triggers(symbol, UP), IN_DOWN: keys.triggers(symbol, DOWN)}.get(
        rests_in, keys.book(symbol, side)
    )
    return [
        keys.balances,
        keys.orders,
        keys.sequence,
        keys.client_ids,
        keys.all_ids,
        keys.open_ids,
        keys.active_symbols,
        rest_set,
        keys.traded_symbols,
        keys.symbol_fills(symbol),
        keys.finished_ids,
        keys.trade_orders,
        *([keys.price(symbol), keys.depth_taken(symbol)] if checked else []),
    ]


#: How often a cancel re-reads records that changed between its read and its script (a fill came first).
_CANCEL_ATTEMPTS = 20


class TradingMixin:
    """``create_order``, ``can_execute``, ``cancel_order``, ``cancel_orders``, ``cancel_all_orders``."""

    settings: Settings
    store: Store
    keys: Keys
    feed: PriceFeed
    balances: Balances
    quote_memory: QuoteMemory

    if TYPE_CHECKING:  # provided by Engine and the other mixins

        def now_ms(self) -> int: ...
        def market(self, symbol: str) -> Market: ...
        def settle_quote(self, quote: Quote) -> int: ...
        def fetch_order(self, order_id: Any, symbol: str | None = None) -> dict[str, Any]: ...
        def join_holders(self, symbol: str) -> None: ...
        def place_on_book(self, symbol: str, args: tuple[Any, ...], flags: dict[str, Any]) -> dict[str, Any]: ...
        def can_execute_on_book(self, symbol: str, args: tuple[Any, ...], flags: dict[str, Any]) -> dict[str, Any]: ...
        def missing_order(self, order_id: str) -> OrderNotFound: ...
        @property
        def account_number(self) -> int: ...

    def _request(
        self, symbol: str, side: Any, type: Any, amount: Any, price: Any, client_order_id: Any, flags: dict[str, Any]
    ) -> tuple[OrderRequest, Market]:
        market = self.market(symbol)
        return validate_request(symbol, side, type, amount, price, client_order_id, **flags), market

    def _planner(self, request: OrderRequest, market: Market) -> Callable[[Quote], OrderPlan]:
        """The plan of ``request`` at a given quote (the clock read once, when the order is planned)."""
        return lambda quote: plan_order(request, market, quote, self.now_ms())

    def _place_command(
        self, plan: OrderPlan, dry: bool = False, spec: DepthSpec | None = None, expect: Quote | None = None
    ) -> tuple[Any, ...]:
        """The placing script's command; with ``spec`` (FILL_MODEL=book) its trades are named by the script and, on
        a single node, the snapshot it was planned from is checked and taken from in the same script; with
        ``expect`` (FILL_MODEL=touch, a single node) the quote it was planned at is checked."""
        record = plan.record
        symbol = record["symbol"]
        expectation: Sequence[str] = quote_spec(expect) if expect is not None else ()
        if spec is not None and not self.store.cluster:
            expectation = spec.args()
        return self.store.eval_command(
            "place_order",
            _place_keys(self.keys, symbol, record["side"], plan.rests_in, bool(expectation)),
            [
                record["clientOrderId"] or "",
                symbol,
                "1" if plan.rests_in else "",
                plan.score if plan.rests_in else str(record["lastUpdateTimestamp"]),  # done at once: when it ended
                "" if plan.fill_ts is None else str(plan.fill_ts),
                "1" if dry else "",
                plan.record_tail(),
                0 if dry else self.account_number,  # a dry run registers nothing
                "" if spec is None else plan.trades,
                *expectation,
                *plan.moves.flat(),
            ],
        )

    def create_order(
        self,
        symbol: str,
        side: str,
        type: str,
        amount: Any = None,
        price: Any = None,
        client_order_id: str | None = None,
        **flags: Any,
    ) -> dict[str, Any]:
        """Place an order; returns the ccxt-unified order.

        ``type``: ``market``, ``limit``, ``limit_maker``, or Binance's ``stop_loss``, ``stop_loss_limit``,
        ``take_profit``, ``take_profit_limit``. ``flags`` (keyword only, as ``order_request.validate_request``
        names them): ``time_in_force`` (GTC, IOC, FOK, PO), ``post_only``, ``reduce_only`` (false only),
        ``trigger_price``, ``stop_price``, ``stop_loss_price``, ``take_profit_price``, and ``cost`` (a market order
        trading that much quote instead of ``amount``). Market and marketable limits fill at once at the touch
        price (taker); other limits rest and reserve funds, or end at once if IOC/FOK; trigger orders rest
        untriggered and reserve funds.
        """
        if self.settings.book_fills:
            return self.place_on_book(symbol, (side, type, amount, price, client_order_id), flags)
        request, market = self._request(symbol, side, type, amount, price, client_order_id, flags)
        plan_at = self._planner(request, market)
        if self.store.cluster:
            quote = self.feed.require_quote(symbol)
            return self._place(plan_at(quote), quote)
        plan, placed = checked(self.quote_memory, symbol, plan_at, self._send)
        order: dict[str, Any] = placed
        self.join_holders(symbol)
        if plan.rests_in:
            self.quote_memory.placed(order["id"], symbol)
        return order

    def _send(self, plan: OrderPlan, quote: Quote) -> Any:
        """Run the placing script for a plan made at ``quote``, which the script checks the feed still holds; the
        order's view, or the script's ``STALE`` reply. The view is made while Valkey runs the script: all of it
        but the id is the plan's."""
        made: list[dict[str, Any]] = []
        try:
            reply = self.store.run_with_reads(
                self._place_command(plan, expect=quote),
                [],
                meanwhile=lambda: made.append(order_view({"id": "", **plan.record})),
            )[0]
        except MockExchangeError as exc:
            raise explain(exc) from None
        return reply if is_stale(reply) else named(made[0], reply)

    def _place(self, plan: OrderPlan, quote: Quote) -> dict[str, Any]:
        """Valkey Cluster: apply a plan made at ``quote``, read before. The feed is read again right after the
        script: a price written (and settled) between the plan's read and the script would leave a resting
        order crossed, so its symbol is settled at once at the price read after the order was booked."""
        symbol = plan.record["symbol"]
        try:
            order_id, (fresh,) = self.store.run_with_reads(self._place_command(plan), [self.feed.read_command(symbol)])
        except MockExchangeError as exc:
            raise explain(exc) from None
        self.join_holders(symbol)
        if plan.rests_in:
            self.quote_memory.placed(order_id, symbol)
            now = quote_from_reply(symbol, fresh)
            if now is not None and (now.price, now.bid, now.ask, now.timestamp) != (
                quote.price,
                quote.bid,
                quote.ask,
                quote.timestamp,
            ):
                self.settle_quote(now)
                return self.fetch_order(order_id)
        return order_view({"id": order_id, **plan.record})

    def can_execute(
        self,
        symbol: str,
        side: Any,
        type: Any = "market",
        amount: Any = None,
        price: Any = None,
        client_order_id: Any = None,
        **flags: Any,
    ) -> dict[str, Any]:
        """Dry run of ``create_order``: would it be accepted now, and if not, why. The same checks run (in the
        same script, which writes nothing), so the answer agrees with what ``create_order`` would do."""
        if self.settings.book_fills:
            return self.can_execute_on_book(symbol, (side, type, amount, price, client_order_id), flags)
        try:
            request, market = self._request(symbol, side, type, amount, price, client_order_id, flags)
            plan_at = self._planner(request, market)
            if self.store.cluster:
                verdict = self._dry_run(plan_at(self.feed.require_quote(symbol)))
            else:
                _, verdict = checked(self.quote_memory, symbol, plan_at, self._dry_run_at)
        except StoreUnavailable:
            raise
        except MockExchangeError as exc:
            return {"ok": False, "code": exc.code, "reason": exc.message}
        assert isinstance(verdict, dict)  # without a spec only a checked quote finds the feed moved
        return verdict

    def _dry_run_at(self, plan: OrderPlan, quote: Quote) -> dict[str, Any] | list[Any]:
        return self._dry_run(plan, expect=quote)

    def _dry_run(
        self, plan: OrderPlan, spec: DepthSpec | None = None, expect: Quote | None = None
    ) -> dict[str, Any] | list[Any]:
        """Would the placing script accept the plan (it runs, writing nothing), and what the order needs; the
        script's ``STALE`` reply when the feed moved under the plan (plan again)."""
        problem: MockExchangeError | None = None
        free_read = ("HGET", self.keys.balances, free_field(plan.spend_asset))
        try:
            reply, (available,) = self.store.run_with_reads(self._place_command(plan, True, spec, expect), [free_read])
        except MockExchangeError as exc:
            problem, reply, available = explain(exc), "OK", self.store.read(*free_read)
        if is_stale(reply):
            return list(reply)
        return {
            "ok": problem is None,
            "code": None if problem is None else problem.code,
            "reason": None if problem is None else problem.message,
            "price": plan.fill_price,
            "cost": from_units(plan.cost_units),
            "fee": from_units(plan.fee_units),
            "takerOrMaker": "taker" if plan.taker else "maker",
            "required": {"asset": plan.spend_asset, "amount": from_units(plan.spend_units)},
            "free": from_units(available or 0),
        }

    # -- cancels ---------------------------------------------------------------------------------------------

    def _cancel_keys(self, symbols: list[str]) -> list[str]:
        keys = self.keys
        return [keys.balances, keys.orders, keys.open_ids, keys.active_symbols, keys.finished_ids] + [
            key for symbol in symbols for key in keys.symbol_sets(symbol)
        ]

    def cancel_order(self, order_id: Any, symbol: str | None = None) -> dict[str, Any]:
        """Cancel an open order, releasing exactly what it reserved; ORDER_NOT_OPEN if it already ended. With
        ``symbol``, only if it is an order of that symbol (OrderNotFound otherwise, nothing canceled).

        An order this engine placed, or one named with its symbol, is canceled in one round trip: the symbol
        says which keys the script touches (the script answers STALE if the order is of another), and the
        script releases what the record says it holds. Any other is read first."""
        order_id = check_id(order_id)
        if symbol is not None:
            split_symbol(symbol)
        known = symbol or self.quote_memory.symbol_of(order_id)
        if known is not None:
            try:
                args = ["one", self.now_ms(), 1, known, order_id]
                reply = self.store.run("cancel_order", self._cancel_keys([known]), args)
            except OrderNotFound:
                raise self.missing_order(order_id) from None
            except InsufficientFunds as exc:
                raise explain(exc) from None
            if not is_stale(reply):
                self.quote_memory.forget_order(order_id)
                return order_view(unpack_pairs(reply[0])[0])
        return self.cancel_orders([order_id], symbol)[0]

    def cancel_orders(self, order_ids: list[Any], symbol: str | None = None) -> list[dict[str, Any]]:
        """Cancel several open orders at once, all or nothing: if one is unknown or no longer open (or, with
        ``symbol``, of another symbol), nothing is canceled and the error names it."""
        if not isinstance(order_ids, list | tuple):
            raise BadRequest(f"order ids must be a list, got {type(order_ids).__name__}")
        if not order_ids:
            return []
        ids = list(dict.fromkeys(check_id(order_id) for order_id in order_ids))  # each once
        for _ in range(_CANCEL_ATTEMPTS):
            raws = self.store.read("HMGET", self.keys.orders, *ids)
            for order_id, raw in zip(ids, raws, strict=True):
                if raw is None:
                    raise self.missing_order(order_id)
            records = [of_symbol(unpack(order_id, raw), symbol) for order_id, raw in zip(ids, raws, strict=True)]
            release = Moves()
            for record in records:
                release.extend(Moves.parse(record.get("_release", [])))
            symbols = sorted({record["symbol"] for record in records})
            args = ["ids", self.now_ms(), len(symbols), *symbols, len(ids), *ids, *raws]
            try:
                reply = self.store.run("cancel_order", self._cancel_keys(symbols), [*args, *release.flat()])
            except InsufficientFunds as exc:
                raise explain(exc) from None
            if reply != ["STALE"]:
                return [order_view(record) for record in unpack_pairs(reply[0])]
        raise OrderNotFound(f"orders {', '.join(map(str, order_ids))[:200]} kept changing; try again")

    def cancel_all_orders(self, symbol: str | None = None) -> list[dict[str, Any]]:
        """Cancel every open order (of one symbol, or of all), each symbol's at once in one script, the scripts
        of all the symbols in one pipeline (one round trip with a symbol; with none, a read of the symbols
        first). An order that filled meanwhile is simply not among them."""
        if symbol is not None:
            split_symbol(symbol)
        symbols = [symbol] if symbol is not None else sorted(self.store.read("SMEMBERS", self.keys.active_symbols))
        now = self.now_ms()
        run = self.store.eval_command
        commands = [run("cancel_order", self._cancel_keys([name]), ["all", now, 1, name]) for name in symbols]
        replies = self.store.run_pipelined(commands) if commands else []  # the symbols' scripts in one round trip
        return [order_view(record) for reply in replies for record in unpack_pairs(reply[0])]
