"""``mockexchange``: the exchange from a terminal.

Every command becomes one ``routes.Call`` (``build_call``); only its execution differs: with ``--url`` (or
``MOCKX_URL``) the call goes over HTTP to a running server, otherwise straight to Valkey through
``routes.dispatch`` on an engine configured like the server (``REDIS_URL`` or the embedded Valkey). Answers
are rendered as aligned tables, or printed as the API's raw JSON with ``--json``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn, Protocol
from urllib.parse import urlsplit

from . import __version__
from .cli_accounts import ACCOUNT_ROUTES, accounts_call, add_accounts_command, render_accounts
from .cli_orders import add_order_commands, order_call
from .config import ENV_VARS, ConfigError, Settings
from .engine import Engine
from .errors import MockExchangeError
from .feeds import commands as feed_commands
from .routes import Call, dispatch, http_request
from .serve import host_address, port_number, worker_count

#: The CLI's own environment variables (the server's are in ``config.ENV_VARS``).
ENV_URL = "MOCKX_URL"
ENV_API_KEY = "API_KEY"

EXIT_OK = 0
EXIT_REFUSED = 1  # can-execute: the order would be refused
EXIT_USAGE = 2  # bad command line, bad request (4xx)
EXIT_NOT_FOUND = 3  # unknown order (404)
EXIT_AUTH = 4  # missing or wrong API key (401)
EXIT_UNAVAILABLE = 5  # Valkey or the server unreachable, or a 5xx

EPILOG = (
    f"""\
