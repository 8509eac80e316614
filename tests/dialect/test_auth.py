"""Binance's rules of the road over real HTTP: public market data, signed account and order endpoints, and each
way a signature, key or timestamp can be wrong answered with Binance's code, with nothing changed."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests
from servers import serving
from tests_helpers import keyspace

from mockexchange_ccxt import Engine, Settings
from mockexchange_ccxt.binance.endpoints import ENDPOINTS

from .support import KEY, SECRET, error_of, send, signature

SIGNED = [endpoint for endpoint in ENDPOINTS if endpoint.signed]
PUBLIC = [endpoint for endpoint in ENDPOINTS if not endpoint.signed]
#: Public endpoints whose symbol is mandatory.
NEEDS_SYMBOL = ("trades", "aggTrades", "depth", "klines", "uiKlines")
ORDER = {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.01"}


def now_ms() -> int:
    return int(time.time() * 1000)


@pytest.mark.parametrize("endpoint", PUBLIC, ids=[f"{e.method} {e.path}" for e in PUBLIC])
def test_market_data_is_public(facade: tuple[str, Engine], endpoint: Any) -> None:
    url, _ = facade
    name = endpoint.path.rsplit("/", 1)[-1]
    params: dict[str, Any] = {"symbol": "BTCUSDT"} if name in NEEDS_SYMBOL else {}
    if name.endswith("lines"):
        params["interval"] = "1m"
    response = send(url, endpoint.method, endpoint.path, params, signed=False, key=None)
    assert response.status_code == 200, response.text


# Each case: how the request is spoiled, and Binance's answer (HTTP status, code).
SPOILED: dict[str, tuple[dict[str, Any], tuple[int, int]]] = {
    "no key": ({"key": None}, (401, -2014)),
    "empty key": ({"key": ""}, (401, -2014)),
    "unknown key": ({"key": "nobody"}, (401, -2015)),
    "the seed's placeholder key": ({"key": "invalid-key"}, (401, -2015)),
    "another secret": ({"secret": "guess"}, (400, -1022)),
    "no signature": ({"signed": False, "params": {"timestamp": "now"}}, (400, -1102)),
    "stale timestamp": ({"timestamp": -6_000}, (400, -1021)),
    "timestamp ahead": ({"timestamp": 2_000}, (400, -1021)),
}


@pytest.mark.parametrize("endpoint", SIGNED, ids=[f"{e.method} {e.path}" for e in SIGNED])
@pytest.mark.parametrize("case", list(SPOILED))
def test_signed_endpoints_refuse_bad_credentials(facade: tuple[str, Engine], endpoint: Any, case: str) -> None:
    url, engine = facade
    before = keyspace(engine)
    spoil, expected = SPOILED[case]
    options = {k: v for k, v in spoil.items() if k not in ("timestamp", "params")}
    params = dict(ORDER)
    if "params" in spoil:
        params["timestamp"] = str(now_ms())
    if "timestamp" in spoil:
        options["timestamp"] = now_ms() + spoil["timestamp"]
    response = send(url, endpoint.method, endpoint.path, params, **options)
    assert error_of(response)[:2] == expected, response.text
    assert keyspace(engine) == before


def test_timestamp_and_recv_window(facade: tuple[str, Engine]) -> None:
    url, _ = facade
    assert send(url, "GET", "/api/v3/account", {"recvWindow": 20_000}, timestamp=now_ms() - 15_000).ok
    assert send(url, "GET", "/api/v3/account", {"recvWindow": "20000.5"}, timestamp=now_ms() - 15_000).ok
    assert error_of(send(url, "GET", "/api/v3/account", {"recvWindow": 60_001}))[:2] == (400, -1131)
    assert error_of(send(url, "GET", "/api/v3/account", {"recvWindow": "soon"}))[:2] == (400, -1130)
    no_timestamp = "recvWindow=5000"
    response = requests.get(
        f"{url}/api/v3/account?{no_timestamp}&signature={signature(SECRET, no_timestamp)}",
        headers={"X-MBX-APIKEY": KEY},
        timeout=10,
    )
    assert error_of(response) == (
        400,
        -1102,
        "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed.",
    )


def test_the_signature_covers_query_and_body_exactly(facade: tuple[str, Engine]) -> None:
    """Binance signs ``query + body`` (its totalParams); the signature may travel in either part."""
    url, engine = facade
    query = "symbol=BTCUSDT&side=BUY"
    body = f"type=MARKET&quantity=0.01&timestamp={now_ms()}"
    sig = signature(SECRET, query + body)
    headers = {"X-MBX-APIKEY": KEY, "Content-Type": "application/x-www-form-urlencoded"}
    placed = requests.post(f"{url}/api/v3/order?{query}", data=f"{body}&signature={sig}", headers=headers, timeout=10)
    assert placed.status_code == 200, placed.text
    tampered = body.replace("0.01", "0.02")
    refused = requests.post(
        f"{url}/api/v3/order?{query}", data=f"{tampered}&signature={sig}", headers=headers, timeout=10
    )
    assert error_of(refused)[:2] == (400, -1022)
    signed_in_query = requests.post(
        f"{url}/api/v3/order?{query}&signature={signature(SECRET, query + body)}",
        data=body,
        headers=headers,
        timeout=10,
    )
    assert signed_in_query.status_code == 200, signed_in_query.text
    unsigned = requests.get(f"{url}/api/v3/account?timestamp={now_ms()}", headers={"X-MBX-APIKEY": KEY}, timeout=10)
    assert error_of(unsigned)[:2] == (400, -1102)
    assert len(engine.fetch_orders()) == 2


def test_delete_with_parameters_in_the_body(facade: tuple[str, Engine]) -> None:
    """python-binance sends a DELETE's parameters as a form body; Binance reads them there too."""
    url, engine = facade
    placed = send(url, "POST", "/api/v3/order", {**ORDER, "type": "LIMIT", "timeInForce": "GTC", "price": "40000"})
    order_id = placed.json()["orderId"]
    canceled = send(url, "DELETE", "/api/v3/order", {"symbol": "BTCUSDT", "orderId": order_id}, in_body=True)
    assert canceled.json()["status"] == "CANCELED", canceled.text
    assert engine.fetch_order(str(order_id))["status"] == "canceled"


def test_test_env_turns_the_signature_off(engine: Engine, valkey_server: Any, tmp_path: Any) -> None:
    """TEST_ENV=true: signed endpoints need no key, signature or timestamp (given ones are not checked)."""
    served = Engine(Settings(redis_url=valkey_server.url, test_env=True, data_dir=tmp_path))
    with served, serving(served) as url:
        served.set_price("BTC/USDT", "50000")
        served.fund("USDT", "1000")
        account = requests.get(url + "/api/v3/account", timeout=10)
        assert account.status_code == 200, account.text
        assert account.json()["balances"] == [{"asset": "USDT", "free": "1000.00000000", "locked": "0.00000000"}]
        placed = send(url, "POST", "/api/v3/order", ORDER, key="anything", secret="anything")
        assert placed.json()["status"] == "FILLED"


def test_no_secret_no_signed_access(engine: Engine, valkey_server: Any, tmp_path: Any) -> None:
    """An API_KEY without API_SECRET opens the seed's API, not the dialect's signed endpoints."""
    served = Engine(Settings(redis_url=valkey_server.url, api_key=KEY, data_dir=tmp_path))
    with served, serving(served) as url:
        assert error_of(send(url, "GET", "/api/v3/account", secret=""))[:2] == (401, -2015)
        assert requests.get(url + "/balance", headers={"x-api-key": KEY}, timeout=10).ok
