"""Hostile input for the dialect (hypothesis), over real HTTP, correctly signed so it reaches every endpoint.

For each endpoint of the dialect's table, hypothesis draws parameters from the endpoint's own names (accepted
and refused), names it does not know, good values (seeded symbols and order ids, sane amounts), near misses
(wrong case, too many decimals, unknown symbols, huge numbers) and arbitrary text; some requests also carry
raw bytes that are not valid percent-encoding or UTF-8. Whatever arrives:

- never a 5xx;
- every error is ``{"code": <negative int>, "msg": <text>}`` with one of Binance's client statuses;
- a refused request changes nothing in Valkey (cancelReplace's 409, a partial success, is the exception that
  Binance itself makes).

``MAX_EXAMPLES`` per endpoint is the knob: raise it for a longer local hunt.

Hostile input meets the dialect's parsing and checks, the same for both kinds of store, so these run on the
single Valkey only (the dialect's behaviour on a cluster has its own tests).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from servers import serving
from tests_helpers import SeededAccount, keyspace, seed_markets

from mockexchange_ccxt import Engine, Settings
from mockexchange_ccxt.binance.endpoints import ENDPOINTS

from .support import KEY, SECRET, send, signed_query

pytestmark = pytest.mark.single_node

MAX_EXAMPLES = 40
CLIENT_STATUSES = {400, 401, 404, 405, 409, 413}


def seed(engine: Engine) -> None:
    """Priced markets (and a malformed and a wrong-type feed key), funds, two resting limits, a filled and a
    canceled order: ids 1 to 4."""
    seed_markets(engine)
    engine.create_order("BTC/USDT", "buy", "limit", "0.1", "40000", client_order_id="rest-1")
    engine.create_order("BTC/USDT", "sell", "limit", "0.5", "60000")
    engine.create_order("BTC/USDT", "sell", "market", "0.2", client_order_id="done-1")
    engine.cancel_order(engine.create_order("BTC/USDT", "buy", "limit", "0.01", "30000")["id"])


SYMBOL = st.sampled_from(["BTCUSDT", "ETHUSDT", "BADUSDT", "WTUSDT", "btcusdt", "DOGEUSDT", "BTC/USDT", ""])
DECIMAL = st.sampled_from(
    ["0.001", "0.01", "0.1", "1", "40000", "51000", "0", "0.000000001", "1e3", "-1", "99999999999"]
)
LONG = st.sampled_from(["1", "2", "3", "4", "5", "999", "0", "-1", "1.5", "9" * 25, "1700000000000"])
NAMED: dict[str, st.SearchStrategy[str]] = {
    "symbol": SYMBOL,
    "symbols": st.sampled_from(['["BTCUSDT","ETHUSDT"]', '["BTCUSDT"]', "[]", '["NOPE"]', "BTCUSDT", "[1]", "[", '""']),
    "side": st.sampled_from(["BUY", "SELL", "buy", "HOLD"]),
    "type": st.sampled_from(["MARKET", "LIMIT", "LIMIT_MAKER", "STOP_LOSS", "MINI", "FULL", "limit"]),
    "timeInForce": st.sampled_from(["GTC", "IOC", "FOK", "GTX"]),
    "quantity": DECIMAL,
    "price": DECIMAL,
    "quoteOrderQty": DECIMAL,
    "orderId": LONG,
    "cancelOrderId": LONG,
    "fromId": LONG,
    "startTime": LONG,
    "endTime": LONG,
    "limit": st.sampled_from(["1", "2", "500", "1000", "1001", "0", "-3", "x"]),
    "newClientOrderId": st.sampled_from(["fresh-1", "rest-1", "a b", "x" * 40, "ü"]),
    "origClientOrderId": st.sampled_from(["rest-1", "done-1", "nope"]),
    "newOrderRespType": st.sampled_from(["ACK", "RESULT", "FULL", "NONE"]),
    "cancelReplaceMode": st.sampled_from(["STOP_ON_FAILURE", "ALLOW_FAILURE", "NEVER"]),
    "recvWindow": st.sampled_from(["5000", "60000", "60001", "0", "abc", "1.5"]),
    "interval": st.sampled_from(["1m", "1h", "1w", "1M", "1s", "7m", "1D"]),
}
#: Values that make a request the engine accepts (so generated requests reach placement, fills and cancels).
GOOD: dict[str, st.SearchStrategy[str]] = {
    "symbol": st.sampled_from(["BTCUSDT", "ETHUSDT"]),
    "side": st.sampled_from(["BUY", "SELL"]),
    "type": st.sampled_from(["MARKET", "LIMIT"]),
    "timeInForce": st.just("GTC"),
    "quantity": st.sampled_from(["0.001", "0.01", "0.1"]),
    "price": st.sampled_from(["2400", "2600", "40000", "51000"]),
    "orderId": st.sampled_from(["1", "2", "3", "4"]),
    "cancelOrderId": st.sampled_from(["1", "2", "3", "4"]),
    "limit": st.sampled_from(["1", "2", "500"]),
    "interval": st.sampled_from(["1m", "1h", "1d", "1M"]),
    "cancelReplaceMode": st.sampled_from(["STOP_ON_FAILURE", "ALLOW_FAILURE"]),
    "newClientOrderId": st.uuids().map(lambda u: u.hex[:20]),
    "origClientOrderId": st.sampled_from(["rest-1", "done-1"]),
    "newOrderRespType": st.sampled_from(["ACK", "RESULT", "FULL"]),
    "selfTradePreventionMode": st.sampled_from(["NONE", "EXPIRE_MAKER"]),
    "computeCommissionRates": st.sampled_from(["true", "false"]),
    "omitZeroBalances": st.sampled_from(["true", "false"]),
    "showPermissionSets": st.sampled_from(["true", "false"]),
}
ANY_TEXT = st.text(max_size=12)


@st.composite
def requests_for(draw: st.DrawFn, endpoint: Any) -> dict[str, str]:
    """Half of the time a request built to be accepted (every required parameter, good values), otherwise a mix
    of the endpoint's names, refused names and unknown ones, with near misses and arbitrary text."""
    accepted = endpoint.params.accepted
    if draw(st.booleans()):
        chosen = [p.name for p in accepted if p.required or draw(st.booleans())]
        good = {name: draw(GOOD.get(name, NAMED.get(name, ANY_TEXT))) for name in chosen}
        if good.get("type") == "LIMIT":  # what a limit order needs, and a market order refuses
            good.update(timeInForce="GTC", quantity=draw(GOOD["quantity"]), price=draw(GOOD["price"]))
        elif good.get("type") == "MARKET":
            good = {k: v for k, v in good.items() if k not in ("price", "timeInForce")}
            good["quantity"] = draw(GOOD["quantity"])
        return good
    names = [p.name for p in accepted] + list(endpoint.params.refused)
    chosen = draw(st.lists(st.sampled_from([*names, "bogus", "signature"]), unique=True, max_size=len(names) + 1))
    return {name: draw(st.one_of(NAMED.get(name, ANY_TEXT), ANY_TEXT)) for name in chosen}


