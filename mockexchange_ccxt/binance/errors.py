"""Binance's error contract: ``{"code": <negative int>, "msg": <text>}`` with an HTTP status.

Clients classify these errors by the text first and the code second (ccxt's ``binance.handle_errors`` matches
``msg`` exactly, then ``code``), so the texts below are Binance's own, word for word, wherever a client could
match them. ``from_engine`` is the one table from the engine's error codes to Binance's: the facade never
decides on its own that an order is invalid or an account short of funds; the engine does, and this module
only says it the way Binance does.
"""

from __future__ import annotations

import re
from functools import partial
from typing import Any

from ..errors import MockExchangeError


class BinanceError(Exception):
    """An error answered as ``{"code", "msg"}`` (plus ``data`` for cancelReplace) with ``http_status``."""

    def __init__(self, code: int, msg: str, http_status: int = 400, data: dict[str, Any] | None = None) -> None:
        super().__init__(msg)
        self.code, self.msg, self.http_status, self.data = code, msg, http_status, data

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "msg": self.msg}
        if self.data is not None:
            body["data"] = self.data
        return body


# -- Binance's texts (errors.md of the spot API) --------------------------------------------------------------

UNKNOWN = "An unknown error occurred while processing the request."
DISCONNECTED = "Internal error; unable to process your request. Please try again."
UNSUPPORTED_OPERATION = "This operation is not supported."
OUTSIDE_RECV_WINDOW = "Timestamp for this request is outside of the recvWindow."
AHEAD_OF_SERVER = "Timestamp for this request was 1000ms ahead of the server's time."
BAD_SIGNATURE = "Signature for this request is not valid."
BAD_API_KEY_FORMAT = "API-key format invalid."
REJECTED_API_KEY = "Invalid API-key, IP, or permissions for action."
INSUFFICIENT_BALANCE = "Account has insufficient balance for requested action."
DUPLICATE_ORDER = "Duplicate order sent."
WOULD_TAKE = "Order would immediately match and take."
WOULD_TRIGGER = "Stop price would trigger immediately."
UNKNOWN_ORDER = "Unknown order sent."
NO_SUCH_ORDER = "Order does not exist."
INVALID_SYMBOL = "Invalid symbol."
INVALID_INTERVAL = "Invalid interval."
INVALID_SIDE = "Invalid side."
INVALID_ORDER_TYPE = "Invalid orderType."
INVALID_TIME_IN_FORCE = "Invalid timeInForce."
CANCEL_REPLACE_FAILED = "Order cancel-replace failed."
CANCEL_REPLACE_PARTIAL = "Order cancel-replace partially failed."
NOT_AUTHORIZED = "You are not authorized to execute this request."
MARKET_CLOSED = "Market is closed."
TOO_PRECISE = "Precision is over the maximum defined for this asset."


#: Binance's texts that name a parameter, by code.
_ABOUT_A_PARAMETER = {
    -1101: "Duplicate values for parameter '{}'.",
    -1102: "Mandatory parameter '{}' was not sent, was empty/null, or malformed.",
    -1105: "Parameter '{}' was empty.",
    -1106: "Parameter '{}' sent when not required.",  # Binance knows it, this endpoint (or the mock) does not
    -1130: "Data sent for parameter '{}' is not valid.",
}


def about(code: int, name: str) -> BinanceError:
    """Binance's error ``code`` naming the parameter ``name``."""
    return BinanceError(code, _ABOUT_A_PARAMETER[code].format(name))


duplicate, mandatory, empty, not_required, not_valid = (
    partial(about, code) for code in (-1101, -1102, -1105, -1106, -1130)
)


def illegal(name: str, legal: str) -> BinanceError:
    return BinanceError(-1100, f"Illegal characters found in parameter '{name}'; legal range is '{legal}'.")


def unread(read: int, sent: int) -> BinanceError:
    """Binance's answer to parameters it does not know."""
    return BinanceError(-1104, f"Not all sent parameters were read; read '{read}' parameter(s) but was sent '{sent}'.")


def invalid_symbol() -> BinanceError:
    return BinanceError(-1121, INVALID_SYMBOL)


# -- engine error code -> Binance ----------------------------------------------------------------------------

Mapping = tuple[int, int, "str | None"]

#: engine code -> (Binance code, HTTP status, Binance's text or None to keep the engine's message). The README's
#: dialect error table is checked against it, and every engine code must be here.
ENGINE_TO_BINANCE: dict[str, Mapping] = {
    "BAD_REQUEST": (-1100, 400, None),
    "BAD_SYMBOL": (-1121, 400, INVALID_SYMBOL),
    "INVALID_ORDER": (-2010, 400, None),
    "INSUFFICIENT_FUNDS": (-2010, 400, INSUFFICIENT_BALANCE),
    "ORDER_IMMEDIATELY_FILLABLE": (-2010, 400, WOULD_TAKE),
    "AUTHENTICATION": (-2015, 401, REJECTED_API_KEY),
    "FORBIDDEN": (-1002, 401, NOT_AUTHORIZED),
    "ORDER_NOT_FOUND": (-2013, 400, NO_SUCH_ORDER),
    "ACCOUNT_NOT_FOUND": (-2015, 401, REJECTED_API_KEY),
    "NOT_FOUND": (-1020, 404, UNSUPPORTED_OPERATION),
    "METHOD_NOT_ALLOWED": (-1020, 405, UNSUPPORTED_OPERATION),
    "ORDER_NOT_OPEN": (-2011, 400, UNKNOWN_ORDER),
    "DUPLICATE_CLIENT_ORDER_ID": (-2010, 400, DUPLICATE_ORDER),
    "ACCOUNT_EXISTS": (-1100, 400, None),
    "LENGTH_REQUIRED": (-1020, 411, None),
    "PAYLOAD_TOO_LARGE": (-1101, 413, None),
    "NOT_SUPPORTED": (-1020, 400, None),
    "STORE_UNAVAILABLE": (-1001, 503, DISCONNECTED),
    "INTERNAL": (-1000, 500, UNKNOWN),
}

#: What an engine error means on a route that looks an order up to cancel it: Binance answers -2011 there.
CANCEL_OVERRIDES: dict[str, Mapping] = {"ORDER_NOT_FOUND": (-2011, 400, UNKNOWN_ORDER)}

#: The engine names a market-rule breach as Binance does (``Filter failure: LOT_SIZE: <what and the allowed
#: value>``); Binance's answer is -1013 with the text up to the filter's name (``Filter failure: LOT_SIZE``),
#: which clients match. A market that is not active is Binance's closed market.
FILTER_FAILURE = re.compile(r"Filter failure: [A-Z_]+")
INACTIVE_MARKET = re.compile(r"market \S+ is not active")


def from_engine_code(code: str, message: str, overrides: dict[str, Mapping] | None = None) -> BinanceError:
    """The Binance error for an engine error code and message; an unknown code is an internal error."""
    if code == "INVALID_ORDER":
        failure = FILTER_FAILURE.match(message)
        if failure is not None:
            return BinanceError(-1013, failure.group())
        if INACTIVE_MARKET.match(message):
            return BinanceError(-1013, MARKET_CLOSED)
    binance_code, status, text = (overrides or {}).get(code) or ENGINE_TO_BINANCE.get(code, (-1000, 500, UNKNOWN))
    return BinanceError(binance_code, message if text is None else text, status)


def from_engine(error: MockExchangeError, overrides: dict[str, Mapping] | None = None) -> BinanceError:
    return from_engine_code(error.code, error.message, overrides)
