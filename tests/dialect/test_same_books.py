"""One bot scenario, run by MockExchange in process and by an unmodified ccxt.binance through the dialect, each
on its own books in the same Valkey: afterwards the two books are identical (balances, orders and trades to the
last unit; only the times differ)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ccxt
import pytest
from servers import serving

from mockexchange_ccxt import Engine, MockExchange, Settings

from .support import KEY, SECRET, binance

SetPrice = Callable[[str, str], object]


def scenario(ex: Any, set_price: SetPrice) -> None:
    """A day of a simple bot: market entries, a take-profit and a dip-buy, price moves, cancels, a refused order."""
    ex.load_markets()
    ex.create_order("BTC/USDT", "market", "buy", 0.25, None, {"clientOrderId": "entry-1"})
    ex.create_order("ETH/USDT", "market", "buy", 3.3, None, {"clientOrderId": "entry-2"})
    ex.create_order("BTC/USDT", "limit", "sell", 0.1, 52_000.5, {"clientOrderId": "tp-1"})
    ex.create_order("BTC/USDT", "limit", "buy", 0.2, 47_000, {"clientOrderId": "dip-1"})
    ex.create_order("ETH/USDT", "limit", "sell", 1.15, 2_650, {"clientOrderId": "tp-2"})
    set_price("BTC/USDT", "52100")  # the BTC take-profit fills
    ex.create_order("BTC/USDT", "limit", "buy", 0.05, 52_200, {"clientOrderId": "chase-1"})  # marketable: a taker
    set_price("ETH/USDT", "2400")
    ex.cancel_order(ex.fetch_open_orders("BTC/USDT")[0]["id"], "BTC/USDT")
    with pytest.raises(ccxt.InsufficientFunds):
        ex.create_order("ETH/USDT", "market", "buy", 1000, None, {"clientOrderId": "too-big"})
    set_price("ETH/USDT", "2651")  # the ETH take-profit fills
    ex.create_order("ETH/USDT", "market", "sell", 1, None, {"clientOrderId": "exit-2"})
    ex.create_order("ETH/USDT", "limit", "buy", 0.5, 2_000, {"clientOrderId": "late-1"})
    ex.cancel_all_orders("ETH/USDT")


def books(engine: Engine) -> dict[str, Any]:
    """Everything the account holds, without times."""
    timeless = ("timestamp", "datetime", "lastTradeTimestamp", "lastUpdateTimestamp")

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in timeless}
        return [strip(item) for item in value] if isinstance(value, list) else value

    balance = engine.fetch_balance()
    return {
        "balance": {asset: balance[asset] for asset in balance["total"]},
        "orders": [strip(order) for order in engine.fetch_orders()],
        "trades": [strip(trade) for trade in engine.fetch_my_trades()],
    }


def test_mockexchange_and_ccxt_binance_keep_identical_books(engine: Engine, valkey_server: Any, tmp_path: Any) -> None:
    def seeded(prefix: str, **extra: Any) -> Engine:
        settings = Settings(
            redis_url=valkey_server.url, key_prefix=f"{prefix}:", price_key_prefix=f"{prefix}_sym_", data_dir=tmp_path
        )
        seeded_engine = Engine(settings.with_overrides(**extra))
        seeded_engine.set_price("BTC/USDT", "50000")
        seeded_engine.set_price("ETH/USDT", "2500", bid="2499.5", ask="2500.5")
        seeded_engine.fund("USDT", "100000")
        return seeded_engine

    with seeded("mock") as mock_engine, seeded("facade", api_key=KEY, api_secret=SECRET) as facade_engine:
        mock = MockExchange(
            {"options": {"redisUrl": valkey_server.url, "keyPrefix": "mock:", "priceKeyPrefix": "mock_sym_"}}
        )
        scenario(mock, mock.set_price)
        with serving(facade_engine) as url:
            scenario(binance(url), lambda symbol, price: facade_engine.set_price(symbol, price))
        expected = books(mock_engine)
        assert len(expected["orders"]) == 8 and len(expected["trades"]) == 6
        assert books(facade_engine) == expected