@pytest.fixture
def dialect(engine: Engine, valkey_server: Any, tmp_path: Any) -> Iterator[tuple[str, SeededAccount]]:
    served = Engine(Settings(redis_url=valkey_server.url, api_key=KEY, api_secret=SECRET, data_dir=tmp_path))
    with served, serving(served) as url:
        yield url, SeededAccount(served, seed)


def check(response: requests.Response, account: SeededAccount, before: dict[str, Any]) -> None:
    assert response.status_code < 500, response.text
    body = response.json()
    if response.status_code >= 400:
        assert response.status_code in CLIENT_STATUSES, response.text
        assert isinstance(body["code"], int) and body["code"] < 0 and isinstance(body["msg"], str), body
        if body["code"] != -2021:
            assert keyspace(account.engine) == before, response.text
            return
    account.touched()


FUZZ = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[f"{e.method} {e.path}" for e in ENDPOINTS])
def test_endpoint_never_fails(dialect: tuple[str, SeededAccount], endpoint: Any) -> None:
    url, account = dialect

    @FUZZ
    @given(params=requests_for(endpoint))
    def one(params: dict[str, str]) -> None:
        before = account.seeded()
        response = send(url, endpoint.method, endpoint.path, params, signed=endpoint.signed)
        check(response, account, before)

    one()


RAW = st.one_of(
    st.binary(max_size=40).map(lambda raw: raw.decode("latin-1")),
    st.sampled_from(["%ZZ", "a=%FF%FE", "symbol=%E2%82", "=", "&&&", "a", "symbol", "timestamp=1&timestamp=2"]),
)


@FUZZ
@given(
    raw=RAW, in_body=st.booleans(), path=st.sampled_from(["/api/v3/order", "/api/v3/account", "/api/v3/ticker/price"])
)
def test_malformed_wire_input(dialect: tuple[str, SeededAccount], raw: str, in_body: bool, path: str) -> None:
    url, account = dialect
    before = account.seeded()
    method = "POST" if path == "/api/v3/order" else "GET"
    text = raw + "&" + signed_query({})
    headers = {"X-MBX-APIKEY": KEY, "Content-Type": "application/x-www-form-urlencoded"}
    body = text.encode("latin-1") if in_body else None
    target = url + path + ("" if in_body else "?" + text.replace(" ", "%20").replace("#", "%23"))
    response = requests.request(method, target, data=body, headers=headers, timeout=10)
    check(response, account, before)
