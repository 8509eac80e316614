"""The dialect's answers, field by field, as Binance writes them (8-decimal strings, integer ids and times), and
its parameter checks, each with Binance's code and text; a refused request changes nothing."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import requests
from tests_helpers import keyspace

from mockexchange_ccxt import Engine

from .support import error_of, send

LIMIT = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.1", "price": "40000"}
MARKET = {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.1"}


def get(url: str, path: str, **params: Any) -> Any:
    response = send(url, "GET", path, params, signed=False, key=None)
    assert response.status_code == 200, response.text
    return response.json()


def test_ping_time_and_v1(facade: tuple[str, Engine]) -> None:
    url, _ = facade
    assert get(url, "/api/v3/ping") == {} == get(url, "/api/v1/ping")
    assert abs(get(url, "/api/v3/time")["serverTime"] - time.time() * 1000) < 5_000
    assert get(url, "/api/v1/exchangeInfo")["symbols"] == get(url, "/api/v3/exchangeInfo")["symbols"]


def test_exchange_info(facade: tuple[str, Engine]) -> None:
    url, _ = facade
    info = get(url, "/api/v3/exchangeInfo")
    assert (info["timezone"], [s["symbol"] for s in info["symbols"]]) == ("UTC", ["BTCUSDT", "ETHUSDT"])
    btc = info["symbols"][0]
    assert (btc["status"], btc["baseAsset"], btc["quoteAsset"], btc["orderTypes"]) == (
        "TRADING",
        "BTC",
        "USDT",
        ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT"],
    )
    filters = {f["filterType"]: f for f in btc["filters"]}
    assert filters["PRICE_FILTER"] == {
        "filterType": "PRICE_FILTER",
        "minPrice": "0.00000001",
        "maxPrice": "90071992.54740991",
        "tickSize": "0.00000001",
    }
    assert filters["LOT_SIZE"]["stepSize"] == "0.00000001" and filters["LOT_SIZE"]["maxQty"] == "10000000000.00000000"
    assert filters["NOTIONAL"]["minNotional"] == "0.00000001"
    assert btc["permissionSets"] == [["SPOT"]]
    one = get(url, "/api/v3/exchangeInfo", symbol="ETHUSDT")["symbols"]
    assert [s["symbol"] for s in one] == ["ETHUSDT"]
    two = get(url, "/api/v3/exchangeInfo", symbols='["ETHUSDT","BTCUSDT"]')["symbols"]
    assert [s["symbol"] for s in two] == ["ETHUSDT", "BTCUSDT"]
    assert get(url, "/api/v3/exchangeInfo", permissions="MARGIN")["symbols"] == []
    bad = send(url, "GET", "/api/v3/exchangeInfo", {"symbol": "DOGEUSDT"}, signed=False)
    assert error_of(bad) == (400, -1121, "Invalid symbol.")
    both = send(url, "GET", "/api/v3/exchangeInfo", {"symbol": "BTCUSDT", "symbols": '["BTCUSDT"]'}, signed=False)
    assert error_of(both)[:2] == (400, -1128)


#: The integer fields of a 24 h ticker; every other field but the symbol is a decimal string.
INTEGERS = ("openTime", "closeTime", "firstId", "lastId", "count")


def test_tickers(facade: tuple[str, Engine]) -> None:
    url, _ = facade
    eth = get(url, "/api/v3/ticker/24hr", symbol="ETHUSDT")
    assert {k: eth[k] for k in ("symbol", "lastPrice", "bidPrice", "askPrice")} == {
        "symbol": "ETHUSDT",
        "lastPrice": "2500.00000000",
        "bidPrice": "2499.50000000",
        "askPrice": "2500.50000000",
    }
    assert eth["closeTime"] - eth["openTime"] == 86_400_000
    assert all(isinstance(value, str) for name, value in eth.items() if name not in INTEGERS), eth  # never null
    assert (eth["bidQty"], eth["lastQty"], eth["priceChangePercent"]) == ("0.00000000", "0.00000000", "0.000")
    assert [t["symbol"] for t in get(url, "/api/v3/ticker/24hr")] == ["BTCUSDT", "ETHUSDT"]
    mini = get(url, "/api/v3/ticker/24hr", symbol="BTCUSDT", type="MINI")
    assert "bidPrice" not in mini and mini["lastPrice"] == "50000.00000000"
    assert get(url, "/api/v3/ticker/price", symbol="BTCUSDT") == {"symbol": "BTCUSDT", "price": "50000.00000000"}
    assert get(url, "/api/v3/ticker/price", symbols='["ETHUSDT"]') == [{"symbol": "ETHUSDT", "price": "2500.00000000"}]
    assert get(url, "/api/v3/ticker/bookTicker", symbol="ETHUSDT")["askPrice"] == "2500.50000000"
    assert get(url, "/api/v3/trades", symbol="BTCUSDT") == [] == get(url, "/api/v3/aggTrades", symbol="BTCUSDT")
    unknown = send(url, "GET", "/api/v3/ticker/price", {"symbols": '["BTCUSDT","XYZUSDT"]'}, signed=False)
    assert error_of(unknown)[:2] == (400, -1121)


def test_new_order_answers_ack_result_full(facade: tuple[str, Engine]) -> None:
    url, _ = facade
    ack = send(url, "POST", "/api/v3/order", {**MARKET, "newOrderRespType": "ACK", "newClientOrderId": "a-1"}).json()
    assert set(ack) == {"symbol", "orderId", "orderListId", "clientOrderId", "transactTime"}
    assert (ack["orderId"], ack["orderListId"], ack["clientOrderId"]) == (1, -1, "a-1")
    result = send(url, "POST", "/api/v3/order", {**MARKET, "newOrderRespType": "RESULT"}).json()
    assert "fills" not in result and len(result["clientOrderId"]) == 22  # named by the server, as on Binance
    full = send(url, "POST", "/api/v3/order", MARKET).json()
    assert {k: v for k, v in full.items() if k not in ("transactTime", "workingTime", "clientOrderId")} == {
        "symbol": "BTCUSDT",
        "orderId": 3,
        "orderListId": -1,
        "price": "0.00000000",
        "origQty": "0.10000000",
        "executedQty": "0.10000000",
        "origQuoteOrderQty": "0.00000000",
        "cummulativeQuoteQty": "5000.00000000",
        "status": "FILLED",
        "timeInForce": "GTC",
        "type": "MARKET",
        "side": "BUY",
        "selfTradePreventionMode": "NONE",
        "fills": [
            {
                "price": "50000.00000000",
                "qty": "0.10000000",
                "commission": "5.00000000",
                "commissionAsset": "USDT",
                "tradeId": 3,
            }
        ],
    }
    resting = send(url, "POST", "/api/v3/order", LIMIT).json()
    assert (resting["status"], resting["price"], resting["executedQty"], resting["fills"]) == (
        "NEW",
        "40000.00000000",
        "0.00000000",
        [],
    )


def test_one_order_lookups_and_cancel(facade: tuple[str, Engine]) -> None:
    url, engine = facade
    placed = send(url, "POST", "/api/v3/order", {**LIMIT, "newClientOrderId": "dip-1"}).json()
    order_id = placed["orderId"]
    fetched = send(url, "GET", "/api/v3/order", {"symbol": "BTCUSDT", "orderId": order_id}).json()
    assert (fetched["status"], fetched["clientOrderId"], fetched["isWorking"], fetched["stopPrice"]) == (
        "NEW",
        "dip-1",
        True,
        "0.00000000",
    )
    assert fetched["time"] == fetched["workingTime"] == placed["transactTime"]
    by_client = send(url, "GET", "/api/v3/order", {"symbol": "BTCUSDT", "origClientOrderId": "dip-1"}).json()
    assert by_client["orderId"] == order_id
    both_missing = send(url, "GET", "/api/v3/order", {"symbol": "BTCUSDT"})
    assert error_of(both_missing)[:2] == (400, -1102)
    other_symbol = send(url, "GET", "/api/v3/order", {"symbol": "ETHUSDT", "orderId": order_id})
    assert error_of(other_symbol) == (400, -2013, "Order does not exist.")
    open_orders = send(url, "GET", "/api/v3/openOrders", {}).json()
    assert [o["orderId"] for o in open_orders] == [order_id]
    canceled = send(url, "DELETE", "/api/v3/order", {"symbol": "BTCUSDT", "orderId": order_id}).json()
    assert (canceled["status"], canceled["origClientOrderId"], canceled["clientOrderId"]) == (
        "CANCELED",
        "dip-1",
        "dip-1",
    )
    before = keyspace(engine)
    again = send(url, "DELETE", "/api/v3/order", {"symbol": "BTCUSDT", "orderId": order_id})
    assert error_of(again) == (400, -2011, "Unknown order sent.")
    assert error_of(send(url, "DELETE", "/api/v3/openOrders", {"symbol": "BTCUSDT"})) == (
        400,
        -2011,
        "Unknown order sent.",
    )
    assert keyspace(engine) == before


def test_test_order_changes_nothing(facade: tuple[str, Engine]) -> None:
    url, engine = facade
    before = keyspace(engine)
    assert send(url, "POST", "/api/v3/order/test", MARKET).json() == {}
    rates = send(url, "POST", "/api/v3/order/test", {**MARKET, "computeCommissionRates": "true"}).json()
    assert rates["standardCommissionForOrder"] == {"maker": "0.00100000", "taker": "0.00100000"}
    short = send(url, "POST", "/api/v3/order/test", {**MARKET, "quantity": "3"})
    assert error_of(short) == (400, -2010, "Account has insufficient balance for requested action.")
    assert keyspace(engine) == before


def test_cancel_replace(facade: tuple[str, Engine]) -> None:
    url, engine = facade
    first = send(url, "POST", "/api/v3/order", LIMIT).json()["orderId"]
    replace = {**LIMIT, "price": "41000", "cancelReplaceMode": "STOP_ON_FAILURE", "cancelOrderId": first}
    done = send(url, "POST", "/api/v3/order/cancelReplace", replace).json()
    assert (done["cancelResult"], done["newOrderResult"]) == ("SUCCESS", "SUCCESS")
    assert (done["cancelResponse"]["status"], done["newOrderResponse"]["price"]) == ("CANCELED", "41000.00000000")
    before = keyspace(engine)
    failed = send(url, "POST", "/api/v3/order/cancelReplace", replace)  # the first order is canceled already
    assert error_of(failed) == (400, -2022, "Order cancel-replace failed.")
    assert failed.json()["data"]["cancelResponse"] == {"code": -2011, "msg": "Unknown order sent."}
    assert keyspace(engine) == before
    second = done["newOrderResponse"]["orderId"]
    too_big = {**replace, "cancelOrderId": second, "quantity": "100"}
    partial = send(url, "POST", "/api/v3/order/cancelReplace", too_big)
    assert error_of(partial)[:2] == (409, -2021)
    assert partial.json()["data"]["newOrderResponse"]["code"] == -2010
    assert engine.fetch_order(str(second))["status"] == "canceled"
    anyway = {**LIMIT, "cancelReplaceMode": "ALLOW_FAILURE", "cancelOrderId": second}
    placed_anyway = send(url, "POST", "/api/v3/order/cancelReplace", anyway)
    assert error_of(placed_anyway)[:2] == (409, -2021)
    assert placed_anyway.json()["data"]["newOrderResult"] == "SUCCESS"


def test_history_paging(facade: tuple[str, Engine]) -> None:
    url, _ = facade
    ids = [send(url, "POST", "/api/v3/order", MARKET).json()["orderId"] for _ in range(4)]
    history = send(url, "GET", "/api/v3/allOrders", {"symbol": "BTCUSDT"}).json()
    assert [o["orderId"] for o in history] == ids and history[0]["status"] == "FILLED"
    newest = send(url, "GET", "/api/v3/allOrders", {"symbol": "BTCUSDT", "limit": 2}).json()
    assert [o["orderId"] for o in newest] == ids[2:]
    from_id = send(url, "GET", "/api/v3/allOrders", {"symbol": "BTCUSDT", "orderId": ids[1], "limit": 2}).json()
    assert [o["orderId"] for o in from_id] == ids[1:3]
    trades = send(url, "GET", "/api/v3/myTrades", {"symbol": "BTCUSDT"}).json()
    assert [t["orderId"] for t in trades] == ids
    assert {k: v for k, v in trades[0].items() if k != "time"} == {
        "symbol": "BTCUSDT",
        "id": ids[0],
        "orderId": ids[0],
        "orderListId": -1,
        "price": "50000.00000000",
        "qty": "0.10000000",
        "quoteQty": "5000.00000000",
        "commission": "5.00000000",
        "commissionAsset": "USDT",
        "isBuyer": True,
        "isMaker": False,
        "isBestMatch": True,
    }
    of_order = send(url, "GET", "/api/v3/myTrades", {"symbol": "BTCUSDT", "orderId": ids[2]}).json()
    assert [t["id"] for t in of_order] == [ids[2]]
    assert send(url, "GET", "/api/v3/myTrades", {"symbol": "BTCUSDT", "orderId": 999}).json() == []
    assert [t["id"] for t in send(url, "GET", "/api/v3/myTrades", {"symbol": "BTCUSDT", "fromId": ids[3]}).json()] == [
        ids[3]
    ]
    assert send(url, "GET", "/api/v3/myTrades", {"symbol": "ETHUSDT"}).json() == []


def test_account_and_fees(facade: tuple[str, Engine]) -> None:
    url, _ = facade
    send(url, "POST", "/api/v3/order", MARKET)
    send(url, "POST", "/api/v3/order", {**LIMIT, "symbol": "ETHUSDT", "quantity": "1", "price": "2000"})
    account = send(url, "GET", "/api/v3/account").json()
    assert account["balances"] == [
        {"asset": "BTC", "free": "0.10000000", "locked": "0.00000000"},
        {"asset": "USDT", "free": "92993.00000000", "locked": "2002.00000000"},
    ]
    assert (account["makerCommission"], account["commissionRates"]["taker"], account["canTrade"]) == (
        10,
        "0.00100000",
        True,
    )
    assert account["accountType"] == "SPOT" and account["permissions"] == ["SPOT"]
    fees = send(url, "GET", "/sapi/v1/asset/tradeFee").json()
    assert fees == [
        {"symbol": "BTCUSDT", "makerCommission": "0.001", "takerCommission": "0.001"},
        {"symbol": "ETHUSDT", "makerCommission": "0.001", "takerCommission": "0.001"},
    ]
    assert len(send(url, "GET", "/sapi/v1/asset/tradeFee", {"symbol": "ETHUSDT"}).json()) == 1


def mandatory(name: str) -> tuple[int, str]:
    return -1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed."


def not_required(name: str) -> tuple[int, str]:
    return -1106, f"Parameter '{name}' sent when not required."


def illegal(name: str, legal: str) -> tuple[int, str]:
    return -1100, f"Illegal characters found in parameter '{name}'; legal range is '{legal}'."


DECIMAL = "^([0-9]{1,20})(\\.[0-9]{1,20})?$"
UNREAD = "Not all sent parameters were read; read '6' parameter(s) but was sent '7'."
NO_FUNDS = "Account has insufficient balance for requested action."


def without(params: dict[str, str], name: str) -> dict[str, str]:
    return {k: v for k, v in params.items() if k != name}


# Each case: the parameters of POST /api/v3/order, and Binance's answer (code, text).
REFUSED_ORDERS: dict[str, tuple[dict[str, Any], tuple[int, str]]] = {
    "an unknown parameter": ({**MARKET, "leverage": "3"}, (-1104, UNREAD)),
    "an iceberg (not implemented)": ({**LIMIT, "icebergQty": "0.01"}, not_required("icebergQty")),
    "a quote amount on a limit": ({**LIMIT, "quoteOrderQty": "100"}, not_required("quoteOrderQty")),
    "a stop price on a limit": ({**LIMIT, "stopPrice": "100"}, not_required("stopPrice")),
    "a bad side": ({**MARKET, "side": "LONG"}, (-1117, "Invalid side.")),
    "a bad type": ({**MARKET, "type": "STOP"}, (-1116, "Invalid orderType.")),
    "a bad time in force": ({**LIMIT, "timeInForce": "GTX"}, (-1115, "Invalid timeInForce.")),
    "a market order with a time in force": ({**MARKET, "timeInForce": "GTC"}, not_required("timeInForce")),
    "a market order with a price": ({**MARKET, "price": "1"}, not_required("price")),
    "a limit without price": (without(LIMIT, "price"), mandatory("price")),
    "a limit without time in force": (without(LIMIT, "timeInForce"), mandatory("timeInForce")),
    "no quantity": (
        without(MARKET, "quantity"),
        (-1102, "Param 'quantity' or 'quoteOrderQty' must be sent, but both were empty/null!"),
    ),
    "a limit without quantity": (without(LIMIT, "quantity"), mandatory("quantity")),
    "an empty quantity": ({**MARKET, "quantity": ""}, (-1105, "Parameter 'quantity' was empty.")),
    "a negative quantity": ({**MARKET, "quantity": "-1"}, illegal("quantity", DECIMAL)),
    "a quantity in exponent form": ({**MARKET, "quantity": "1e-3"}, illegal("quantity", DECIMAL)),
    "an unknown symbol": ({**MARKET, "symbol": "DOGEUSDT"}, (-1121, "Invalid symbol.")),
    "a client id Binance refuses": (
        {**MARKET, "newClientOrderId": "x" * 37},
        illegal("newClientOrderId", "^[\\.A-Z\\:/a-z0-9_-]{1,36}$"),
    ),
    "a bad response type": (
        {**MARKET, "newOrderRespType": "ALL"},
        (-1130, "Data sent for parameter 'newOrderRespType' is not valid."),
    ),
    "too many decimals (the assets' precision)": (
        {**MARKET, "quantity": "0.123456789"},
        (-1111, "Precision is over the maximum defined for this asset."),
    ),
    "no funds (the engine's rule)": ({**MARKET, "quantity": "2"}, (-2010, NO_FUNDS)),
}


@pytest.mark.parametrize("case", list(REFUSED_ORDERS))
def test_refused_orders(facade: tuple[str, Engine], case: str) -> None:
    url, engine = facade
    before = keyspace(engine)
    params, (code, text) = REFUSED_ORDERS[case]
    response = send(url, "POST", "/api/v3/order", params)
    assert error_of(response) == (400, code, text)
    assert keyspace(engine) == before


def test_a_parameter_given_twice(facade: tuple[str, Engine]) -> None:
    url, _ = facade
    response = requests.get(f"{url}/api/v3/ticker/price?symbol=BTCUSDT&symbol=ETHUSDT", timeout=10)
    assert error_of(response) == (400, -1101, "Duplicate values for parameter 'symbol'.")


def test_unknown_paths_and_methods(facade: tuple[str, Engine]) -> None:
    url, _ = facade
    for path in ("/api/v3/nothing", "/sapi/v1/capital/config/getall", "/fapi/v1/exchangeInfo"):
        response = requests.get(url + path, timeout=10)
        assert error_of(response) == (404, -1020, "This operation is not supported.")
    response = requests.put(url + "/api/v3/order", timeout=10)
    assert response.status_code == 405 and "POST" in response.headers["Allow"]
    assert json.loads(response.text)["code"] == -1020


def test_bodies_are_bounded(facade: tuple[str, Engine]) -> None:
    """The REST API's body rules hold here too: a body over 64 KiB is refused (413) without reading it all."""
    url, engine = facade
    before = keyspace(engine)
    huge = "symbol=BTCUSDT&" + "x" * 70_000
    headers = {"X-MBX-APIKEY": "anything", "Content-Type": "application/x-www-form-urlencoded"}
    response = requests.post(url + "/api/v3/order", data=huge, headers=headers, timeout=10)
    assert error_of(response)[:2] == (413, -1101)
    assert keyspace(engine) == before
