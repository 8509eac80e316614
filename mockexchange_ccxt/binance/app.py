"""The dialect's WSGI app (Falcon), and the dispatcher that serves it beside the seed's REST API on one port.

A request is answered in three steps, each with Binance's errors: read the parameters from the query string and
the form body (whatever the Content-Type says, as Binance does), authenticate a signed endpoint (key, signature,
time), then run the endpoint's handler over the route table. Anything unexpected is logged and answered
``{"code": -1000}`` with a 500, never a traceback.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import falcon

from ..config import Settings
from ..engine import Engine
from ..errors import MockExchangeError
from ..routes import ACCOUNT_HEADER
from ..web.auth import KeyCheck
from ..web.body import BodyKeeper
from . import errors as e
from .auth import KEY_HEADER, Lookup, authenticate
from .context import Context, SymbolIndex
from .endpoints import ENDPOINTS, PREFIXES, Endpoint
from .params import collect

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger("mockexchange_ccxt.binance")


class Dialect:
    """Serves the endpoints for one engine; ``lookup`` maps an API key to its holder (account and secret)."""

    def __init__(self, engine: Engine, settings: Settings, lookup: Lookup | None = None) -> None:
        self.engine = engine
        self.settings = settings
        keys = KeyCheck(settings)  # the admin key made ready once, not per signed request
        self.lookup = lookup or (lambda api_key: keys.owner(engine, api_key))
        self.symbols = SymbolIndex()

    def serve(self, endpoint: Endpoint, req: falcon.Request) -> Any:
        query = req.query_string or ""
        body = _read_form(req)
        raw = collect(query, body)
        ctx = Context(self.engine, self.symbols)
        if endpoint.signed:
            ctx = self._signed(ctx, req, query, body, raw)
        return endpoint.handler(ctx, endpoint.params.read(raw, endpoint.signed))

    def _signed(self, ctx: Context, req: falcon.Request, query: str, body: str, raw: dict[str, str]) -> Context:
        """The context of a signed request: its key's account. As on the REST API, the admin key (or anyone
        under TEST_ENV, where nothing is checked) may act as another account with the ``x-account`` header."""
        other = req.get_header(ACCOUNT_HEADER) or None
        if not self.settings.auth_required:
            return Context(self.engine, self.symbols, other)
        owner = authenticate(self.lookup, req.get_header(KEY_HEADER), query, body, raw, ctx.now_ms())
        engine = self.engine.for_account(owner.account, owner.number)
        return Context(engine, self.symbols, other if owner.admin else None)


def _read_form(req: falcon.Request) -> str:
    """The form body as text (read within the REST API's bounds: ``web.body``)."""
    raw = req.context.body.read()
    try:
        return str(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise e.BinanceError(-1100, "Illegal characters found in a parameter.") from None


class _Resource:
    """One path; a responder per method it serves, so Falcon answers other methods with 405 and ``Allow``."""

    def __init__(self, dialect: Dialect, endpoints: list[Endpoint]) -> None:
        self.dialect = dialect
        self.by_method = {endpoint.method: endpoint for endpoint in endpoints}
        for method in self.by_method:
            setattr(self, f"on_{method.lower()}", self._serve)

    def _serve(self, req: falcon.Request, resp: falcon.Response) -> None:
        result = self.dialect.serve(self.by_method[req.method], req)
        resp.data = json.dumps(result, separators=(",", ":")).encode()
        resp.content_type = falcon.MEDIA_JSON


def _answer(resp: falcon.Response, error: e.BinanceError) -> None:
    resp.status = falcon.code_to_http_status(error.http_status)
    resp.content_type = falcon.MEDIA_JSON
    resp.data = json.dumps(error.to_dict(), separators=(",", ":")).encode()


def _on_binance(req: falcon.Request, resp: falcon.Response, error: Exception, params: Any) -> None:
    assert isinstance(error, e.BinanceError)
    _answer(resp, error)


def _on_engine(req: falcon.Request, resp: falcon.Response, error: Exception, params: Any) -> None:
    assert isinstance(error, MockExchangeError)
    _answer(resp, e.from_engine(error))


def _on_http(req: falcon.Request, resp: falcon.Response, error: Exception, params: Any) -> None:
    assert isinstance(error, falcon.HTTPError)
    status = error.status_code if 400 <= error.status_code < 500 else 400
    _answer(resp, e.BinanceError(-1020, e.UNSUPPORTED_OPERATION, status))
    resp.set_headers(error.headers or {})  # the Allow header of a 405


def _on_unexpected(req: falcon.Request, resp: falcon.Response, error: Exception, params: Any) -> None:
    log.exception("unexpected error serving %s %s", req.method, req.path)
    _answer(resp, e.BinanceError(-1000, e.UNKNOWN, 500))


def create_dialect_app(
    engine: Engine, settings: Settings | None = None, lookup: Lookup | None = None
) -> falcon.App[falcon.Request, falcon.Response]:
    """The Binance dialect alone (``with_dialect`` serves it beside the seed's API)."""
    dialect = Dialect(engine, settings or engine.settings, lookup)
    app = falcon.App(middleware=[BodyKeeper()])
    app.req_options.auto_parse_qs_csv = False
    app.add_error_handler(Exception, _on_unexpected)
    app.add_error_handler(falcon.HTTPError, _on_http)
    app.add_error_handler(MockExchangeError, _on_engine)
    app.add_error_handler(e.BinanceError, _on_binance)
    by_path: dict[str, list[Endpoint]] = {}
    for endpoint in ENDPOINTS:
        by_path.setdefault(endpoint.path, []).append(endpoint)
    for path, endpoints in by_path.items():
        app.add_route(path, _Resource(dialect, endpoints))
    return app


class WithDialect:
    """One WSGI app for one port: paths under the dialect's prefixes go to the dialect, the rest to the seed's
    REST API (whose auth, errors and routes stay exactly as they are)."""

    def __init__(self, rest: WSGIApplication, dialect: WSGIApplication) -> None:
        self.rest, self.dialect = rest, dialect

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO") or ""
        app = self.dialect if path.startswith(PREFIXES) else self.rest
        return app(environ, start_response)


def with_dialect(rest: WSGIApplication, engine: Engine, settings: Settings | None = None) -> WithDialect:
    """``rest`` with the Binance dialect served beside it."""
    return WithDialect(rest, create_dialect_app(engine, settings))
