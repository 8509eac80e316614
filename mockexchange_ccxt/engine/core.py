"""``Engine``: the spot exchange itself, used by every face (ccxt class, REST app, CLI, back-tests).

Each public method validates its input completely in Python, computes exact amounts, then makes one atomic
script call (or a read). A refused call raises a ``MockExchangeError`` and has changed nothing.
"""

from __future__ import annotations

import json
import logging
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

from ..config import Settings
from ..errors import BadRequest, InsufficientFunds, MockExchangeError, OrderNotFound
from ..keys import BUY, DEFAULT_ACCOUNT, SELL, Keys
from .accounts import Accounts
from .balances import Balances, explain_shortfall
from .clock import Clock, WallClock
from .embedded import EmbeddedValkey
from .every_account import AccountViews, active_by_symbol, reset_account, settle_accounts, settle_symbol
from .history import History
from .market_data import MarketData
from .markets import Market, is_symbol, split_symbol
from .money import UNITS_PER_ONE, fmt, from_units
from .notifications import Notifications
from .orders import STATUSES, OrderPlan, order_view, plan_order, trade_view, validate_request
from .prices import PriceFeed, Quote, quote_from_reply
from .store import Store
from .tick_loop import TickLoop

log = logging.getLogger("mockexchange_ccxt.engine")

_MAX_ID_LENGTH = 20


