"""The REST API: a Falcon WSGI app over the route table of ``routes.py``.

Every route of the table becomes an HTTP route; the app adds only what HTTP needs: who calls (``auth.py``: the
admin key, trading keys of accounts, ``x-account``), JSON in and out with exact decimals (``jsonio.py``:
numbers in bodies are read as Decimals; answers carry decimal strings), bodies read safely (``body.py``: a size
limit, chunks, no body where a route takes none, connections kept usable), and errors as
``{"error": {"code", "message"}}`` with the status of their code. No request can produce a 500 with a
traceback or the internals of a script: anything unexpected is logged and answered as a plain INTERNAL.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import falcon

from ..config import Settings
from ..engine import Engine
from ..errors import (
    BadRequest,
    InternalError,
    MethodNotAllowed,
    MockExchangeError,
    NotFound,
)
from ..routes import ROUTES, Call, Route, dispatch
from .auth import Authentication, acting_as
from .body import BodyKeeper
from .jsonio import parse_body, to_json
from .openapi import openapi_document, swagger_page

__all__ = ["create_app", "to_json"]

if TYPE_CHECKING:
    from ..binance.app import WithDialect

log = logging.getLogger("mockexchange_ccxt.web")

#: What a 500 says: the details (a script's hash and line, a traceback) go to the log only.
INTERNAL_MESSAGE = "internal error; the server log has the details"


class RouteResource:
    """Serves every method of one path by dispatching to the route table.

    Only the methods the table lists get a responder (``on_get``/``on_post``), so Falcon itself answers any
    other method with 405 and an ``Allow`` header, instead of a responder failing to find its route.
    """

    def __init__(self, engine: Engine, routes: list[Route], split_symbol: bool) -> None:
        self.engine = engine
        self.by_method = {route.method: route for route in routes}
        self.split_symbol = split_symbol
        for method in self.by_method:
            setattr(self, f"on_{method.lower()}", self._serve)

    def _serve(self, req: falcon.Request, resp: falcon.Response, **params: str) -> None:
        route = self.by_method[req.method]
        engine, account = acting_as(self.engine, req, route)
        if self.split_symbol:  # a symbol whose '/' reached us decoded: /tickers/BTC/USDT
            params["symbol"] = f"{params['symbol']}/{params.pop('quote')}"
        raw = req.context.body.read()
        if route.body is None and raw:
            raise BadRequest(f"{route.method} {route.path} takes no body")
        body = parse_body(raw) if route.body is not None else None
        if any(isinstance(value, list) for value in req.params.values()):
            raise BadRequest("a query parameter is given twice")
        # a blank value means "not given", but its name must still be one the route knows
        query: dict[str, Any] = {name: value or None for name, value in req.params.items()}
        result = dispatch(engine, Call(route.name, params, query, body, account))
        resp.data = to_json(result)
        resp.content_type = falcon.MEDIA_JSON
        resp.status = falcon.code_to_http_status(route.status)


def _error_response(resp: falcon.Response, error: MockExchangeError) -> None:
    resp.status = falcon.code_to_http_status(error.http_status)
    resp.content_type = falcon.MEDIA_JSON
    resp.data = to_json({"error": error.to_dict()})


def _handle_engine_error(req: falcon.Request, resp: falcon.Response, error: Exception, params: Any) -> None:
    assert isinstance(error, MockExchangeError)
    if isinstance(error, InternalError):  # e.g. a script's error reply, with its hash and line number
        log.error("internal error serving %s %s: %s", req.method, req.path, error.message)
        error = InternalError(INTERNAL_MESSAGE)
    _error_response(resp, error)


def _handle_http_error(req: falcon.Request, resp: falcon.Response, error: Exception, params: Any) -> None:
    assert isinstance(error, falcon.HTTPError)
    status = error.status_code
    mapped: MockExchangeError
    if status == 404:
        mapped = NotFound(f"no route {req.method} {req.path[:200]}")
    elif status == 405:
        mapped = MethodNotAllowed(f"{req.method} is not allowed on {req.path[:200]}")
    else:
        mapped = BadRequest(str(error.title or error.description or "bad request"))
        mapped.http_status = status if 400 <= status < 500 else 400
    _error_response(resp, mapped)
    resp.set_headers(error.headers or {})  # e.g. the Allow header that RFC 9110 requires on a 405


def _handle_unexpected(req: falcon.Request, resp: falcon.Response, error: Exception, params: Any) -> None:
    log.exception("unexpected error serving %s %s", req.method, req.path)
    _error_response(resp, InternalError(INTERNAL_MESSAGE))


def create_app(engine: Engine, settings: Settings | None = None) -> WithDialect:
    """The WSGI app serving ``engine`` (with Binance's dialect beside it under ``/api/``, ``/sapi/``);
    ``settings`` decide auth and /docs (default: the engine's)."""
    settings = settings or engine.settings
    middleware: list[Any] = [BodyKeeper(), Authentication(engine, settings)]  # the body first, then who calls
    app = falcon.App(middleware=middleware)
    app.req_options.auto_parse_qs_csv = False
    app.req_options.keep_blank_qs_values = True  # so that a blank value's name is still checked
    app.add_error_handler(Exception, _handle_unexpected)
    app.add_error_handler(falcon.HTTPError, _handle_http_error)
    app.add_error_handler(MockExchangeError, _handle_engine_error)
    by_path: dict[str, list[Route]] = {}
    for route in ROUTES:
        by_path.setdefault(route.path, []).append(route)
    for path, routes in by_path.items():
        app.add_route(path, RouteResource(engine, routes, split_symbol=False))
        if "{symbol}" in path:
            app.add_route(
                path.replace("{symbol}", "{symbol}/{quote}"), RouteResource(engine, routes, split_symbol=True)
            )
    if settings.test_env:
        document = to_json(openapi_document())
        app.add_route("/openapi.json", _Static(document, falcon.MEDIA_JSON))
        app.add_route("/docs", _Static(swagger_page().encode(), falcon.MEDIA_HTML))
    from ..binance.app import with_dialect  # here: the dialect reads bodies with web.body, so it imports web

    return with_dialect(app, engine, settings)


class _Static:
    def __init__(self, data: bytes, content_type: str) -> None:
        self.data, self.content_type = data, content_type

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.data, resp.content_type = self.data, self.content_type
