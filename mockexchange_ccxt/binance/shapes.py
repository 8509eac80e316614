"""Binance's JSON shapes, built from the engine's ccxt-unified answers (markets, tickers, orders, trades).

Numbers are written as Binance writes them: decimal strings with eight decimals (``"50000.00000000"``), ids and
times as integers. Every value comes from the engine's answer; where the engine does not know a value (a 24 h
statistic before any history exists, say) the field is ``null`` rather than an invented number.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Context, Decimal
from typing import Any

from ..engine.candles import TIMEFRAMES
from ..engine.money import MAX_AMOUNT, UNIT_DECIMALS

_EIGHT = Decimal("1e-8")
_THREE = Decimal("1e-3")
_WIDE = Context(prec=60)
ZERO = "0.00000000"
DAY_MS = 86_400_000

#: ccxt-unified order status -> Binance's.
STATUSES = {"open": "NEW", "closed": "FILLED", "canceled": "CANCELED"}
#: Binance's self-trade prevention modes: the mock's orders never meet each other, so none ever applies.
STP_MODES = ("NONE", "EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH", "DECREMENT")


def b8(value: Decimal | None) -> str | None:
    """Eight decimals, as Binance writes prices, quantities and balances."""
    return None if value is None else format(value.quantize(_EIGHT, ROUND_HALF_EVEN, _WIDE), "f")


def n8(value: Decimal | None) -> str:
    """Eight decimals, with zero for "none" (Binance writes ``"0.00000000"`` for an absent price)."""
    return b8(value) or ZERO


def rate(value: Decimal) -> str:
    """A fee rate as Binance's tradeFee writes it (``"0.001"``)."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def market_id(symbol: str) -> str:
    """``BTC/USDT`` -> ``BTCUSDT``."""
    return symbol.replace("/", "")


# -- markets -------------------------------------------------------------------------------------------------


def symbol_info(market: dict[str, Any], order_types: list[str], permission_sets: bool = True) -> dict[str, Any]:
    """One entry of ``exchangeInfo.symbols``: the market's precision and limits as Binance's filters."""
    precision, limits = market["precision"], market["limits"]
    market_limits = limits.get("market") or limits["amount"]
    info: dict[str, Any] = {
        "symbol": market_id(market["symbol"]),
        "status": "TRADING" if market.get("active", True) else "BREAK",
        "baseAsset": market["base"],
        "baseAssetPrecision": UNIT_DECIMALS,
        "quoteAsset": market["quote"],
        "quotePrecision": UNIT_DECIMALS,
        "quoteAssetPrecision": UNIT_DECIMALS,
        "baseCommissionPrecision": UNIT_DECIMALS,
        "quoteCommissionPrecision": UNIT_DECIMALS,
        "orderTypes": order_types,
        "icebergAllowed": False,
        "ocoAllowed": False,
        "otoAllowed": False,
        "opoAllowed": False,
        "quoteOrderQtyMarketAllowed": True,
        "allowTrailingStop": False,
        "cancelReplaceAllowed": True,
        "amendAllowed": False,
        "pegInstructionsAllowed": False,
        "isSpotTradingAllowed": True,
        "isMarginTradingAllowed": False,
        "filters": [
            {
                "filterType": "PRICE_FILTER",
                "minPrice": n8(limits["price"]["min"]),
                "maxPrice": n8(limits["price"]["max"]),
                "tickSize": n8(precision["price"]),
            },
            {
                "filterType": "LOT_SIZE",
                "minQty": n8(limits["amount"]["min"]),
                "maxQty": n8(limits["amount"]["max"]),
                "stepSize": n8(precision["amount"]),
            },
            {
                "filterType": "MARKET_LOT_SIZE",
                "minQty": n8(market_limits["min"]),
                "maxQty": n8(market_limits["max"]),
                "stepSize": n8(precision["amount"]),
            },
            {
                "filterType": "NOTIONAL",
                "minNotional": n8(limits["cost"]["min"]),
                "applyMinToMarket": True,
                "maxNotional": n8(limits["cost"]["max"] or MAX_AMOUNT),
                "applyMaxToMarket": True,
                "avgPriceMins": 0,  # 0: orders are priced at the last price, not an average
            },
        ],
        "permissions": [],
        "defaultSelfTradePreventionMode": "NONE",
        "allowedSelfTradePreventionModes": list(STP_MODES),
    }
    if permission_sets:
        info["permissionSets"] = [["SPOT"]]
    return info


# -- tickers -------------------------------------------------------------------------------------------------


def _percent(value: Decimal | None) -> str:
    return "0.000" if value is None else format(value.quantize(_THREE, ROUND_HALF_EVEN, _WIDE), "f")


