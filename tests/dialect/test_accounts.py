"""Accounts in the dialect: each trading key (``POST /admin/accounts``) signs with its own secret and trades in
its own account; the admin key is ``API_KEY`` with ``API_SECRET``, and may act as another account with
``x-account``, as on the REST API; a revoked or rotated key stops at once."""

from __future__ import annotations

from typing import Any

import ccxt
import pytest
import requests
from servers import serving
from tests_helpers import keyspace

from mockexchange_ccxt import Engine, Settings

from .support import KEY, binance, error_of, send, signed_query

ADMIN = {"x-api-key": KEY}


def create(url: str, name: str) -> dict[str, Any]:
    created = requests.post(url + "/admin/accounts", json={"account": name}, headers=ADMIN, timeout=10)
    assert created.status_code == 201, created.text
    answer: dict[str, Any] = created.json()
    funded = requests.post(
        url + "/admin/fund", json={"account": name, "asset": "USDT", "amount": 1000}, headers=ADMIN, timeout=10
    )
    assert funded.ok, funded.text
    return answer


def test_each_key_trades_in_its_own_account(facade: tuple[str, Engine]) -> None:
    url, engine = facade
    alice = create(url, "alice")
    ex = binance(url, alice["apiKey"], alice["secret"])
    assert ex.fetch_balance()["USDT"]["free"] == 1000
    order = ex.create_order("BTC/USDT", "market", "buy", 0.01)
    assert (order["status"], order["cost"]) == ("closed", 500.0)
    assert ex.fetch_balance()["BTC"]["total"] == 0.01
    assert [o["id"] for o in ex.fetch_orders("BTC/USDT")] == [order["id"]]
    main = binance(url)
    assert main.fetch_balance()["USDT"]["free"] == 100000 and "BTC" not in main.fetch_balance()["total"]
    assert main.fetch_orders("BTC/USDT") == []
    with pytest.raises(ccxt.OrderNotFound):  # alice's order is not main's
        main.fetch_order(order["id"], "BTC/USDT")
    assert engine.fetch_balance()["USDT"]["free"] == 100000


def test_the_admin_key_may_act_as_another_account(facade: tuple[str, Engine]) -> None:
    url, _ = facade
    create(url, "bob")
    response = send(url, "GET", "/api/v3/account")
    assert response.json()["balances"][0]["free"] == "100000.00000000"  # main's
    as_bob = requests.get(
        url + "/api/v3/account?" + signed_query({}), headers={"X-MBX-APIKEY": KEY, "x-account": "bob"}, timeout=10
    )
    assert as_bob.json()["balances"] == [{"asset": "USDT", "free": "1000.00000000", "locked": "0.00000000"}]
    nobody = requests.get(
        url + "/api/v3/account?" + signed_query({}), headers={"X-MBX-APIKEY": KEY, "x-account": "nobody"}, timeout=10
    )
    assert error_of(nobody)[:2] == (401, -2015)


def test_a_trading_key_cannot_act_as_another(facade: tuple[str, Engine]) -> None:
    url, _ = facade
    carol = create(url, "carol")
    query = signed_query({}, carol["secret"])
    headers = {"X-MBX-APIKEY": carol["apiKey"], "x-account": "main"}
    answer = requests.get(url + "/api/v3/account?" + query, headers=headers, timeout=10).json()
    assert answer["balances"] == [{"asset": "USDT", "free": "1000.00000000", "locked": "0.00000000"}]  # carol's


def test_revoked_and_rotated_keys_stop_at_once(facade: tuple[str, Engine]) -> None:
    url, engine = facade
    dave = create(url, "dave")
    assert send(url, "GET", "/api/v3/account", key=dave["apiKey"], secret=dave["secret"]).ok
    rotated = requests.post(url + "/admin/accounts/dave/rotate", headers=ADMIN, timeout=10).json()
    before = keyspace(engine)
    old = send(url, "POST", "/api/v3/order", {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.01"},
               key=dave["apiKey"], secret=dave["secret"])  # fmt: skip
    assert error_of(old)[:2] == (401, -2015)
    assert keyspace(engine) == before
    with pytest.raises(ccxt.AuthenticationError):  # the new key with the old secret
        binance(url, rotated["apiKey"], dave["secret"]).fetch_balance()
    assert binance(url, rotated["apiKey"], rotated["secret"]).fetch_balance()["USDT"]["free"] == 1000
    requests.post(url + "/admin/accounts/dave/revoke", headers=ADMIN, timeout=10).raise_for_status()
    with pytest.raises(ccxt.AuthenticationError):
        binance(url, rotated["apiKey"], rotated["secret"]).fetch_balance()


def test_test_env_chooses_the_account_by_header(engine: Engine, valkey_server: Any, tmp_path: Any) -> None:
    served = Engine(Settings(redis_url=valkey_server.url, test_env=True, data_dir=tmp_path))
    with served, serving(served) as url:
        requests.post(url + "/admin/accounts", json={"account": "erin"}, timeout=10).raise_for_status()
        requests.post(url + "/admin/fund", json={"account": "erin", "asset": "USDT", "amount": 7}, timeout=10)
        answer = requests.get(url + "/api/v3/account", headers={"x-account": "erin"}, timeout=10).json()
        assert answer["balances"] == [{"asset": "USDT", "free": "7.00000000", "locked": "0.00000000"}]
