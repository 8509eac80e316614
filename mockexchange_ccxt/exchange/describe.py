"""What the exchange class tells ccxt about itself: ``describe()`` and the error-code -> ccxt class table."""

from __future__ import annotations

from typing import Any

from ccxt.base import errors as ccxt_errors
from ccxt.base.decimal_to_precision import TICK_SIZE

from ..engine.candles import TIMEFRAMES

#: Engine/REST error code -> the exact ccxt exception a bot receives (DESIGN.md section 6).
EXCEPTIONS_BY_CODE: dict[str, type[Exception]] = {
    "BAD_REQUEST": ccxt_errors.BadRequest,
    "BAD_SYMBOL": ccxt_errors.BadSymbol,
    "INVALID_ORDER": ccxt_errors.InvalidOrder,
    "INSUFFICIENT_FUNDS": ccxt_errors.InsufficientFunds,
    "ORDER_IMMEDIATELY_FILLABLE": ccxt_errors.OrderImmediatelyFillable,
    "AUTHENTICATION": ccxt_errors.AuthenticationError,
    "FORBIDDEN": ccxt_errors.PermissionDenied,
    "ACCOUNT_NOT_FOUND": ccxt_errors.BadRequest,
    "ORDER_NOT_FOUND": ccxt_errors.OrderNotFound,
    "NOT_FOUND": ccxt_errors.BadRequest,
    "METHOD_NOT_ALLOWED": ccxt_errors.BadRequest,
    "ORDER_NOT_OPEN": ccxt_errors.InvalidOrder,
    "DUPLICATE_CLIENT_ORDER_ID": ccxt_errors.DuplicateOrderId,
    "ACCOUNT_EXISTS": ccxt_errors.BadRequest,
    "LENGTH_REQUIRED": ccxt_errors.BadRequest,
    "PAYLOAD_TOO_LARGE": ccxt_errors.BadRequest,
    "NOT_SUPPORTED": ccxt_errors.NotSupported,
    "STORE_UNAVAILABLE": ccxt_errors.ExchangeNotAvailable,
    "INTERNAL": ccxt_errors.ExchangeError,
}

#: Unified methods the mock emulates; every other ``has`` flag is False and raises NotSupported.
EMULATED = (
    "fetchMarkets",
    "fetchTicker",
    "fetchTickers",
    "fetchBalance",
    "createOrder",
    "createMarketOrder",
    "createLimitOrder",
    "createMarketBuyOrder",
    "createMarketSellOrder",
    "createLimitBuyOrder",
    "createLimitSellOrder",
    "createMarketOrderWithCost",
    "createMarketBuyOrderWithCost",
    "createMarketSellOrderWithCost",
    "createStopOrder",
    "createStopMarketOrder",
    "createStopLimitOrder",
    "createTriggerOrder",
    "createStopLossOrder",
    "createTakeProfitOrder",
    "createPostOnlyOrder",
    "cancelOrder",
    "cancelOrders",
    "cancelAllOrders",
    "fetchOrder",
    "fetchOrders",
    "fetchOpenOrders",
    "fetchClosedOrders",
    "fetchCanceledOrders",
    "fetchMyTrades",
    "fetchOrderTrades",
    "fetchTradingFee",
    "fetchTradingFees",
    "fetchTime",
    "fetchStatus",
    "fetchOrderBook",
    "fetchL2OrderBook",
    "fetchOHLCV",
)

#: Methods a bot may reach for that a price-only spot venue cannot honestly answer.
NOT_EMULATED = (
    "fetchTrades",
    "fetchCurrencies",
    "fetchDepositAddress",
    "withdraw",
    "fetchDeposits",
    "fetchWithdrawals",
    "editOrder",
    "createOrders",
    "createReduceOnlyOrder",
    "createOrderWithTakeProfitAndStopLoss",
    "createTrailingAmountOrder",
    "createTrailingPercentOrder",
    "fetchPositions",
    "setLeverage",
    "margin",
    "swap",
    "future",
    "option",
    "ws",
    "watchTicker",
    "watchOrders",
    "watchBalance",
)


def describe_mock(commission: float) -> dict[str, Any]:
    """The class's own part of ``describe()``; ccxt deep-merges it over its defaults."""
    return {
        "id": "mockexchange",
        "name": "MockExchange",
        "countries": [],
        "version": "v1",
        "rateLimit": 0,
        "certified": False,
        "pro": False,
        "has": {
            "CORS": None,
            "spot": True,
            "publicAPI": True,
            "privateAPI": True,
            **{name: True for name in EMULATED},
            **{name: False for name in NOT_EMULATED},
        },
        "timeframes": {name: name for name in TIMEFRAMES},
        "urls": {
            "logo": None,
            "api": {"rest": None},
            "www": "https://pypi.org/project/mockexchange_ccxt/",
            "doc": "https://pypi.org/project/mockexchange_ccxt/",
        },
        "requiredCredentials": {"apiKey": False, "secret": False},
        "precisionMode": TICK_SIZE,
        "fees": {
            "trading": {
                "tierBased": False,
                "percentage": True,
                "maker": commission,
                "taker": commission,
                "feeSide": "quote",
            }
        },
        "options": {
            "serverUrl": None,
            "redisUrl": None,
            "account": None,
            "commission": None,
            # read by ccxt's base helpers and by freqtrade: a market order takes an amount, or a cost in params
            "createMarketBuyOrderRequiresPrice": False,
            "createMarketSellOrderRequiresPrice": False,
        },
        "exceptions": {"exact": dict(EXCEPTIONS_BY_CODE), "broad": {}},
    }