def ticker_24hr(ticker: dict[str, Any], full: bool = True) -> dict[str, Any]:
    """``GET /api/v3/ticker/24hr`` of one symbol, FULL or MINI. Every number is a string, as Binance writes it:
    zero for what the engine does not know (a statistic before any history, the quantities at the touch, which
    ``/depth`` has), as Binance answers for a symbol nobody traded."""
    close_time = ticker["timestamp"]
    answer: dict[str, Any] = {"symbol": market_id(ticker["symbol"])}
    if full:
        answer.update(
            priceChange=n8(ticker.get("change")),
            priceChangePercent=_percent(ticker.get("percentage")),
            weightedAvgPrice=n8(ticker.get("vwap")),
            prevClosePrice=n8(ticker.get("previousClose")),
        )
    answer.update(lastPrice=b8(ticker["last"]))
    if full:
        answer.update(
            lastQty=ZERO,
            bidPrice=b8(ticker["bid"]),
            bidQty=n8(ticker.get("bidVolume")),
            askPrice=b8(ticker["ask"]),
            askQty=n8(ticker.get("askVolume")),
        )
    answer.update(
        openPrice=n8(ticker.get("open")),
        highPrice=n8(ticker.get("high")),
        lowPrice=n8(ticker.get("low")),
        volume=n8(ticker.get("baseVolume")),
        quoteVolume=n8(ticker.get("quoteVolume")),
        openTime=close_time - DAY_MS,
        closeTime=close_time,
        firstId=-1,
        lastId=-1,
        count=0,
    )
    return answer


def price_ticker(ticker: dict[str, Any]) -> dict[str, Any]:
    return {"symbol": market_id(ticker["symbol"]), "price": b8(ticker["last"])}


def book_ticker(ticker: dict[str, Any]) -> dict[str, Any]:
    return {
        "symbol": market_id(ticker["symbol"]),
        "bidPrice": b8(ticker["bid"]),
        "bidQty": n8(ticker.get("bidVolume")),
        "askPrice": b8(ticker["ask"]),
        "askQty": n8(ticker.get("askVolume")),
    }


# -- candles -------------------------------------------------------------------------------------------------

#: Binance's kline intervals the mock serves: the engine's timeframes (1m to 1M, aligned as Binance aligns them:
#: ``1w`` on Monday, ``1M`` on the first of the month). Binance's ``1s`` is not among them (-1120).
INTERVALS = TIMEFRAMES


def close_time(open_ms: int, interval: str) -> int:
    """The last millisecond of a candle (a month's is the last of that month)."""
    return INTERVALS[interval].following(open_ms) - 1


def first_open(end_ms: int, interval: str, count: int) -> int:
    """The open time of the oldest of the ``count`` candles that end with the one containing ``end_ms``."""
    frame = INTERVALS[interval]
    start = frame.start(end_ms)
    if frame.name != "1M":
        return start - (count - 1) * frame.ms
    for _ in range(count - 1):
        start = frame.start(start - 1)
    return start


def kline(row: list[Any], interval: str) -> list[Any]:
    """A ccxt OHLCV row as Binance's 12-field kline. The feed gives base volume only: quote volume, trade count
    and taker volumes are zero."""
    opened, open_, high, low, close, volume = row
    return [
        opened,
        b8(open_),
        b8(high),
        b8(low),
        b8(close),
        b8(volume),
        close_time(opened, interval),
        ZERO,
        0,
        ZERO,
        ZERO,
        "0",
    ]


# -- orders and trades ---------------------------------------------------------------------------------------


def order_type(order: dict[str, Any]) -> str:
    """Binance's type: the name the order was placed with (``stop_loss_limit``, ``limit_maker``), else its type."""
    return str(order["info"].get("orderType") or order["type"]).upper()


def order_status(order: dict[str, Any]) -> str:
    """An order the engine ended by itself (an IOC or FOK that could not fill, a trigger whose fill was not
    covered: ``info.reason``) is Binance's EXPIRED; one the owner canceled is CANCELED."""
    if order["status"] == "open" and order["filled"] > 0:
        return "PARTIALLY_FILLED"
    if order["status"] == "canceled" and order["info"].get("reason"):
        return "EXPIRED"
    return STATUSES.get(order["status"], str(order["status"]).upper())


def _decimal(text: Any) -> Decimal | None:
    return None if text is None else Decimal(str(text))


def _core(order: dict[str, Any]) -> dict[str, Any]:
    """The fields every order answer shares after its ids, in Binance's order."""
    market = order["type"] == "market"
    time_in_force = order["timeInForce"]
    return {
        "price": ZERO if market else n8(order["price"]),
        "origQty": n8(order["amount"]),
        "executedQty": n8(order["filled"]),
        "origQuoteOrderQty": n8(_decimal(order["info"].get("quoteOrderQty"))),
        "cummulativeQuoteQty": n8(order["cost"]),
        "status": order_status(order),
        # Binance shows GTC for market and LIMIT_MAKER orders
        "timeInForce": "GTC" if market or time_in_force in (None, "PO") else time_in_force,
        "type": order_type(order),
        "side": str(order["side"]).upper(),
    }


def _stop_price(order: dict[str, Any]) -> dict[str, str]:
    """``stopPrice``, which Binance's order answers (but ``GET``'s) carry only for an order that has one."""
    trigger = order.get("triggerPrice")
    return {} if trigger is None else {"stopPrice": n8(trigger)}


