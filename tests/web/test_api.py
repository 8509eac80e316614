"""Every route through real HTTP: auth on every path, malformed input answered 4xx with nothing changed,
/docs only in TEST_ENV."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from servers import serving
from tests_helpers import keyspace

from mockexchange_ccxt import Engine, Settings
from mockexchange_ccxt.routes import ROUTES

KEY = "api-test-key"


@pytest.fixture
def api(engine: Engine, valkey_server: Any, tmp_path: Any) -> Iterator[tuple[str, Engine]]:
    served = Engine(Settings(redis_url=valkey_server.url, api_key=KEY, data_dir=tmp_path))
    with served, serving(served) as url:
        served.set_price("BTC/USDT", "50000")
        served.fund("USDT", "100000")
        yield url, served


def concrete(path: str) -> str:
    return re.sub(r"{(\w+)}", lambda m: {"symbol": "BTC%2FUSDT", "asset": "USDT"}.get(m.group(1), "1"), path)


@pytest.mark.parametrize("route", ROUTES, ids=[f"{r.method} {r.path}" for r in ROUTES])
@pytest.mark.parametrize("key", [None, "wrong", "invalid-key"])
def test_every_route_needs_the_key(api: tuple[str, Engine], route: Any, key: str | None) -> None:
    url, engine = api
    before = keyspace(engine)
    headers = {} if key is None else {"x-api-key": key}
    response = requests.request(route.method, url + concrete(route.path), json={}, headers=headers, timeout=10)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "AUTHENTICATION"
    assert keyspace(engine) == before


def test_the_placeholder_key_never_authenticates(engine: Engine, valkey_server: Any, tmp_path: Any) -> None:
    served = Engine(Settings(redis_url=valkey_server.url, data_dir=tmp_path))  # API_KEY left at invalid-key
    with served, serving(served) as url:
        response = requests.get(url + "/balance", headers={"x-api-key": "invalid-key"}, timeout=10)
    assert response.status_code == 401


GETS = ["/status", "/time", "/markets", "/tickers", "/tickers/BTC%2FUSDT", "/tickers/BTC/USDT", "/balance",
        "/balance/USDT", "/orders", "/orders?status=open&symbol=BTC%2FUSDT&tail=5", "/trades?limit=3"]  # fmt: skip


@pytest.mark.parametrize("path", GETS)
def test_reads_answer_200(api: tuple[str, Engine], path: str) -> None:
    url, _ = api
    response = requests.get(url + path, headers={"x-api-key": KEY}, timeout=10)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("application/json")


def test_order_lifecycle_over_http(api: tuple[str, Engine]) -> None:
    url, engine = api
    h = {"x-api-key": KEY}
    order = {"symbol": "BTC/USDT", "side": "buy", "type": "limit", "amount": "0.1", "price": 40000.5}
    placed = requests.post(url + "/orders", json=order, headers=h, timeout=10)
    assert placed.status_code == 201
    oid = placed.json()["id"]
    assert placed.json()["price"] == "40000.5"  # a JSON number arrives exactly, answers carry decimal strings
    assert requests.get(f"{url}/orders/{oid}", headers=h, timeout=10).json()["status"] == "open"
    assert requests.get(f"{url}/orders/{oid}/trades", headers=h, timeout=10).json() == []
    canceled = requests.post(f"{url}/orders/{oid}/cancel", headers=h, timeout=10)
    assert canceled.json()["status"] == "canceled"
    again = requests.post(f"{url}/orders/{oid}/cancel", headers=h, timeout=10)
    assert (again.status_code, again.json()["error"]["code"]) == (409, "ORDER_NOT_OPEN")
    edited = requests.post(url + "/admin/edit_balance", json={"asset": "BTC", "free": "1.5"}, headers=h, timeout=10)
    assert edited.json() == {"asset": "BTC", "free": "1.5", "used": "0", "total": "1.5"}
    assert requests.post(url + "/admin/reset", headers=h, timeout=10).json() == {"reset": True}
    assert engine.fetch_balance()["total"] == {}


BAD = [
    ("POST", "/orders", b"{not json", 400, "BAD_REQUEST"),
    ("POST", "/orders", b"[1, 2]", 400, "BAD_REQUEST"),
    ("POST", "/orders", b'{"symbol": "BTC/USDT", "side": "buy", "amount": 1, "extra": 1}', 501, "NOT_SUPPORTED"),
    ("POST", "/orders", b'{"symbol": "BTC/USDT", "side": "buy", "amount": true}', 400, "BAD_REQUEST"),
    ("POST", "/orders", b'{"symbol": "BTC/USDT", "side": "buy", "amount": NaN}', 400, "BAD_REQUEST"),
    ("POST", "/orders", b'{"symbol": "BTC/USDT", "side": "buy"}', 400, "BAD_REQUEST"),
    ("POST", "/orders", b'{"symbol": "NOPE/USDT", "side": "buy", "amount": 1}', 400, "BAD_SYMBOL"),
    ("POST", "/orders", b'{"symbol": "BTC/USDT", "side": "buy", "amount": "1e-9"}', 400, "INVALID_ORDER"),
    ("POST", "/orders", b'{"symbol": "BTC/USDT", "side": "buy", "amount": 100}', 400, "INSUFFICIENT_FUNDS"),
    ("POST", "/orders", b"x" * 70_000, 413, "PAYLOAD_TOO_LARGE"),
    ("POST", "/admin/fund", b'{"asset": "USDT", "amount": -5}', 400, "BAD_REQUEST"),
    ("POST", "/admin/reset", b'{"now": true}', 501, "NOT_SUPPORTED"),
    ("GET", "/orders?status=maybe", b"", 400, "BAD_REQUEST"),
    ("GET", "/orders?tail=-1", b"", 400, "BAD_REQUEST"),
    ("GET", "/orders?tail=1_0", b"", 400, "BAD_REQUEST"),  # int() would read 10
    ("GET", "/orders?tail=%D9%A5", b"", 400, "BAD_REQUEST"),  # an Arabic-Indic 5
    ("POST", "/admin/fund", b'{"asset": "USDT", "amount": "1_000"}', 400, "BAD_REQUEST"),  # Decimal() would read 1000
    ("POST", "/admin/fund", b'{"asset": "USDT", "amount": "1", "amount": "1000"}', 400, "BAD_REQUEST"),
    ("POST", "/admin/fund", '{"asset": "USDT", "amount": "١٢٣"}'.encode(), 400, "BAD_REQUEST"),
    ("GET", "/orders?color=red", b"", 400, "BAD_REQUEST"),
    ("GET", "/orders/999999", b"", 404, "ORDER_NOT_FOUND"),
    ("GET", "/tickers/NOPE%2FUSDT", b"", 400, "BAD_SYMBOL"),
    ("GET", "/nowhere", b"", 404, "NOT_FOUND"),
    ("DELETE", "/orders", b"", 405, "METHOD_NOT_ALLOWED"),
    ("GET", "/docs", b"", 404, "NOT_FOUND"),
]


@pytest.mark.parametrize(("method", "path", "body", "status", "code"), BAD, ids=[f"{b[0]} {b[1]} {b[3]}" for b in BAD])
def test_bad_input_is_4xx_and_changes_nothing(
    api: tuple[str, Engine], method: str, path: str, body: bytes, status: int, code: str
) -> None:
    url, engine = api
    before = keyspace(engine)
    response = requests.request(method, url + path, data=body, headers={"x-api-key": KEY}, timeout=10)
    assert (response.status_code, response.json()["error"]["code"]) == (status, code), response.text
    assert keyspace(engine) == before


def test_docs_and_openapi_in_test_env(engine: Engine, valkey_server: Any, tmp_path: Any) -> None:
    served = Engine(Settings(redis_url=valkey_server.url, test_env=True, data_dir=tmp_path))
    with served, serving(served) as url:
        document = requests.get(url + "/openapi.json", timeout=10).json()
        page = requests.get(url + "/docs", timeout=10)
        balance = requests.get(url + "/balance", timeout=10)  # no key needed in TEST_ENV
    assert {(m.upper(), p) for p, ops in document["paths"].items() for m in ops} == {(r.method, r.path) for r in ROUTES}
    assert page.status_code == 200 and "/admin/fund" in page.text
    assert balance.status_code == 200


# -- regressions found by the schemathesis run (tests/web/test_fuzz.py) ----------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("POST", "/status", "GET"),  # was 500: the resource had an on_post for a path with no POST route
        ("POST", "/tickers/BTC%2FUSDT", "GET"),
        ("POST", "/tickers/BTC/USDT", "GET"),
        ("GET", "/admin/reset", "POST"),  # was 500 the other way round
        ("GET", "/orders/1/cancel", "POST"),
        ("DELETE", "/orders", "GET, POST"),  # was 405 without the Allow header that RFC 9110 requires
    ],
)
def test_a_method_the_path_does_not_serve_is_405_with_allow(
    api: tuple[str, Engine], method: str, path: str, allowed: str
) -> None:
    url, engine = api
    before = keyspace(engine)
    response = requests.request(method, url + path, json={}, headers={"x-api-key": KEY}, timeout=10)
    assert (response.status_code, response.json()["error"]["code"]) == (405, "METHOD_NOT_ALLOWED")
    assert set(response.headers["Allow"].split(", ")) == {*allowed.split(", "), "OPTIONS"}
    assert keyspace(engine) == before


@pytest.mark.parametrize("body", [b"null", b"\n\t", b" "], ids=["json null", "whitespace", "space"])
@pytest.mark.parametrize("path", ["/admin/reset", "/orders/1/cancel", "/orders"])
def test_a_body_that_is_not_a_json_object_is_refused(api: tuple[str, Engine], path: str, body: bytes) -> None:
    """Only an empty body means "no body" (a JSON ``null`` or whitespace used to count as none)."""
    url, engine = api
    order = engine.create_order("BTC/USDT", "buy", "limit", "0.1", "40000")["id"]
    before = keyspace(engine)
    response = requests.post(url + path.replace("/1/", f"/{order}/"), data=body, headers={"x-api-key": KEY}, timeout=10)
    assert (response.status_code, response.json()["error"]["code"]) == (400, "BAD_REQUEST"), response.text
    assert keyspace(engine) == before


def test_a_blank_query_value_is_absent_but_its_name_must_be_known(api: tuple[str, Engine]) -> None:
    """``?tail=`` is the same as no ``tail`` (and the document says so with ``allowEmptyValue``); an unknown
    name is refused even when its value is blank (``?=`` and ``?color=`` used to pass)."""
    from mockexchange_ccxt.web.openapi import openapi_document

    url, _ = api
    h = {"x-api-key": KEY}
    assert requests.get(url + "/orders?tail=&status=", headers=h, timeout=10).status_code == 200
    for query in ("?=", "?color=", "?tail=&color"):
        response = requests.get(url + "/orders" + query, headers=h, timeout=10)
        assert (response.status_code, response.json()["error"]["code"]) == (400, "BAD_REQUEST"), query
    parameters = openapi_document()["paths"]["/orders"]["get"]["parameters"]
    assert all(p["allowEmptyValue"] for p in parameters if p["in"] == "query")


def test_the_document_declares_the_statuses_and_nulls_the_app_serves(api: tuple[str, Engine]) -> None:
    """The OpenAPI document used to declare 200 for ``POST /orders`` (it answers 201), forbid the null that
    the app reads as an absent optional field, and restrict decimal strings by a pattern the app does not
    apply (``"1e-3"`` is an amount)."""
    from mockexchange_ccxt.web.openapi import openapi_document

    url, _ = api
    document = openapi_document()
    for route in ROUTES:
        declared = {code for code in document["paths"][route.path][route.method.lower()]["responses"] if code[0] == "2"}
        assert declared == {str(route.status)}, route.name
    order = {"symbol": "BTC/USDT", "side": "buy", "type": None, "amount": "1e-3", "price": None, "clientOrderId": None}
    placed = requests.post(url + "/orders", json=order, headers={"x-api-key": KEY}, timeout=10)
    assert placed.status_code == 201, placed.text
    schema = document["paths"]["/orders"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert schema["properties"]["type"]["nullable"] and schema["properties"]["clientOrderId"]["nullable"]
    assert schema["properties"]["price"]["oneOf"][0] == {"type": "number", "nullable": True}
    assert "pattern" not in schema["properties"]["amount"]["oneOf"][1]


def test_an_empty_type_is_not_a_market_order(api: tuple[str, Engine]) -> None:
    """``type: ""`` used to place a market order; only an absent (or null) type means market."""
    url, engine = api
    before = keyspace(engine)
    for kind in ("", " ", "MARKET"):
        order = {"symbol": "BTC/USDT", "side": "buy", "type": kind, "amount": "0.001"}
        for path in ("/orders", "/orders/can_execute"):
            response = requests.post(url + path, json=order, headers={"x-api-key": KEY}, timeout=10)
            if path == "/orders":
                assert (response.status_code, response.json()["error"]["code"]) == (400, "INVALID_ORDER")
            else:
                assert (response.json()["ok"], response.json()["code"]) == (False, "INVALID_ORDER")
    assert keyspace(engine) == before
