"""Hostile HTTP input, generated from the API's own OpenAPI document (schemathesis), sent to a real server.

For every operation of ``openapi_document()`` schemathesis generates requests that fit the document (positive)
and requests that break it (negative: wrong types, missing or unknown fields and query parameters, bodies that
are no JSON, undeclared methods). Each one goes over real HTTP to the Falcon app on a loopback port, with the
API key, against an account seeded with prices, funds and orders; hints put real symbols, assets, order ids
and sane amounts into many of the generated values, so that requests reach order placement, settlement and
cancels rather than stopping at a 400 or 404. Whatever the request, the API must keep its error contract
(DESIGN.md, section 6):

- never a 5xx, but the 501 NOT_SUPPORTED that refuses a body field the mock does not implement;
- every 4xx body is ``{"error": {"code": C, "message": str}}`` where C is a known code whose status is the
  response's status;
- a 4xx changes nothing in Valkey ("bad input never changes state");
- and schemathesis' own checks hold: status codes, content types and headers as documented, schema-breaking
  requests refused, 405 with ``Allow``, a successful request refused without the key (``ignored_auth``).
  Valid requests may still be refused (insufficient funds, unknown order), so ``positive_data_acceptance``
  is off. Missing and wrong keys on every route are test_api.py's job.

The knob: ``MAX_EXAMPLES``, the fuzzed cases per operation (both modes together, duplicates skipped); the
coverage phase adds its own deterministic boundary cases on top. Raise it for a longer local hunt: at 600
the file takes about five minutes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from servers import serving
from tests_helpers import SeededAccount, keyspace, seed_markets

from mockexchange_ccxt import Engine, Settings
from mockexchange_ccxt.engine import EmbeddedValkey
from mockexchange_ccxt.errors import ERRORS_BY_CODE
from mockexchange_ccxt.routes import INTEGER, NUMBER, STRING, STRINGS
from mockexchange_ccxt.web.openapi import openapi_document

KEY = "fuzz-test-key"
MAX_EXAMPLES = 50

#: Statuses that may answer a request that breaks the document: the codes of errors.py a bad request can get
#: (501 NOT_SUPPORTED: a body field the mock does not implement).
REJECTION_STATUSES = ["400", "401", "404", "405", "413", "501"]

SCHEMA = schemathesis.openapi.from_dict(
    openapi_document(),
    config=schemathesis.Config.from_dict(
        {
            # the API key is sent by the test; a missing or wrong key has its own test in test_api.py, and
            # generating it here would spend most negative cases on the 401 that the middleware answers first
            "generation": {"mode": "all", "with-security-parameters": False, "unique-inputs": True},
            "checks": {
                "positive_data_acceptance": {"enabled": False},
                # 5xx are check_error_contract's job: it lets through the 501 that refuses an unknown field
                "not_a_server_error": {"enabled": False},
                "negative_data_rejection": {"expected-statuses": REJECTION_STATUSES},
            },
        }
    ),
)

# -- the seeded account -----------------------------------------------------------------------------------

#: Ids of the seeded orders (the id sequence restarts after FLUSHALL).
OPEN_BTC_BUY, OPEN_BTC_SELL, OPEN_ETH_BUY, CLOSED_ETH_BUY, CANCELED_BTC_BUY = "1", "2", "3", "4", "5"


def seed(engine: Engine) -> None:
    """A fresh account with something to act on: two priced markets, a malformed and a wrong-type feed key,
    USDT and BTC to spend, three resting limits, a filled order and a canceled one."""
    seed_markets(engine)
    ids = [
        engine.create_order("BTC/USDT", "buy", "limit", "0.1", "40000")["id"],
        engine.create_order("BTC/USDT", "sell", "limit", "0.5", "60000")["id"],
        engine.create_order("ETH/USDT", "buy", "limit", "1", "2000", client_order_id="seeded")["id"],
        engine.create_order("ETH/USDT", "buy", "market", "0.5")["id"],
        engine.create_order("BTC/USDT", "buy", "limit", "0.01", "30000")["id"],
    ]
    engine.cancel_order(CANCELED_BTC_BUY)
    assert ids == [OPEN_BTC_BUY, OPEN_BTC_SELL, OPEN_ETH_BUY, CLOSED_ETH_BUY, CANCELED_BTC_BUY]


# -- hints: values that name seeded resources ------------------------------------------------------------


@dataclass(frozen=True)
class Hint:
    """Values for a field or parameter of this name and kind: ``good`` ones name seeded resources and sane
    amounts, ``odd`` ones are near misses (wrong case, unpriced or unknown symbol, too many decimals, too
    large). Numbers are written as decimal strings and sent as JSON numbers where the generator made one."""

    kind: str
    good: tuple[Any, ...]
    odd: tuple[Any, ...] = ()

    def like(self, value: Any, values: tuple[Any, ...]) -> tuple[Any, ...]:
        """Those of ``values`` that can stand in for ``value`` without changing which side of the document
        it is on: a string only by a string, a JSON number by a number, an integer by an integer. Anything
        else (the wrong type a negative case put there, null, a bool) has no stand-in, so negative cases
        stay negative."""
        if isinstance(value, bool) or value is None:
            return ()
        if isinstance(value, str) and self.kind in (STRING, NUMBER):
            return values
        if isinstance(value, int) and self.kind == INTEGER:
            return values
        if isinstance(value, int | float) and self.kind == NUMBER:
            return tuple(float(text) for text in values)
        if isinstance(value, list) and self.kind == STRINGS and all(isinstance(item, str) for item in value):
            return values
        return ()


HINTS: dict[str, Hint] = {
    "symbol": Hint(
        STRING,
        ("BTC/USDT", "ETH/USDT"),
        ("BAD/USDT", "WT/USDT", "DOGE/USDT", "btc/usdt", "BTC/", "/USDT", "BTC/BTC", "Ä/USDT", "B" * 40 + "/USDT"),
    ),
    "symbols": Hint(STRING, ("BTC/USDT,ETH/USDT", "BTC/USDT"), ("ETH/USDT,DOGE/USDT", "BTC/USDT,", "BTC", ",")),
    "asset": Hint(STRING, ("USDT", "BTC", "ETH"), ("DOGE", "usdt", "B.T-C_1", "-X", "ÜSD", "A" * 33)),
    "oid": Hint(
        STRING,
        (OPEN_BTC_BUY, OPEN_BTC_SELL, OPEN_ETH_BUY, CLOSED_ETH_BUY, CANCELED_BTC_BUY),
        ("999", "0", "01", "-1", "1.0", "9" * 25),
    ),
    "side": Hint(STRING, ("buy", "sell"), ("BUY", "hold")),
    "type": Hint(
        STRING,
        ("market", "limit", "limit_maker", "stop_loss", "stop_loss_limit", "take_profit", "take_profit_limit"),
        ("LIMIT", "stop", ""),
    ),
    "timeInForce": Hint(STRING, ("GTC", "IOC", "FOK", "PO"), ("gtc", "GTD")),
    "triggerPrice": Hint(NUMBER, ("45000", "55000", "2400", "2600"), ("50000", "0", "-1")),
    "stopPrice": Hint(NUMBER, ("45000", "55000", "2400", "2600"), ("50000", "0")),
    "stopLossPrice": Hint(NUMBER, ("45000", "55000", "2400"), ("50000", "-5")),
    "takeProfitPrice": Hint(NUMBER, ("45000", "55000", "2600"), ("50000", "1e-9")),
    "cost": Hint(NUMBER, ("10", "100", "1000"), ("0", "1e-9", "1e12")),
    "ids": Hint(
        STRINGS,
        ([OPEN_BTC_BUY], [OPEN_BTC_BUY, OPEN_ETH_BUY]),
        ([OPEN_BTC_SELL, OPEN_BTC_SELL], [CLOSED_ETH_BUY], ["999"], []),
    ),
    "status": Hint(STRING, ("open", "closed", "canceled"), ("OPEN", "all")),
    "clientOrderId": Hint(STRING, ("fresh-1", "bot:42"), ("seeded", "a b", "x" * 65)),
    "amount": Hint(NUMBER, ("0.001", "0.01", "0.5", "1"), ("3", "0.00000001", "0.000000001", "0", "-1", "1e11")),
    "price": Hint(NUMBER, ("2000", "2400", "2600", "30000", "45000.5", "55000"), ("0.00000001", "90071992.54740992")),
    "bid": Hint(NUMBER, ("49990", "2499"), ("0", "-1")),
    "ask": Hint(NUMBER, ("50010", "2501"), ("0", "-1")),
    "free": Hint(NUMBER, ("0", "1.5", "100000"), ("-1", "1e11", "0.000000001")),
    "used": Hint(NUMBER, ("0", "0.1", "5000"), ("-1", "100000000000")),
    "tail": Hint(INTEGER, (1, 3), (0, -1, 10**20)),
    "limit": Hint(INTEGER, (1, 2), (0, -1)),
    "since": Hint(INTEGER, (0, 1_700_000_000_000), (-1,)),
    "timestamp": Hint(INTEGER, (1_700_000_000_000, 1_700_000_000), (0, -1, 10**20)),
}


def hinted(values: Any) -> st.SearchStrategy[Any]:
    """A generated object of named values: with every hinted value replaced by a good one (a realistic
    request that reaches the engine's deep paths), each value as generated, good or odd, or as generated."""
    if not isinstance(values, dict):
        return st.just(values)
    good: dict[str, st.SearchStrategy[Any]] = {}
    mixed: dict[str, st.SearchStrategy[Any]] = {}
    for name, value in values.items():
        hint = HINTS.get(name, Hint(STRING, ()))
        good_ones, odd_ones = hint.like(value, hint.good), hint.like(value, hint.odd)
        good[name] = st.sampled_from(good_ones) if good_ones else st.just(value)
        mixed[name] = st.sampled_from((value, *good_ones, *odd_ones))
    return st.one_of(st.fixed_dictionaries(good), st.fixed_dictionaries(mixed), st.just(values))


@SCHEMA.hook
def flatmap_path_parameters(context: schemathesis.HookContext, path_parameters: Any) -> st.SearchStrategy[Any]:
    return hinted(path_parameters)


@SCHEMA.hook
def flatmap_query(context: schemathesis.HookContext, query: Any) -> st.SearchStrategy[Any]:
    return hinted(query)


def _scalar(value: Any) -> bool:
    return isinstance(value, str | int | float)


@SCHEMA.hook
def filter_query(context: schemathesis.HookContext, query: Any) -> bool:
    """Only queries that reach the wire as generated: ``requests`` silently drops a None, an empty list or
    the value of a nested object, so such a negative case would arrive as a valid request and be reported
    as "schema-violating request accepted" although the server never saw the violation."""
    return not isinstance(query, dict) or all(
        _scalar(value) or (isinstance(value, list) and value and all(map(_scalar, value))) for value in query.values()
    )


@SCHEMA.hook
def flatmap_body(context: schemathesis.HookContext, body: Any) -> st.SearchStrategy[Any]:
    return hinted(body)


# -- the test ---------------------------------------------------------------------------------------------


@pytest.fixture
def api(engine: Engine, valkey_server: EmbeddedValkey, tmp_path: Path) -> Iterator[tuple[str, SeededAccount]]:
    """The app served on a loopback port over its own engine (API key required), and that engine's account."""
    served = Engine(Settings(redis_url=valkey_server.url, api_key=KEY, data_dir=tmp_path))
    with served, serving(served) as url:
        yield url, SeededAccount(served, seed)


def check_error_contract(response: schemathesis.Response) -> None:
    """No 5xx; a 4xx carries exactly ``{"error": {"code", "message"}}`` with a known code of that status."""
    status = response.status_code
    not_supported = status == 501 and response.json()["error"]["code"] == "NOT_SUPPORTED"
    assert status < 500 or not_supported, f"{status}: {response.content[:300]!r}"
    if status < 400 or response.request.method == "HEAD":  # a HEAD answer has no body to check
        return
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    code, message = body["error"]["code"], body["error"]["message"]
    assert code in ERRORS_BY_CODE, body
    assert ERRORS_BY_CODE[code].http_status == status, (status, body)
    assert isinstance(message, str) and message, body


@SCHEMA.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_hostile_requests_keep_the_error_contract(case: schemathesis.Case, api: tuple[str, SeededAccount]) -> None:
    url, account = api
    before = account.seeded()
    headers = {"x-api-key": KEY}
    response = case.call(base_url=url, headers=headers, timeout=10)
    refused = 400 <= response.status_code < 500 or response.status_code == 501
    kept = refused and keyspace(account.engine) == before
    if not kept:
        account.touched()  # whatever this case did, the next one starts from a fresh seed
    check_error_contract(response)
    assert kept or not refused, f"{case.method} {response.request.url} {response.request.body!r} changed state"
    case.validate_response(response, headers=headers, transport_kwargs={"base_url": url, "headers": headers})
