"""Accounts over real HTTP: the admin routes, the auth matrix on every route (no key, wrong, placeholder,
revoked, trading and admin key), x-account, TEST_ENV, and the ccxt class trading in its key's account."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import ccxt
import pytest
import requests
from servers import serving, start_server
from tests_helpers import keyspace

from mockexchange_ccxt import Engine, MockExchange, Settings
from mockexchange_ccxt.routes import ROUTES

ADMIN = "accounts-admin-key"


@dataclass
class Api:
    url: str
    engine: Engine

    def call(self, method: str, path: str, key: str | None = ADMIN, **kwargs: Any) -> requests.Response:
        headers = kwargs.pop("headers", {})
        if key is not None:
            headers["x-api-key"] = key
        return requests.request(method, self.url + path, headers=headers, timeout=10, **kwargs)

    def create(self, name: str) -> dict[str, str]:
        created = self.call("POST", "/admin/accounts", json={"account": name})
        assert created.status_code == 201, created.text
        answer: dict[str, str] = created.json()
        return answer


@pytest.fixture
def api(engine: Engine, valkey_server: Any, tmp_path: Any) -> Iterator[Api]:
    served = Engine(Settings(redis_url=valkey_server.url, api_key=ADMIN, api_secret="admin-secret", data_dir=tmp_path))
    with served, serving(served) as url:
        served.set_price("BTC/USDT", "50000")
        yield Api(url, served)


def test_create_list_rotate_revoke_delete(api: Api) -> None:
    alice = api.create("alice")
    assert set(alice) == {"account", "apiKey", "secret"} and alice["account"] == "alice"
    assert alice["apiKey"] not in str(keyspace(api.engine)), "a key is stored in clear"
    again = api.call("POST", "/admin/accounts", json={"account": "alice"})
    assert (again.status_code, again.json()["error"]["code"]) == (409, "ACCOUNT_EXISTS")
    main = api.call("POST", "/admin/accounts", json={"account": "main"})
    assert (main.status_code, main.json()["error"]["code"]) == (409, "ACCOUNT_EXISTS")

    listed = api.call("GET", "/admin/accounts").json()
    assert [(a["account"], a["hasKey"]) for a in listed] == [("alice", True), ("main", False)]
    assert all(set(a) == {"account", "created", "datetime", "hasKey"} for a in listed)
    assert alice["apiKey"] not in str(listed) and alice["secret"] not in str(listed)

    assert api.call("GET", "/balance", alice["apiKey"]).status_code == 200
    rotated = api.call("POST", "/admin/accounts/alice/rotate").json()
    assert (
        rotated["account"] == "alice" and rotated["apiKey"] != alice["apiKey"] and rotated["secret"] != alice["secret"]
    )
    assert api.call("GET", "/balance", alice["apiKey"]).status_code == 401  # the old key stopped at once
    assert api.call("GET", "/balance", rotated["apiKey"]).status_code == 200

    api.call("POST", "/admin/fund", json={"asset": "USDT", "amount": "100", "account": "alice"})
    revoked = api.call("POST", "/admin/accounts/alice/revoke")
    assert revoked.json() == {"account": "alice", "revoked": True}
    assert api.call("GET", "/balance", rotated["apiKey"]).status_code == 401
    books = api.call("GET", "/balance", headers={"x-account": "alice"}).json()  # the books stay
    assert books["USDT"]["total"] == "100"
    assert [a["hasKey"] for a in api.call("GET", "/admin/accounts").json()] == [False, False]

    deleted = api.call("DELETE", "/admin/accounts/alice")
    assert deleted.json() == {"account": "alice", "deleted": True}
    gone = api.call("GET", "/balance", headers={"x-account": "alice"})
    assert (gone.status_code, gone.json()["error"]["code"]) == (404, "ACCOUNT_NOT_FOUND")
    assert [a["account"] for a in api.call("GET", "/admin/accounts").json()] == ["main"]
    assert not [k for k in keyspace(api.engine) if "{alice}" in k and not k.endswith(":seq")]
    reborn = api.create("alice")  # the same name again: empty books, fresh key, ids that never repeat
    assert api.call("GET", "/balance", reborn["apiKey"]).json()["total"] == {}


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [
        ("POST", "/admin/accounts", {"account": ""}, 400, "BAD_REQUEST"),
        ("POST", "/admin/accounts", {"account": "x" * 33}, 400, "BAD_REQUEST"),
        ("POST", "/admin/accounts", {"account": "a b"}, 400, "BAD_REQUEST"),
        ("POST", "/admin/accounts", {"account": "{main}"}, 400, "BAD_REQUEST"),
        ("POST", "/admin/accounts", {"account": "ünï"}, 400, "BAD_REQUEST"),
        ("POST", "/admin/accounts", {}, 400, "BAD_REQUEST"),
        ("POST", "/admin/accounts/nobody/rotate", None, 404, "ACCOUNT_NOT_FOUND"),
        ("POST", "/admin/accounts/nobody/revoke", None, 404, "ACCOUNT_NOT_FOUND"),
        ("DELETE", "/admin/accounts/nobody", None, 404, "ACCOUNT_NOT_FOUND"),
        ("DELETE", "/admin/accounts/main", None, 400, "BAD_REQUEST"),
        ("DELETE", "/admin/accounts/a%20b", None, 400, "BAD_REQUEST"),
        ("POST", "/admin/fund", {"asset": "USDT", "amount": 1, "account": "nobody"}, 404, "ACCOUNT_NOT_FOUND"),
        ("POST", "/admin/edit_balance", {"asset": "USDT", "free": 1, "account": "a:b"}, 400, "BAD_REQUEST"),
        ("POST", "/admin/reset", {"account": "nobody"}, 404, "ACCOUNT_NOT_FOUND"),
        ("POST", "/admin/reset", {"all": "yes"}, 400, "BAD_REQUEST"),
        ("POST", "/admin/reset", {"all": True, "account": "main"}, 400, "BAD_REQUEST"),
        ("POST", "/admin/reset", {"all": False}, 400, "BAD_REQUEST"),
    ],
)
def test_bad_account_input_is_refused_and_changes_nothing(
    api: Api, method: str, path: str, body: Any, status: int, code: str
) -> None:
    before = keyspace(api.engine)
    answer = api.call(method, path, json=body)
    assert (answer.status_code, answer.json()["error"]["code"]) == (status, code), answer.text
    assert keyspace(api.engine) == before


def concrete(path: str) -> str:
    values = {"symbol": "BTC%2FUSDT", "asset": "USDT", "account": "bob"}
    return re.sub(r"{(\w+)}", lambda m: values.get(m.group(1), "1"), path)


@pytest.mark.parametrize("route", ROUTES, ids=[f"{r.method} {r.path}" for r in ROUTES])
def test_the_auth_matrix_on_every_route(api: Api, route: Any) -> None:
    """No, wrong, placeholder or revoked key: 401; a trading key on an admin route: 403; both change nothing
    and say nothing about other accounts. A trading key elsewhere, and the admin key, pass auth."""
    alice, bob = api.create("alice"), api.create("bob")
    revoked = api.create("carol")["apiKey"]
    api.call("POST", "/admin/accounts/carol/revoke")
    before = keyspace(api.engine)
    path = concrete(route.path)
    for key in (None, "wrong", "invalid-key", revoked):
        answer = api.call(route.method, path, key, json={})
        assert (answer.status_code, answer.json()["error"]["code"]) == (401, "AUTHENTICATION")
    trading = api.call(route.method, path, alice["apiKey"], json={}, headers={"x-account": "bob"})
    if route.admin:
        assert (trading.status_code, trading.json()["error"]["code"]) == (403, "FORBIDDEN")
        assert "bob" not in trading.text
    else:
        assert trading.status_code not in (401, 403), trading.text
    assert keyspace(api.engine) == before
    admin = api.call(route.method, path, json={})
    assert admin.status_code not in (401, 403), admin.text
    assert bob["apiKey"]


def test_each_key_trades_in_its_own_account_and_x_account_means_nothing_to_it(api: Api) -> None:
    alice, bob = api.create("alice"), api.create("bob")
    for name in ("alice", "bob"):
        api.call("POST", "/admin/fund", json={"asset": "USDT", "amount": "1000", "account": name})
    order = {"symbol": "BTC/USDT", "side": "buy", "type": "limit", "amount": "0.01", "price": "40000"}
    placed = api.call("POST", "/orders", alice["apiKey"], json=order, headers={"x-account": "bob"}).json()
    assert int(placed["id"]) > 10**12  # alice's number in front of her counter
    assert api.call("GET", "/balance/USDT", alice["apiKey"]).json()["used"] == "400.4"
    assert api.call("GET", "/balance/USDT", bob["apiKey"]).json() == {
        "asset": "USDT", "free": "1000", "used": "0", "total": "1000"
    }  # fmt: skip
    missing = api.call("GET", f"/orders/{placed['id']}", bob["apiKey"])
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "ORDER_NOT_FOUND")
    as_alice = api.call("GET", f"/orders/{placed['id']}", headers={"x-account": "alice"})  # the admin reads anyone
    assert as_alice.json()["status"] == "open"
    assert api.call("GET", "/balance").json()["total"] == {}  # the admin key alone: main
    filled = api.call("POST", "/admin/price", json={"symbol": "BTC/USDT", "price": "39000"}).json()
    assert filled == {"symbol": "BTC/USDT", "filled": 1}  # one price settles every account
    assert api.call("GET", f"/orders/{placed['id']}", alice["apiKey"]).json()["status"] == "closed"


def test_fund_edit_and_reset_one_account_or_all(api: Api) -> None:
    api.create("alice")
    for account in ("alice", None):
        body = {"asset": "USDT", "amount": "10"} | ({"account": account} if account else {})
        assert api.call("POST", "/admin/fund", json=body).json()["total"] == "10"
    edited = api.call("POST", "/admin/edit_balance", json={"asset": "BTC", "free": "2", "account": "alice"})
    assert edited.json() == {"asset": "BTC", "free": "2", "used": "0", "total": "2"}
    as_alice = {"x-account": "alice"}
    assert api.call("POST", "/admin/fund", json={"asset": "ETH", "amount": "1"}, headers=as_alice).status_code == 200
    assert sorted(api.call("GET", "/balance", headers=as_alice).json()["total"]) == ["BTC", "ETH", "USDT"]
    assert api.call("POST", "/admin/reset", json={"account": "alice"}).json() == {"reset": True}
    assert api.call("GET", "/balance", headers=as_alice).json()["total"] == {}
    assert api.call("GET", "/balance").json()["total"] == {"USDT": "10"}  # main untouched
    api.call("POST", "/admin/fund", json={"asset": "USDT", "amount": "5", "account": "alice"})
    everything = api.call("POST", "/admin/reset", json={"all": True}).json()
    assert everything == {"reset": True, "accounts": ["alice", "main"]}
    assert api.call("GET", "/balance").json()["total"] == {}
    assert api.call("GET", "/balance", headers=as_alice).json()["total"] == {}
    assert api.call("POST", "/admin/reset").json() == {"reset": True}  # the seed's call keeps its meaning


def test_test_env_chooses_the_account_by_header(engine: Engine, valkey_server: Any, tmp_path: Any) -> None:
    served = Engine(Settings(redis_url=valkey_server.url, test_env=True, data_dir=tmp_path))
    with served, serving(served) as url:
        created = requests.post(url + "/admin/accounts", json={"account": "dev"}, timeout=10)
        assert created.status_code == 201
        requests.post(url + "/admin/fund", json={"asset": "USDT", "amount": "3"}, headers={"x-account": "dev"})
        assert requests.get(url + "/balance/USDT", headers={"x-account": "dev"}, timeout=10).json()["total"] == "3"
        assert requests.get(url + "/balance/USDT", timeout=10).json()["total"] == "0"
        unknown = requests.get(url + "/balance", headers={"x-account": "nobody"}, timeout=10)
        assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "ACCOUNT_NOT_FOUND")


def test_the_ccxt_class_trades_in_the_account_of_its_key(api: Api) -> None:
    alice = api.create("alice")
    admin = MockExchange({"apiKey": ADMIN, "options": {"serverUrl": api.url}})
    admin.fund("USDT", 1000)  # the admin key alone: main
    api.call("POST", "/admin/fund", json={"asset": "USDT", "amount": "1000", "account": "alice"})
    bot = MockExchange({"apiKey": alice["apiKey"], "options": {"serverUrl": api.url}})
    order = bot.create_order("BTC/USDT", "market", "buy", 0.001)
    assert order["status"] == "closed"
    assert bot.fetch_balance()["BTC"]["total"] == 0.001
    assert admin.fetch_balance()["total"]["BTC"] == 0  # main holds none (a zero row, as every market currency)
    with pytest.raises(ccxt.OrderNotFound):
        admin.fetch_order(order["id"])  # main has no such order
    with pytest.raises(ccxt.PermissionDenied):
        bot.fund("USDT", 1)
    with pytest.raises(ccxt.NotSupported, match="account"):
        MockExchange({"apiKey": ADMIN, "options": {"serverUrl": api.url, "account": "alice"}})  # the key decides
    api.call("POST", "/admin/accounts/alice/revoke")
    with pytest.raises(ccxt.AuthenticationError):
        bot.fetch_balance()
    in_process = MockExchange({"options": {"redisUrl": api.engine.store.url, "account": "alice"}})
    assert in_process.fetch_balance()["BTC"]["total"] == 0.001
    assert Decimal(str(in_process.fetch_order(order["id"])["amount"])) == Decimal("0.001")


def test_a_revoked_key_stops_at_once_on_every_worker(engine: Engine, valkey_server: Any, tmp_path: Path) -> None:
    server = start_server(tmp_path / "serve.log", {"REDIS_URL": valkey_server.url, "API_KEY": ADMIN}, ADMIN, workers=2)
    try:
        admin = {"x-api-key": ADMIN}
        created = requests.post(server.url + "/admin/accounts", json={"account": "alice"}, headers=admin, timeout=10)
        key = {"x-api-key": created.json()["apiKey"]}
        sessions = [requests.Session() for _ in range(8)]  # keep-alive connections, spread over both workers
        assert {s.get(server.url + "/balance", headers=key, timeout=10).status_code for s in sessions} == {200}
        requests.post(server.url + "/admin/accounts/alice/revoke", headers=admin, timeout=10)
        assert {s.get(server.url + "/balance", headers=key, timeout=10).status_code for s in sessions} == {401}
        for session in sessions:
            session.close()  # an open keep-alive connection would hold up the server's graceful stop
    finally:
        assert server.stop() == 0, server.output()