def _working(order: dict[str, Any]) -> tuple[bool, int]:
    """``isWorking`` and ``workingTime``: a trigger order works once it fired (-1 until then)."""
    if order.get("triggerPrice") is None:
        return True, order["timestamp"]
    fired = order["info"].get("triggerTimestamp")
    return fired is not None, -1 if fired is None else int(fired)


def _ids(order: dict[str, Any]) -> dict[str, Any]:
    return {
        "symbol": market_id(order["symbol"]),
        "orderId": int(order["id"]),
        "orderListId": -1,
        "clientOrderId": order["clientOrderId"] or "",
    }


def order_view(order: dict[str, Any]) -> dict[str, Any]:
    """``GET /api/v3/order`` (and the lists of orders)."""
    working, working_time = _working(order)
    return {
        **_ids(order),
        **_core(order),
        "stopPrice": n8(order.get("triggerPrice")),
        "icebergQty": ZERO,
        "time": order["timestamp"],
        "updateTime": order["lastUpdateTimestamp"] or order["timestamp"],
        "isWorking": working,
        "workingTime": working_time,
        "selfTradePreventionMode": "NONE",
    }


def fill_view(trade: dict[str, Any]) -> dict[str, Any]:
    return {
        "price": n8(trade["price"]),
        "qty": n8(trade["amount"]),
        "commission": n8(trade["fee"]["cost"]),
        "commissionAsset": trade["fee"]["currency"],
        "tradeId": int(trade["id"]),
    }


def placed_view(order: dict[str, Any], response_type: str, fills: list[dict[str, Any]]) -> dict[str, Any]:
    """``POST /api/v3/order`` with ``newOrderRespType`` ACK, RESULT or FULL."""
    answer = {**_ids(order), "transactTime": order["lastUpdateTimestamp"] or order["timestamp"]}
    if response_type == "ACK":
        return answer
    answer.update(_core(order), **_stop_price(order), workingTime=_working(order)[1], selfTradePreventionMode="NONE")
    if response_type == "FULL":
        answer["fills"] = [fill_view(trade) for trade in fills]
    return answer


def canceled_view(order: dict[str, Any], cancel_client_id: str | None) -> dict[str, Any]:
    """``DELETE /api/v3/order``: ``clientOrderId`` is the cancel's own id when one was sent, otherwise the order's
    (so a bot that reads ``clientOrderId`` back keeps its id)."""
    ids = _ids(order)
    return {
        "symbol": ids["symbol"],
        "origClientOrderId": ids["clientOrderId"],
        "orderId": ids["orderId"],
        "orderListId": -1,
        "clientOrderId": cancel_client_id or ids["clientOrderId"],
        "transactTime": order["lastUpdateTimestamp"] or order["timestamp"],
        **_core(order),
        **_stop_price(order),
        "selfTradePreventionMode": "NONE",
    }


def trade_view(trade: dict[str, Any]) -> dict[str, Any]:
    """One entry of ``GET /api/v3/myTrades``."""
    return {
        "symbol": market_id(trade["symbol"]),
        "id": int(trade["id"]),
        "orderId": int(trade["order"]),
        "orderListId": -1,
        "price": n8(trade["price"]),
        "qty": n8(trade["amount"]),
        "quoteQty": n8(trade["cost"]),
        "commission": n8(trade["fee"]["cost"]),
        "commissionAsset": trade["fee"]["currency"],
        "time": trade["timestamp"],
        "isBuyer": trade["side"] == "buy",
        "isMaker": trade["takerOrMaker"] == "maker",
        "isBestMatch": True,
    }


# -- account -------------------------------------------------------------------------------------------------


def commission_rates(maker: Decimal, taker: Decimal) -> dict[str, str]:
    return {"maker": n8(maker), "taker": n8(taker), "buyer": ZERO, "seller": ZERO}


def account_view(
    balance: dict[str, Any], maker: Decimal, taker: Decimal, omit_zero: bool, uid: int = 0
) -> dict[str, Any]:
    """``GET /api/v3/account`` from the engine's balance (``locked`` is ccxt's ``used``)."""
    assets = sorted(balance.get("total", {}))
    rows = [{"asset": a, "free": n8(balance[a]["free"]), "locked": n8(balance[a]["used"])} for a in assets]
    if omit_zero:
        rows = [row for row in rows if balance[row["asset"]]["total"] != 0]
    return {
        "makerCommission": int(maker * 10_000),
        "takerCommission": int(taker * 10_000),
        "buyerCommission": 0,
        "sellerCommission": 0,
        "commissionRates": commission_rates(maker, taker),
        "canTrade": True,
        "canWithdraw": False,
        "canDeposit": False,
        "brokered": False,
        "requireSelfTradePrevention": False,
        "preventSor": False,
        "updateTime": balance["timestamp"],
        "accountType": "SPOT",
        "balances": rows,
        "permissions": ["SPOT"],
        "uid": uid,
    }
