"""The REST contract in one place: every route, its parameters, and the engine call that serves it.

Both faces use this table: the Falcon app (``web/``) serves each route over HTTP, and the ccxt class's
in-process transport calls ``dispatch`` with the very same request, so validation, errors and answers are
identical whichever way a bot connects. Nothing here knows HTTP or ccxt.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from types import MappingProxyType
from typing import Any, NamedTuple
from urllib.parse import quote, urlencode

from .engine import Engine
from .engine.every_account import delete_account, reset_all, target
from .engine.money import loose_digits
from .errors import BadRequest, NotFound
from .fields import BOOLEAN, EXACT_TYPES, INTEGER, LEVELS, NUMBER, STRING, STRINGS, Field, check_body
from .market_routes import market_routes
from .order_fields import ORDER_FIELDS, place
from .order_routes import order_read_routes

__all__ = [
    "BOOLEAN",
    "INTEGER",
    "LEVELS",
    "NUMBER",
    "ROUTES",
    "STRING",
    "STRINGS",
    "Call",
    "Field",
    "Route",
    "dispatch",
]
#: The header with which the admin key (or anyone under TEST_ENV) acts as another account.
ACCOUNT_HEADER = "x-account"


#: The path and query of a call that has none (read-only, so one can be shared).
EMPTY: Mapping[str, Any] = MappingProxyType({})


class Call(NamedTuple):
    """One request, transport-neutral: route name, path parameters, query and JSON body, and the account it
    acts as (None: the engine's own; over HTTP the ``x-account`` header, which only the admin key may send).

    ``floats``: the caller turns every number of the answer into a float anyway (the ccxt class in process), so a
    route that can build floats for less than exact Decimals cost (``ohlcv``) answers floats; the others answer as
    always, and over HTTP the answer is JSON text whatever this says. A named tuple, immutable and cheap to make:
    one is made per call of the ccxt class."""

    route: str
    path: Mapping[str, str] = EMPTY
    query: Mapping[str, Any] = EMPTY
    body: Mapping[str, Any] | None = None
    account: str | None = None
    floats: bool = False


Handler = Callable[[Engine, Call], Any]


@dataclass(frozen=True)
class Route:
    name: str
    method: str
    path: str
    handler: Handler
    summary: str
    query: tuple[Field, ...] = ()
    body: tuple[Field, ...] | None = None
    admin: bool = False
    status: int = 200  # the HTTP status of a success (the app answers it, the OpenAPI document declares it)

    @cached_property
    def body_names(self) -> frozenset[str]:
        """The body's field names, for the check of every call (built once, not per call)."""
        return frozenset(f.name for f in self.body or ())

    @cached_property
    def query_names(self) -> frozenset[str]:
        return frozenset(f.name for f in self.query)

    @cached_property
    def body_types(self) -> dict[str, tuple[type, ...]]:
        """Each body field's accepted Python types, exactly (no subclass): a field whose value's type is among
        them needs no further check (``check_body``'s quick test; anything else gets the full one)."""
        return {f.name: EXACT_TYPES.get(f.kind, ()) for f in self.body or ()}

    @cached_property
    def required_body(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.body or () if f.required)

    def url_path(self, params: Mapping[str, str]) -> str:
        """The path with its parameters filled in and URL-encoded (``BTC/USDT`` -> ``BTC%2FUSDT``)."""
        return self.path.format(**{name: quote(str(value), safe="") for name, value in params.items()})


def _int(value: Any, name: str) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or (isinstance(value, str) and loose_digits(value)):
        raise BadRequest(f"{name} must be an integer, got {str(value)[:40]!r}")
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise BadRequest(f"{name} must be an integer, got {str(value)[:40]!r}") from None
    if number < 0:
        raise BadRequest(f"{name} may not be negative")
    return number


# -- handlers -----------------------------------------------------------------------------------------------


def _balance_of(engine: Engine, call: Call) -> dict[str, Any]:
    asset = call.path["asset"]
    return {"asset": asset, **engine.balance(asset)}


def _set_price(engine: Engine, call: Call) -> dict[str, Any]:
    body = dict(call.body or {})
    filled = engine.set_price(**body)
    return {"symbol": body["symbol"], "filled": filled}


def _reset(engine: Engine, call: Call) -> dict[str, Any]:
    body = call.body or {}
    if body.get("all"):
        if body.get("account") is not None:
            raise BadRequest("give either account or all, not both")
        return {"reset": True, "accounts": reset_all(engine)}
    if body.get("all") is False and body.get("account") is None:
        raise BadRequest('"all": false resets nothing; give an account, or leave "all" out')
    target(engine, body.get("account")).reset()
    return {"reset": True}


def _admin(method: Callable[..., dict[str, Any]]) -> Handler:
    """An admin route on the account named by the body's ``account`` (default: the one the call acts as)."""

    def handler(engine: Engine, call: Call) -> dict[str, Any]:
        body = dict(call.body or {})
        account = target(engine, body.pop("account", None))
        return {"asset": body["asset"], **method(account, **body)}

    return handler


def _status(engine: Engine, call: Call) -> dict[str, Any]:
    engine.store.ping()
    return {"status": "ok", "updated": engine.now_ms()}


def _tickers(engine: Engine, call: Call) -> dict[str, Any]:
    symbols = call.query.get("symbols")
    return engine.tickers(symbols.split(",") if symbols else None)


_ACCOUNT = Field("account", STRING, False, "the account (default: the one the request acts as, main for the admin)")

ROUTES: tuple[Route, ...] = (
    Route("status", "GET", "/status", _status, "Service status (also checks Valkey)"),
    Route("time", "GET", "/time", lambda e, c: {"serverTime": e.now_ms()}, "Server time in ms"),
    Route(
        "fees",
        "GET",
        "/fees",
        lambda e, c: {"maker": e.settings.maker_rate, "taker": e.settings.taker_rate},
        "Fee rates charged: maker (a resting order's fill) and taker",
    ),
    Route(
        "markets", "GET", "/markets", lambda e, c: list(e.markets().values()), "Markets: every symbol the feed prices"
    ),
    Route(
        "tickers",
        "GET",
        "/tickers",
        _tickers,
        "Tickers of every priced symbol",
        (Field("symbols", STRING, False, "comma-separated symbols"),),
    ),
    Route("ticker", "GET", "/tickers/{symbol}", lambda e, c: e.ticker(c.path["symbol"]), "Ticker of one symbol"),
    Route("balance", "GET", "/balance", lambda e, c: e.fetch_balance(), "Balance of every asset"),
    Route("balance_of", "GET", "/balance/{asset}", _balance_of, "Balance of one asset"),
    *order_read_routes(),
    Route(
        "create_order",
        "POST",
        "/orders",
        lambda e, c: place(e.create_order, c.body or {}),
        "Place an order (market when type is absent)",
        body=ORDER_FIELDS,
        status=201,
    ),
    Route(
        "can_execute",
        "POST",
        "/orders/can_execute",
        lambda e, c: place(e.can_execute, c.body or {}),
        "Would this order be accepted now? Changes nothing",
        body=ORDER_FIELDS,
    ),
    Route(
        "cancel_order",
        "POST",
        "/orders/{oid}/cancel",
        lambda e, c: e.cancel_order(c.path["oid"], (c.body or {}).get("symbol")),
        "Cancel an open order",
        body=(Field("symbol", STRING, False, "only if it is an order of this symbol"),),
    ),
    Route(
        "cancel_orders",
        "POST",
        "/orders/cancel",
        lambda e, c: e.cancel_orders((c.body or {})["ids"], (c.body or {}).get("symbol")),
        "Cancel several open orders at once: all or nothing",
        body=(Field("ids", STRINGS, True, "order ids"), Field("symbol", STRING, False, "only orders of this symbol")),
    ),
    Route(
        "cancel_all_orders",
        "POST",
        "/orders/cancel_all",
        lambda e, c: e.cancel_all_orders((c.body or {}).get("symbol")),
        "Cancel every open order (of one symbol): each symbol's at once",
        body=(Field("symbol", STRING, False, "only this symbol"),),
    ),
    Route(
        "edit_balance",
        "POST",
        "/admin/edit_balance",
        _admin(Engine.edit_balance),
        "Set free and/or used of an asset",
        body=(Field("asset", STRING, True), Field("free", NUMBER), Field("used", NUMBER), _ACCOUNT),
        admin=True,
    ),
    Route(
        "fund",
        "POST",
        "/admin/fund",
        _admin(Engine.fund),
        "Deposit into the free balance",
        body=(Field("asset", STRING, True), Field("amount", NUMBER, True), _ACCOUNT),
        admin=True,
    ),
    Route(
        "set_price",
        "POST",
        "/admin/price",
        _set_price,
        "Publish a price (feed hash sym_<SYMBOL>) and settle the symbol at once",
        body=(
            Field("symbol", STRING, True),
            Field("price", NUMBER, True),
            Field("timestamp", INTEGER, False, "ms; default now"),
            Field("bid", NUMBER),
            Field("ask", NUMBER),
            Field("volume", NUMBER, False, "base amount traded since the previous price"),
            Field("bids", LEVELS, False, "depth: [price, amount] pairs, best first"),
            Field("asks", LEVELS, False, "depth: [price, amount] pairs, best first"),
        ),
        admin=True,
    ),
    Route(
        "reset",
        "POST",
        "/admin/reset",
        _reset,
        "Wipe balances and orders of an account, or of all (prices stay)",
        body=(_ACCOUNT, Field("all", BOOLEAN, False, "true: every account")),
        admin=True,
    ),
    Route(
        "create_account",
        "POST",
        "/admin/accounts",
        lambda e, c: e.accounts.create((c.body or {})["account"]),
        "Create an account; answers its API key and secret, shown once",
        body=(Field("account", STRING, True, "1 to 32 letters, digits, _ or -"),),
        admin=True,
        status=201,
    ),
    Route("accounts", "GET", "/admin/accounts", lambda e, c: e.accounts.list(), "Accounts (never keys)", admin=True),
    Route(
        "rotate_account",
        "POST",
        "/admin/accounts/{account}/rotate",
        lambda e, c: e.accounts.rotate(c.path["account"]),
        "A new API key and secret for an account; the old ones stop at once",
        body=(),
        admin=True,
    ),
    Route(
        "revoke_account",
        "POST",
        "/admin/accounts/{account}/revoke",
        lambda e, c: e.accounts.revoke(c.path["account"]),
        "The account's key stops at once; its books stay",
        body=(),
        admin=True,
    ),
    Route(
        "delete_account",
        "DELETE",
        "/admin/accounts/{account}",
        lambda e, c: delete_account(e, c.path["account"]),
        "Delete an account: its key stops, its books are wiped",
        admin=True,
    ),
    *market_routes(),
)

ROUTES_BY_NAME: dict[str, Route] = {route.name: route for route in ROUTES}


def dispatch(engine: Engine, call: Call) -> Any:
    """Serve one call: validate its body against the route, then run the engine method."""
    route = ROUTES_BY_NAME.get(call.route)
    if route is None:
        raise NotFound(f"no route named {call.route!r}")
    body = check_body(route, call.body)
    if call.query:
        unknown = sorted(call.query.keys() - route.query_names)
        if unknown:
            raise BadRequest(f"unknown query parameter(s): {', '.join(map(repr, unknown))[:200]}")
    if call.account is not None:
        if call.account != engine.settings.account:
            engine = engine.for_account(call.account, engine.accounts.require(call.account))
    elif body is call.body:
        return route.handler(engine, call)  # nothing to change: the call as it came
    return route.handler(engine, Call(call.route, call.path, call.query, body, None, call.floats))


def _json_default(value: Any) -> str:
    if isinstance(value, Decimal):
        return format(value, "f")
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def http_request(server_url: str, api_key: str | None, call: Call) -> dict[str, Any]:
    """The HTTP request of a call (url, method, body, headers), as ccxt's ``sign()`` returns it and as the CLI
    sends it: URL from the route table, JSON body with exact decimals, the API key header."""
    route = ROUTES_BY_NAME[call.route]
    url = server_url.rstrip("/") + route.url_path(call.path)
    query = {name: value for name, value in call.query.items() if value is not None}
    if query:
        url += "?" + urlencode(query)
    headers = {"x-api-key": api_key or ""}
    if call.account is not None:
        headers[ACCOUNT_HEADER] = call.account
    body = None
    if call.body is not None:
        body = json.dumps(call.body, default=_json_default, separators=(",", ":"))
        headers["Content-Type"] = "application/json"
    return {"url": url, "method": route.method, "body": body, "headers": headers}