class Engine(MarketData, AccountViews):
    """A spot exchange whose prices, balances and orders live in Valkey.

    With ``settings.redis_url`` unset it starts a private embedded valkey-server (stopped by ``close``).
    Pass ``clock=ReplayClock()`` for back-tests: time then follows the timestamps given to ``set_price``.
    """

    def __init__(self, settings: Settings | None = None, *, clock: Clock | None = None) -> None:
        self.settings = settings or Settings()
        self.clock: Clock = clock or WallClock()
        self.embedded: EmbeddedValkey | None = None
        url = self.settings.redis_url
        if url is None:
            self.embedded = EmbeddedValkey(self.settings.data_dir)
            url = self.embedded.start()
        self.store = Store(url)
        self.keys = Keys(self.settings.key_prefix, self.settings.account, self.settings.price_key_prefix)
        self.feed = PriceFeed(self.store, self.keys)
        self.balances = Balances(self.store, self.keys)
        self.accounts = Accounts(self.store, self.keys, self.now_ms)
        self._number = 0 if self.settings.account == DEFAULT_ACCOUNT else None
        self._root = self
        self.history = History(self.store, self.keys, self.settings.history_days)
        self.tick_loop = TickLoop(
            lambda: active_by_symbol(self),
            lambda s, a: settle_symbol(self, s, a),
            self.settings.tick_loop_sec,
            self.notice_outside_writes,
        )
        self.notifications = Notifications(self.store.primary_urls, self.keys, self.notice, self.notice_outside_writes)

    @classmethod
    def from_env(cls, **overrides: Any) -> Engine:
        """An engine configured from environment variables (see ``config.ENV_VARS``)."""
        return cls(Settings.from_env().with_overrides(**overrides))

    def close(self) -> None:
        """Stop the tick loop, close connections and stop the embedded server if this engine started it."""
        if self._root is not self:
            return
        self.stop_tick_loop()
        self.store.close()
        if self.embedded is not None:
            self.embedded.stop()
            self.embedded = None

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def now_ms(self) -> int:
        return self.clock.now_ms()

    # -- markets and prices --------------------------------------------------------------------------------

    def market(self, symbol: str) -> Market:
        """The rules of one symbol (format checked; whether it is priced is checked when trading)."""
        return Market.of(symbol, self.settings.maker_rate, self.settings.taker_rate)

    def markets(self) -> dict[str, dict[str, Any]]:
        """ccxt-unified markets of every symbol the feed currently prices."""
        return {symbol: self.market(symbol).describe() for symbol in self._priced_symbols()}

    def _priced_symbols(self) -> list[str]:
        return [symbol for symbol in self.feed.quotes() if is_symbol(symbol)]

    # -- settlement ------------------------------------------------------------------------------------------

    def process_price_tick(self, symbol: str) -> int:
        """Settle one symbol, for every account holding orders on it, from whatever its feed hash holds; an
        unpriced symbol settles nothing."""
        split_symbol(symbol)
        commands = [self.feed.read_command(symbol), ("SMEMBERS", self.keys.symbol_accounts(symbol))]
        reply, holders = self.store.pipeline(commands, writes=False, errors_as_values=True)
        quote = quote_from_reply(symbol, reply)
        if quote is None:
            log.debug("no valid price for %s: nothing settled", symbol)
            return 0
        return settle_accounts(self, quote, {self.settings.account, *holders})

    def _settle_command(self, quote: Quote, checked: bool = False) -> tuple[Any, ...]:
        """``checked``: settle only if the feed still holds this quote's price and timestamp (set_price)."""
        # Limits are whole units: a buy fills when limit >= ask, a sell when limit <= bid.
        ask_units = int((quote.ask * UNITS_PER_ONE).to_integral_value(rounding=ROUND_CEILING))
        bid_units = int((quote.bid * UNITS_PER_ONE).to_integral_value(rounding=ROUND_FLOOR))
        keys = self.keys
        check = ([keys.price(quote.symbol)], [fmt(quote.price), str(quote.timestamp)]) if checked else ([], [])
        return self.store.eval_command(
            "settle",
            [
                keys.balances,
                keys.orders,
                keys.open_ids,
                keys.active_symbols,
                keys.book(quote.symbol, BUY),
                keys.book(quote.symbol, SELL),
                *check[0],
            ],
            [quote.symbol, ask_units, bid_units, quote.timestamp, self.settings.settle_batch, *check[1]],
        )

    def _settle_more(self, quote: Quote, taken: int, filled: int) -> int:
        """Further batches while the last one was full, so no single script call blocks Valkey for long."""
        more = 0
        while taken == self.settings.settle_batch and filled > 0:
            taken, filled = self.store.run_pipelined([self._settle_command(quote)])[0]
            more += filled
        return more

    # -- balances ---------------------------------------------------------------------------------------------

    def fetch_balance(self) -> dict[str, Any]:
        """The ccxt-unified balance: per asset ``free``/``used``/``total`` and the three maps."""
        return self.balances.fetch(self.now_ms())

    def balance(self, asset: str) -> dict[str, Decimal]:
        return self.balances.of(asset)

    def fund(self, asset: str, amount: Any) -> dict[str, Decimal]:
        """Deposit ``amount`` of ``asset`` into the free balance."""
        return self.balances.fund(asset, amount)

    def edit_balance(self, asset: str, free: Any = None, used: Any = None) -> dict[str, Decimal]:
        """Set the free and/or used balance of an asset to exact values (admin)."""
        return self.balances.edit(asset, free, used)

    def trading_fee(self, symbol: str) -> dict[str, Any]:
        """ccxt-unified trading fee of a symbol."""
        market = self.market(symbol)
        return {
            "info": {"maker": fmt(market.maker), "taker": fmt(market.taker)},
            "symbol": symbol,
            "maker": market.maker,
            "taker": market.taker,
            "percentage": True,
            "tierBased": False,
        }

    # -- orders -----------------------------------------------------------------------------------------------

    def _plan(self, symbol: str, side: Any, type: Any, amount: Any, price: Any, client_order_id: Any) -> OrderPlan:
        market = self.market(symbol)
        request = validate_request(symbol, side, type, amount, price, client_order_id)
        return plan_order(request, market, self.feed.require_quote(symbol), self.now_ms())

    def create_order(
        self,
        symbol: str,
        side: str,
        type: str,
        amount: Any,
        price: Any = None,
        client_order_id: str | None = None,
    ) -> dict[str, Any]:
        """Place an order: market and marketable limits fill at once at the touch price (taker), other
        limits rest and reserve funds. Returns the ccxt-unified order."""
        plan = self._plan(symbol, side, type, amount, price, client_order_id)
        keys = self.keys
        try:
            order_id = self.store.run(
                "place_order",
                [
                    keys.balances,
                    keys.orders,
                    keys.sequence,
                    keys.client_ids,
                    keys.all_ids,
                    keys.open_ids,
                    keys.active_symbols,
                    keys.symbol_ids(symbol),
                    keys.book(symbol, plan.request.side),
                    keys.traded_symbols,
                ],
                [client_order_id or "", symbol, plan.book_score, plan.record_tail(), self.account_number, *plan.moves],
            )
        except InsufficientFunds as exc:
            raise explain_shortfall(exc) from None
        self.join_holders(symbol)
        return order_view({"id": order_id, **plan.record})

    def can_execute(
        self,
        symbol: str,
        side: Any,
        type: Any = "market",
        amount: Any = None,
        price: Any = None,
        client_order_id: Any = None,
    ) -> dict[str, Any]:
        """Dry run of ``create_order``: would it be accepted now, and if not, why. Changes nothing."""
        try:
            plan = self._plan(symbol, side, type, amount, price, client_order_id)
        except MockExchangeError as exc:
            return {"ok": False, "code": exc.code, "reason": exc.message}
        available = self.balances.free_units(plan.spend_asset)
        verdict: dict[str, Any] = {
            "ok": True,
            "code": None,
            "reason": None,
            "price": plan.fill_price,
            "cost": from_units(plan.cost_units),
            "fee": from_units(plan.fee_units),
            "takerOrMaker": "taker" if plan.taker else "maker",
            "required": {"asset": plan.spend_asset, "amount": from_units(plan.spend_units)},
            "free": from_units(available),
        }
        if available < plan.spend_units:
            shortfall = InsufficientFunds(f"free:{plan.spend_asset} {plan.spend_units} {available}")
            explained = explain_shortfall(shortfall)
            verdict.update(ok=False, code=explained.code, reason=explained.message)
        elif client_order_id is not None and self.store.read("HEXISTS", self.keys.client_ids, client_order_id):
            verdict.update(
                ok=False, code="DUPLICATE_CLIENT_ORDER_ID", reason=f"clientOrderId {client_order_id} is already used"
            )
        return verdict

    def _record(self, order_id: Any) -> dict[str, Any]:
        order_id = _check_id(order_id)
        raw = self.store.read("HGET", self.keys.orders, order_id)
        if raw is None:
            raise OrderNotFound(f"order {order_id} does not exist")
        record: dict[str, Any] = json.loads(raw)
        return record

    def fetch_order(self, order_id: Any) -> dict[str, Any]:
        return order_view(self._record(order_id))

    def cancel_order(self, order_id: Any) -> dict[str, Any]:
        """Cancel an open order, releasing exactly what it reserved; ORDER_NOT_OPEN if it already ended."""
        record = self._record(order_id)
        keys, symbol = self.keys, record["symbol"]
        raw = self.store.run(
            "cancel_order",
            [
                keys.balances,
                keys.orders,
                keys.open_ids,
                keys.active_symbols,
                keys.book(symbol, BUY),
                keys.book(symbol, SELL),
            ],
            [record["id"], self.now_ms()],
        )
        return order_view(json.loads(raw))

    def fetch_orders(
        self, status: str | None = None, symbol: str | None = None, tail: int | None = None
    ) -> list[dict[str, Any]]:
        """Orders, oldest first, filtered by status and symbol; ``tail`` keeps only the newest N."""
        return [order_view(record) for record in self._records(status, symbol, tail)]

    def _records(self, status: str | None, symbol: str | None, tail: int | None) -> list[dict[str, Any]]:
        if status is not None and status not in STATUSES:
            raise BadRequest(f"status must be one of {', '.join(STATUSES)}, got {str(status)[:40]!r}")
        if symbol is not None:
            split_symbol(symbol)
        _check_count(tail, "tail")
        keys = self.keys
        index = keys.open_ids if status == "open" else keys.symbol_ids(symbol) if symbol else keys.all_ids
        found: list[dict[str, Any]] = []
        chunk, start = 500, 0
        while tail is None or len(found) < tail:
            ids = self.store.read("ZREVRANGE", index, start, start + chunk - 1)
            if not ids:
                break
            for raw in self.store.read("HMGET", keys.orders, *ids):
                record = json.loads(raw) if raw else None
                if record is None or (status and record["status"] != status):
                    continue
                if symbol and record["symbol"] != symbol:
                    continue
                found.append(record)
                if tail is not None and len(found) == tail:
                    break
            start += chunk
        found.reverse()
        return found

    # -- trades -----------------------------------------------------------------------------------------------

    def order_trades(self, order_id: Any) -> list[dict[str, Any]]:
        """The trades of one order: its fill, or nothing if it has not filled."""
        trade = trade_view(self._record(order_id))
        return [] if trade is None else [trade]

    def fetch_my_trades(
        self, symbol: str | None = None, since: int | None = None, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """The account's fills, oldest first, optionally of one symbol, from ``since`` (ms), at most
        ``limit`` (the newest)."""
        _check_count(limit, "limit")
        trades = [trade_view(record) for record in self._records("closed", symbol, None)]
        result = [t for t in trades if t is not None and (since is None or t["timestamp"] >= since)]
        result.sort(key=lambda t: (t["timestamp"], int(t["id"])))
        return result[-limit:] if limit else result

    # -- admin ------------------------------------------------------------------------------------------------

    def reset(self) -> None:
        """Wipe balances and orders of the account; prices and the id sequence stay (ids never repeat)."""
        reset_account(self)

    def start_tick_loop(self) -> None:
        """Notice outside price writes: at once through keyspace notifications (``engine.notifications``),
        and every ``tick_loop_sec`` by a pass that settles every symbol with open orders and records any write
        not seen yet, in background threads."""
        self.tick_loop.start()
        self.notifications.start()

    def stop_tick_loop(self) -> None:
        self.notifications.stop()
        self.tick_loop.stop()


def _check_count(value: Any, name: str) -> None:
    """``tail`` and ``limit``: None, or a positive integer."""
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise BadRequest(f"{name} must be a positive integer, got {value!r}")


def _check_id(order_id: Any) -> str:
    if isinstance(order_id, int) and not isinstance(order_id, bool):
        order_id = str(order_id)
    if not isinstance(order_id, str):
        raise BadRequest(f"order id must be a string, got {type(order_id).__name__}")
    if not order_id.isdigit() or len(order_id) > _MAX_ID_LENGTH:
        raise OrderNotFound(f"order {order_id[:40]!r} does not exist")
    return order_id
