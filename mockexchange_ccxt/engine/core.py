"""``Engine``: the spot exchange itself, used by every face (ccxt class, REST app, CLI, back-tests).

Each public method validates its input completely in Python, computes exact amounts, then makes one atomic
script call (or a read). A refused call raises a ``MockExchangeError`` and has changed nothing. Orders live in
the mixins beside this module: placing and canceling (``trading.py``), reading (``queries.py``) and settling
(``settlement.py``).
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

from ..config import Settings
from ..keys import DEFAULT_ACCOUNT, Keys
from .accounts import Accounts
from .balances import Balances
from .book_trading import BookTrading
from .clock import Clock, WallClock
from .embedded import EmbeddedValkey
from .every_account import AccountViews, active_by_symbol, reset_account, settle_accounts, settle_symbol
from .history import History
from .market_data import MarketData
from .markets import Market, is_symbol, split_symbol
from .money import fmt
from .notifications import Notifications
from .placement import QuoteMemory
from .prices import PriceFeed, quote_from_reply
from .queries import QueriesMixin
from .retention import RetentionMixin, trim_every_account
from .rules import load_rules
from .settlement import SettlementMixin
from .store import Store
from .tick_loop import TickLoop

log = logging.getLogger("mockexchange_ccxt.engine")

#: How many symbols' markets an engine keeps built (any valid BASE/QUOTE may be asked for).
_MARKETS_KEPT = 10_000


class Engine(BookTrading, QueriesMixin, SettlementMixin, MarketData, AccountViews, RetentionMixin):
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
        self.quote_memory = QuoteMemory(self.feed)  # shared with the account views: the feed is everyone's
        self.rules = load_rules(self.settings.markets_file)
        self._markets: dict[str, Market] = {}  # shared with the account views, as the rules are
        self.accounts = Accounts(self.store, self.keys, self.now_ms)
        self._number = 0 if self.settings.account == DEFAULT_ACCOUNT else None
        self._root = self
        self.history = History(self.store, self.keys, self.settings.history_days)
        self.tick_loop = TickLoop(
            lambda: active_by_symbol(self),
            lambda s, a: settle_symbol(self, s, a),
            self.settings.tick_loop_sec,
            self.notice_outside_writes,
            lambda: trim_every_account(self),
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
        """The rules of one symbol (format checked; whether it is priced is checked when trading). Built once per
        symbol: the rules and rates are fixed for the engine's life, and every order asks."""
        market = self._markets.get(symbol) if isinstance(symbol, str) else None
        if market is None:
            split_symbol(symbol)
            if len(self._markets) >= _MARKETS_KEPT:
                self._markets.clear()
            market = self._markets[symbol] = self.rules.market(
                symbol, self.settings.maker_rate, self.settings.taker_rate
            )
        return market

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

    # -- admin ------------------------------------------------------------------------------------------------

    def reset(self) -> None:
        """Wipe balances and orders of the account; prices and the id sequence stay (ids never repeat)."""
        reset_account(self)

    def start_tick_loop(self) -> None:
        """Notice outside price writes: at once through keyspace notifications (``engine.notifications``),
        and every ``tick_loop_sec`` by a pass that settles every symbol with open orders and records any write
        not seen yet, in background threads. The passes also trim finished orders past their retention."""
        self.tick_loop.start()
        self.notifications.start()

    def stop_tick_loop(self) -> None:
        self.notifications.stop()
        self.tick_loop.stop()
