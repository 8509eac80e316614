"""Kept-alive connections and request bodies, on the real server (``mockexchange serve``: granian) and on the
test server of ``servers.py`` (wsgiref):

- an answer given before the body was read (413, 401, 404, 405, 411, 400 on a bad Content-Length) leaves the
  connection usable: the next request on it gets its own answer, with ``http.client``, ``requests.Session``
  and ``MockExchange`` over HTTP; if the server will not read on, the answer says ``Connection: close``;
- a chunked body is read where the server de-chunks it (granian), else refused with 411;
- a body on a route that takes none (every GET) is refused;
- a 500 names no script hash or line number (the log has them).
"""

from __future__ import annotations

import http.client
import json
import logging
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import ccxt
import pytest
import requests
from servers import serving, start_server
from tests_helpers import keyspace

from mockexchange_ccxt import Engine, MockExchange, Settings
from mockexchange_ccxt.engine import EmbeddedValkey
from mockexchange_ccxt.engine.scripts import library
from mockexchange_ccxt.web.body import DRAIN_MAX_BYTES, MAX_BODY_BYTES

KEY = "connections-key"
FUND = json.dumps({"asset": "USDT", "amount": "5"}).encode()


@dataclass
class Target:
    kind: str  # "granian" or "wsgiref"
    url: str

    @property
    def address(self) -> tuple[str, int]:
        parts = urlsplit(self.url)
        assert parts.hostname is not None and parts.port is not None
        return parts.hostname, parts.port

    def connection(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(*self.address, timeout=10)


@pytest.fixture(scope="module")
def granian(valkey_server: EmbeddedValkey, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    running = start_server(log, {"REDIS_URL": valkey_server.url, "API_KEY": KEY}, KEY)
    try:
        yield Target("granian", running.url)
    finally:
        assert running.stop() == 0, running.output()


@pytest.fixture
def wsgiref(engine: Engine, valkey_server: EmbeddedValkey, tmp_path: Path) -> Iterator[Target]:
    served = Engine(Settings(redis_url=valkey_server.url, api_key=KEY, data_dir=tmp_path))
    with served, serving(served) as url:
        yield Target("wsgiref", url)


@pytest.fixture(params=["granian", "wsgiref"])
def target(request: pytest.FixtureRequest, engine: Engine) -> Target:
    """Each server on a flushed Valkey with BTC/USDT priced and 1,000 USDT funded."""
    engine.set_price("BTC/USDT", "50000")
    engine.fund("USDT", "1000")
    return request.getfixturevalue(request.param)  # type: ignore[no-any-return]


def headers(**extra: str) -> dict[str, str]:
    return {"x-api-key": KEY, "Content-Type": "application/json", **extra}


def closes(response: http.client.HTTPResponse) -> bool:
    """The answer tells the client that the server reads nothing more on this connection."""
    return response.version == 10 or (response.getheader("Connection") or "").lower() == "close"


def error_code(response: http.client.HTTPResponse) -> str:
    return str(json.loads(response.read())["error"]["code"])


# -- the early answers: (method, path, body, extra headers) -> (status, code) ----------------------------------

BIG = b'{"symbol": "' + b"x" * 100_000 + b'"}'
EARLY = {
    "413 over the limit": ("POST", "/orders", BIG, {}, 413, "PAYLOAD_TOO_LARGE"),
    "401 before the body": ("POST", "/admin/fund", FUND * 500, {"x-api-key": "wrong"}, 401, "AUTHENTICATION"),
    "404 before the body": ("POST", "/nowhere", FUND * 500, {}, 404, "NOT_FOUND"),
    "405 before the body": ("DELETE", "/orders", FUND * 500, {}, 405, "METHOD_NOT_ALLOWED"),
    "400 body on a GET": ("GET", "/balance", FUND, {}, 400, "BAD_REQUEST"),
}


@pytest.mark.parametrize("case", list(EARLY))
def test_the_next_request_on_a_kept_alive_connection_gets_its_answer(target: Target, engine: Engine, case: str) -> None:
    method, path, body, extra, status, code = EARLY[case]
    before = keyspace(engine)
    conn = target.connection()
    for _ in range(2):  # twice: the connection (or its successor) is still in step after the first round
        conn.request(method, path, body=body, headers=headers(**extra))
        first = conn.getresponse()
        assert (first.status, error_code(first)) == (status, code)
        conn.request("POST", "/admin/fund", body=FUND, headers=headers())
        second = conn.getresponse()
        assert second.status == 200, second.read()
        assert json.loads(second.read())["asset"] == "USDT"
    conn.close()
    assert engine.balance("USDT")["total"] == 1010
    after = keyspace(engine)
    assert {k: v for k, v in after.items() if "balances" not in k} == {
        k: v for k, v in before.items() if "balances" not in k
    }


@pytest.mark.parametrize("case", list(EARLY))
def test_the_same_with_a_requests_session(target: Target, case: str) -> None:
    method, path, body, extra, status, code = EARLY[case]
    with requests.Session() as session:
        for _ in range(3):
            first = session.request(method, target.url + path, data=body, headers=headers(**extra), timeout=10)
            assert (first.status_code, first.json()["error"]["code"]) == (status, code)
            second = session.post(target.url + "/admin/fund", data=FUND, headers=headers(), timeout=10)
            assert second.status_code == 200, second.text


def test_a_body_too_big_to_drain_is_answered_with_connection_close(target: Target) -> None:
    """Past the drain bound the server does not read on: the 413 says so, and the connection ends."""
    with socket.create_connection(target.address, timeout=10) as sock:
        sock.sendall(
            b"POST /orders HTTP/1.1\r\nHost: x\r\nx-api-key: " + KEY.encode() + b"\r\n"
            b"Content-Type: application/json\r\nContent-Length: " + str(DRAIN_MAX_BYTES + 1).encode() + b"\r\n\r\n{"
        )
        response = http.client.HTTPResponse(sock)
        response.begin()
        assert (response.status, error_code(response)) == (413, "PAYLOAD_TOO_LARGE")
        assert closes(response)
        assert sock.recv(1) == b""  # closed by the server


def test_a_body_within_the_drain_bound_keeps_the_connection(target: Target) -> None:
    """A refused body the server reads to its end: on HTTP/1.1 the connection stays open for the next one."""
    conn = target.connection()
    conn.request("POST", "/orders", body=b" " * (MAX_BODY_BYTES * 4), headers=headers())
    first = conn.getresponse()
    assert (first.status, error_code(first)) == (413, "PAYLOAD_TOO_LARGE")
    if target.kind == "granian":
        assert not closes(first)
        sock = conn.sock
        conn.request("GET", "/status", headers=headers())
        assert conn.getresponse().status == 200
        assert conn.sock is sock  # the same connection served it
    conn.close()


def test_a_bad_content_length_is_400_and_closes(target: Target) -> None:
    conn = target.connection()
    conn.putrequest("POST", "/admin/fund")
    for name, value in headers(**{"Content-Length": "abc"}).items():
        conn.putheader(name, value)
    conn.endheaders(FUND)
    first = conn.getresponse()
    assert first.status == 400 and closes(first)
    first.read()
    conn.request("POST", "/admin/fund", body=FUND, headers=headers())  # http.client reconnects
    assert conn.getresponse().status == 200
    conn.close()


# -- chunked bodies ---------------------------------------------------------------------------------------------


def chunked_request(path: str, body: bytes, **extra: str) -> bytes:
    """A whole chunked request in two chunks, written at once (as a client does with a small body)."""
    head = f"POST {path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in headers(**extra).items())
    half = len(body) // 2
    parts = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (body[:half], body[half:]))
    return head.encode() + b"\r\n" + parts + b"0\r\n\r\n"


def test_a_chunked_body_is_read_or_refused_with_411(target: Target, engine: Engine) -> None:
    """A valid chunked POST /admin/fund used to answer "field 'asset' is required"."""
    with socket.create_connection(target.address, timeout=10) as sock:
        sock.sendall(chunked_request("/admin/fund", FUND))
        first = http.client.HTTPResponse(sock)
        first.begin()
        if target.kind == "granian":  # granian de-chunks the body (wsgi.input_terminated)
            assert first.status == 200
            assert json.loads(first.read())["total"] == "1005"
            sock.sendall(b"GET /status HTTP/1.1\r\nHost: x\r\nx-api-key: " + KEY.encode() + b"\r\n\r\n")
            second = http.client.HTTPResponse(sock)
            second.begin()
            assert second.status == 200
        else:  # wsgiref hands over the raw chunks: refused, nothing changed, and the connection ends
            assert (first.status, error_code(first)) == (411, "LENGTH_REQUIRED")
            assert closes(first)
            assert engine.balance("USDT")["total"] == 1000
    assert requests.get(target.url + "/status", headers=headers(), timeout=10).status_code == 200


def test_a_chunked_body_over_the_limit_is_413(granian: Target, engine: Engine) -> None:
    def big() -> Iterator[bytes]:
        for _ in range(5):
            yield b" " * MAX_BODY_BYTES

    with requests.Session() as session:
        for _ in range(2):
            first = session.post(granian.url + "/orders", data=big(), headers=headers(), timeout=10)
            assert (first.status_code, first.json()["error"]["code"]) == (413, "PAYLOAD_TOO_LARGE")
            assert session.get(granian.url + "/status", headers=headers(), timeout=10).status_code == 200


# -- bodies where none belongs ----------------------------------------------------------------------------------


@pytest.mark.parametrize("body", [b"{}", b"hello", b"null", b" "])
@pytest.mark.parametrize("path", ["/balance", "/status", "/orders", "/tickers/BTC%2FUSDT"])
def test_a_body_on_a_get_is_refused(target: Target, engine: Engine, path: str, body: bytes) -> None:
    before = keyspace(engine)
    answer = requests.get(target.url + path, data=body, headers=headers(), timeout=10)
    assert (answer.status_code, answer.json()["error"]["code"]) == (400, "BAD_REQUEST")
    assert "takes no body" in answer.json()["error"]["message"]
    assert keyspace(engine) == before


def test_an_empty_body_on_a_get_is_no_body(target: Target) -> None:
    answer = requests.get(target.url + "/balance", data=b"", headers=headers(**{"Content-Length": "0"}), timeout=10)
    assert answer.status_code == 200


# -- MockExchange over HTTP: ccxt's requests session ------------------------------------------------------------


def test_mockexchange_over_http_gets_its_answer_after_an_early_refusal(target: Target) -> None:
    exchange = MockExchange({"apiKey": KEY, "options": {"serverUrl": target.url}})
    exchange.load_markets()
    for _ in range(2):
        with pytest.raises(ccxt.BadRequest, match="over the 65536-byte limit"):
            exchange.create_order("BTC/USDT", "market", "buy", 0.001, None, {"clientOrderId": "c" * 100_000})
        assert exchange.fetch_balance()["USDT"]["total"] == 1000
    exchange.apiKey = "wrong"
    with pytest.raises(ccxt.AuthenticationError):
        exchange.fund("USDT", "1" * 30_000)
    exchange.apiKey = KEY
    assert exchange.fetch_balance()["USDT"]["total"] == 1000
    assert exchange.create_order("BTC/USDT", "market", "buy", 0.001)["status"] == "closed"


# -- 500 -------------------------------------------------------------------------------------------------------


def test_a_500_shows_no_script_internals(wsgiref: Target, engine: Engine, caplog: pytest.LogCaptureFixture) -> None:
    engine.set_price("BTC/USDT", "50000")
    engine.fund("USDT", "1000")
    engine.store.call("SET", engine.keys.orders, "not a hash")  # the order script now fails inside Valkey
    order = {"symbol": "BTC/USDT", "side": "buy", "amount": "0.001"}
    with caplog.at_level(logging.ERROR, logger="mockexchange_ccxt.web"):
        answer = requests.post(wsgiref.url + "/orders", json=order, headers=headers(), timeout=10)
    assert answer.status_code == 500
    assert answer.json() == {"error": {"code": "INTERNAL", "message": "internal error; the server log has the details"}}
    function = library().functions["place_order"]
    assert function not in answer.text and "user_function" not in answer.text
    assert any(function in record.getMessage() for record in caplog.records)
