"""The dialect's route table: every Binance path served, its method, parameters, and whether it is signed.

Market data is public, as on Binance (served under ``/api/v3`` and, for older clients, ``/api/v1``); account
and order endpoints are signed (``X-MBX-APIKEY`` plus an HMAC-SHA256 ``signature``). Each handler reaches the
engine only through the route table of ``routes.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import account, orders, public
from .context import Context
from .params import Params

Handler = Callable[[Context, dict[str, Any]], Any]

V3, V1, SAPI = "/api/v3/", "/api/v1/", "/sapi/v1/"


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    handler: Handler
    params: Params
    signed: bool


_PUBLIC: tuple[tuple[str, Handler], ...] = (
    ("ping", public.ping),
    ("time", public.server_time),
    ("exchangeInfo", public.exchange_info),
    ("ticker/24hr", public.ticker_24hr),
    ("ticker/price", public.ticker_price),
    ("ticker/bookTicker", public.book_ticker),
    ("depth", public.depth),
    ("klines", public.klines),
    ("uiKlines", public.klines),
    ("trades", public.recent_trades),
    ("aggTrades", public.recent_trades),
)

_ORDERS: tuple[tuple[str, str, Handler], ...] = (
    ("POST", "order", orders.new_order),
    ("POST", "order/test", orders.dry_run_order),
    ("GET", "order", orders.get_order),
    ("DELETE", "order", orders.cancel_order),
    ("GET", "openOrders", orders.open_orders),
    ("DELETE", "openOrders", orders.cancel_open_orders),
    ("POST", "order/cancelReplace", orders.cancel_replace),
)

ENDPOINTS: tuple[Endpoint, ...] = (
    *(
        Endpoint("GET", prefix + name, handler, public.PARAMS[name.replace("uiK", "k")], False)
        for prefix in (V3, V1)
        for name, handler in _PUBLIC
    ),
    *(
        Endpoint(method, V3 + name, handler, orders.PARAMS[f"{name}:{method}"], True)
        for method, name, handler in _ORDERS
    ),
    Endpoint("GET", V3 + "account", account.account, account.PARAMS["account"], True),
    Endpoint("GET", V3 + "allOrders", account.all_orders, account.PARAMS["allOrders"], True),
    Endpoint("GET", V3 + "myTrades", account.my_trades, account.PARAMS["myTrades"], True),
    Endpoint("GET", SAPI + "asset/tradeFee", account.trade_fee, account.PARAMS["tradeFee"], True),
    Endpoint("GET", SAPI + "system/status", public.system_status, public.PARAMS["ping"], False),
)

#: Path prefixes the dialect answers (Binance-style errors for anything under them it does not serve). None of
#: them is a path of the seed's REST API.
PREFIXES = ("/api/", "/sapi/", "/fapi/", "/dapi/", "/eapi/", "/papi/")