environment (the CLI's own):
  {ENV_URL:<18} server URL, as --url (unset: talk straight to Valkey)
  {ENV_API_KEY:<18} the key sent as x-api-key with --url, as --api-key (serve: the key to require)

environment (direct mode and serve, as the server reads it):
"""
    + "".join(f"  {var:<18} {doc}\n" for var, (_field, doc) in ENV_VARS.items() if var != ENV_API_KEY)
    + f"""
exit codes:
  {EXIT_OK} ok; {EXIT_REFUSED} can-execute says the order would be refused;
  {EXIT_USAGE} usage or configuration error, or bad request (4xx); {EXIT_NOT_FOUND} not found (404);
  {EXIT_AUTH} authentication (401); {EXIT_UNAVAILABLE} Valkey or the server unavailable (5xx)
"""
)


class CliError(Exception):
    """An error to print as ``error CODE: message`` (as the API's JSON error with ``--json``) and exit with
    ``exit_code``; ``usage`` is the command's usage line, shown before a usage error's message."""

    def __init__(self, code: str, message: str, exit_code: int, usage: str | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.exit_code, self.usage = code, message, exit_code, usage


def exit_code_for(http_status: int) -> int:
    if http_status == 401:
        return EXIT_AUTH
    if http_status == 404:
        return EXIT_NOT_FOUND
    if 400 <= http_status < 500:
        return EXIT_USAGE
    return EXIT_UNAVAILABLE


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise CliError("USAGE", message, EXIT_USAGE, usage=self.format_usage())


def _add_global_flags(parser: argparse.ArgumentParser, top: bool) -> None:
    """Global flags, accepted before or after the command: a command's copy defaults to SUPPRESS so it does
    not reset a value given before it (each parser gets its own actions: argparse shares a parent's)."""
    default: Any = None if top else argparse.SUPPRESS
    parser.add_argument("--json", action="store_true", default=False if top else default, help="print the raw JSON")
    parser.add_argument("--url", default=default, help=f"server URL (env {ENV_URL}); else straight to Valkey")
    parser.add_argument("--api-key", default=default, help=f"x-api-key sent with --url (env {ENV_API_KEY})")
    parser.add_argument("--account", default=default, help="act as this account (the admin key; default main)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="mockexchange",
        description="A zero-risk spot exchange for ccxt bots: balances, prices and orders in Valkey.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_global_flags(parser, top=True)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name: str, help: str) -> argparse.ArgumentParser:
        child: argparse.ArgumentParser = sub.add_parser(name, help=help, description=help)
        _add_global_flags(child, top=False)
        return child

    serve = command("serve", "run the REST server (granian; embedded Valkey when REDIS_URL is unset)")
    serve.add_argument("--host", type=host_address, default="127.0.0.1", help="IP address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=port_number, default=8000, help="port, 1 to 65535 (default 8000)")
    serve.add_argument("--workers", type=worker_count, default=1, help="worker processes, 1 or more (default 1)")

    command("balance", "show balances (all assets, or one)").add_argument("asset", nargs="?", metavar="ASSET")
    fund = command("fund", "deposit into the free balance of an asset")
    fund.add_argument("asset", metavar="ASSET")
    fund.add_argument("amount", metavar="AMOUNT")
    price = command("price", "show a symbol's ticker, or set its price (settles resting orders at once)")
    price.add_argument("symbol", metavar="SYMBOL")
    feed_commands.add_price_arguments(price)
    command("tickers", "show the ticker of every priced symbol")
    add_order_commands(command)
    orders = command("orders", "list orders, oldest first")
    orders.add_argument("--status", choices=("open", "closed", "canceled"))
    orders.add_argument("--symbol")
    orders.add_argument("--tail", type=int, metavar="N", help="only the newest N")
    command("cancel", "cancel an open order").add_argument("oid", metavar="OID")
    command("cancel-all", "cancel every open order (of --symbol)").add_argument("--symbol")
    command("reset", "wipe balances and orders (prices stay)")
    feed_commands.add_parsers(command)
    add_accounts_command(command, _add_global_flags)
    return parser


def build_call(args: argparse.Namespace) -> Call:
    """The one request a command makes, whichever transport carries it."""
    command = args.command
    if command == "balance":
        return Call("balance_of", path={"asset": args.asset}) if args.asset else Call("balance")
    if command == "fund":
        return Call("fund", body={"asset": args.asset, "amount": args.amount})
    if command == "price":
        return feed_commands.price_call(args)
    if command == "tickers":
        return Call("tickers")
    if command in ("order", "can-execute"):
        return order_call(args)
    if command == "orders":
        query = {"status": args.status, "symbol": args.symbol, "tail": args.tail}
        return Call("orders", query={name: value for name, value in query.items() if value is not None})
    if command == "cancel":
        return Call("cancel_order", path={"oid": args.oid})
    if command == "cancel-all":
        return Call("cancel_all_orders", body={} if args.symbol is None else {"symbol": args.symbol})
    if command == "reset":
        return Call("reset")
    if command == "accounts":
        return accounts_call(args)
    raise CliError("USAGE", f"unknown command {command!r}", EXIT_USAGE)


# -- transports: perform(call) -> (decoded answer, raw JSON text) -----------------------------------------------


class Transport(Protocol):
    def perform(self, call: Call) -> tuple[Any, str]: ...

    def close(self) -> None: ...


class DirectTransport:
    """Straight to Valkey, through the same route table the server uses."""

    def __init__(self) -> None:
        self._engine: Engine | None = None

    def perform(self, call: Call) -> tuple[Any, str]:
        from .web.app import to_json

        try:
            if self._engine is None:
                self._engine = Engine(_settings())
            raw = to_json(dispatch(self._engine, call)).decode()
        except MockExchangeError as exc:
            raise CliError(exc.code, exc.message, exit_code_for(exc.http_status)) from None
        return json.loads(raw), raw

    def close(self) -> None:
        if self._engine is not None:
            self._engine.close()
            self._engine = None


class HttpTransport:
    """To a running server, with URLs built from the route table."""

    def __init__(self, url: str, api_key: str | None, timeout: float = 30.0) -> None:
        import requests

        self.url, self.api_key, self.timeout = url.rstrip("/"), api_key or "", timeout
        self.session = requests.Session()

    def perform(self, call: Call) -> tuple[Any, str]:
        import requests

        request = http_request(self.url, self.api_key, call)
        try:
            response = self.session.request(
                request["method"],
                request["url"],
                data=request["body"],
                headers=request["headers"],
                timeout=self.timeout,
            )
        except requests.RequestException as exc:
            raise CliError("SERVER_UNAVAILABLE", f"cannot reach {self.url}: {exc}", EXIT_UNAVAILABLE) from None
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if response.status_code >= 400:
            error = answer.get("error") if isinstance(answer, dict) else None
            if isinstance(error, dict):
                raise CliError(str(error.get("code")), str(error.get("message")), exit_code_for(response.status_code))
            raise CliError(f"HTTP_{response.status_code}", response.text[:200], exit_code_for(response.status_code))
        if answer is None:
            raise CliError("BAD_RESPONSE", f"not JSON: {response.text[:200]!r}", EXIT_UNAVAILABLE)
        return answer, response.text

    def close(self) -> None:
        self.session.close()


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except ConfigError as exc:
        raise CliError(exc.code, str(exc), EXIT_USAGE) from None


# -- rendering ----------------------------------------------------------------------------------------------------


def _cell(value: Any) -> str:
    return "-" if value is None or value == "" else str(value)


def _numeric(text: str) -> bool:
    return text.replace(".", "", 1).replace("-", "", 1).isdigit()


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Aligned columns; columns of numbers are right-aligned."""
    cells = [[_cell(value) for value in row] for row in rows]
    widths = [max([len(h)] + [len(row[i]) for row in cells]) for i, h in enumerate(headers)]
    right = [bool(cells) and all(_numeric(row[i]) or row[i] == "-" for row in cells) for i in range(len(headers))]

    def line(values: Sequence[str]) -> str:
        parts = [v.rjust(w) if r else v.ljust(w) for v, w, r in zip(values, widths, right, strict=True)]
        return "  ".join(parts).rstrip()

    return "\n".join([line(headers), *(line(row) for row in cells)])


_ORDER_COLUMNS = ("ID", "DATETIME", "SYMBOL", "SIDE", "TYPE", "STATUS", "AMOUNT", "PRICE", "FILLED", "COST", "FEE")


def _order_row(order: dict[str, Any]) -> list[Any]:
    fee = order.get("fee") or {}
    fee_text = f"{fee.get('cost')} {fee.get('currency')}" if fee.get("cost") is not None else None
    keys = ("id", "datetime", "symbol", "side", "type", "status", "amount", "price", "filled", "cost")
    row: list[Any] = [order.get(key) for key in keys]
    return [*row, fee_text]


def _orders_table(orders: list[dict[str, Any]]) -> str:
    text = table(_ORDER_COLUMNS, [_order_row(order) for order in orders])
    with_ids = [order for order in orders if order.get("clientOrderId")]
    return text + "".join(f"\nclient order id of {o['id']}: {o['clientOrderId']}" for o in with_ids)


def _tickers_table(tickers: list[dict[str, Any]]) -> str:
    rows = [[t["symbol"], t.get("last"), t.get("bid"), t.get("ask"), t.get("datetime")] for t in tickers]
    return table(("SYMBOL", "LAST", "BID", "ASK", "DATETIME"), rows)


def _balance_rows(balances: dict[str, dict[str, Any]]) -> str:
    rows = [[asset, b.get("free"), b.get("used"), b.get("total")] for asset, b in sorted(balances.items())]
    return table(("ASSET", "FREE", "USED", "TOTAL"), rows)


def render(call: Call, answer: Any) -> str:
    """The human view of an answer (already JSON-decoded: decimals are strings)."""
    route = call.route
    if route == "balance":
        assets = answer.get("total") or {}
        return _balance_rows({asset: answer[asset] for asset in assets}) if assets else "(no balances)"
    if route in ("balance_of", "fund"):
        return _balance_rows({answer["asset"]: answer})
    if route == "ticker":
        return _tickers_table([answer])
    if route == "tickers":
        return _tickers_table([answer[s] for s in sorted(answer)]) if answer else "(no prices)"
    if route == "set_price":
        body = call.body or {}
        return f"{answer['symbol']} price set to {body.get('price')}; {answer['filled']} order(s) filled"
    if route == "cancel_all_orders":
        return _orders_table(answer) if answer else "(no open orders)"
    if route in ("create_order", "cancel_order"):
        return _orders_table([answer])
    if route == "orders":
        return _orders_table(answer) if answer else "(no orders)"
    if route == "can_execute":
        if not answer.get("ok"):
            return f"no: {answer.get('code')}: {answer.get('reason')}"
        required = answer.get("required") or {}
        return "\n".join(
            [
                f"yes: {answer.get('takerOrMaker')} at {answer.get('price')}",
                f"cost {answer.get('cost')}, fee {answer.get('fee')}",
                f"needs {required.get('amount')} {required.get('asset')} (free {answer.get('free')})",
            ]
        )
    if route == "reset":
        return "balances and orders wiped (prices kept)"
    if route in ACCOUNT_ROUTES:
        return render_accounts(route, answer, table)
    return json.dumps(answer, indent=2)


# -- entry point ----------------------------------------------------------------------------------------------------


def _run(args: argparse.Namespace) -> int:
    if args.command == "serve":
        if args.url:
            raise CliError("USAGE", "serve takes no --url", EXIT_USAGE)
        from .serve import ServeError, serve

        try:
            return serve(args.host, args.port, args.workers, _settings())
        except ServeError as exc:
            raise CliError("SERVE", str(exc), EXIT_UNAVAILABLE) from None
    url = args.url or os.environ.get(ENV_URL) or None
    parts = urlsplit(url or "http://-")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CliError("CONFIG", f"--url ({ENV_URL}) must be an http:// or https:// URL, got {url!r}", EXIT_USAGE)
    api_key = args.api_key if args.api_key is not None else os.environ.get(ENV_API_KEY)
    transport: Transport = HttpTransport(url, api_key) if url else DirectTransport()
    if feed_commands.ran(args, transport):
        return EXIT_OK
    call = build_call(args)
    if args.account is not None:
        call = call._replace(account=args.account)
    try:
        answer, raw = transport.perform(call)
    finally:
        transport.close()
    print(raw if args.json else render(call, answer))
    if call.route == "can_execute" and not answer.get("ok"):
        return EXIT_REFUSED
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit code. Errors go to stderr as ``error CODE: message``, or with
    ``--json`` as the API's error body ``{"error": {"code", "message"}}``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    as_json = "--json" in argv  # known before parsing, so that a usage error is JSON too
    try:
        args = build_parser().parse_args(argv)
        return _run(args)
    except CliError as exc:
        return _fail(exc.code, exc.message, exc.exit_code, as_json, exc.usage)
    except MockExchangeError as exc:
        return _fail(exc.code, exc.message, exit_code_for(exc.http_status), as_json)
    except ConfigError as exc:  # e.g. a data directory the embedded Valkey cannot use
        return _fail(exc.code, str(exc), EXIT_USAGE, as_json)
    except KeyboardInterrupt:
        return 130
    except SystemExit as exc:  # --help and --version
        return exc.code if isinstance(exc.code, int) else EXIT_OK
    except Exception as exc:  # never a traceback
        return _fail("INTERNAL", f"{type(exc).__name__}: {exc}", EXIT_UNAVAILABLE, as_json)


def _fail(code: str, message: str, exit_code: int, as_json: bool, usage: str | None = None) -> int:
    if as_json:
        print(json.dumps({"error": {"code": code, "message": message}}), file=sys.stderr)
    else:
        print(f"{usage or ''}error {code}: {message}", file=sys.stderr)
    return exit_code
