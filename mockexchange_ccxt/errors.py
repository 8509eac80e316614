"""Engine errors: one class per error code, each carrying its code and HTTP status.

This module imports nothing from ccxt or the web layer; the ccxt class and the REST app map these codes to
their own worlds (``exchange/base.py`` maps each code to the exact ccxt exception class).
"""

from __future__ import annotations


class MockExchangeError(Exception):
    """Base class: ``code`` is the stable machine-readable name, ``http_status`` what the REST API answers."""

    code = "INTERNAL"
    http_status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


class BadRequest(MockExchangeError):
    code, http_status = "BAD_REQUEST", 400


class BadSymbol(MockExchangeError):
    code, http_status = "BAD_SYMBOL", 400


class InvalidOrder(MockExchangeError):
    """Order type, side, precision or limits are wrong, or the symbol has no price to trade at."""

    code, http_status = "INVALID_ORDER", 400


class InsufficientFunds(MockExchangeError):
    code, http_status = "INSUFFICIENT_FUNDS", 400


class OrderImmediatelyFillable(MockExchangeError):
    """A post-only order that would take liquidity, or a trigger order whose trigger the price already reached."""

    code, http_status = "ORDER_IMMEDIATELY_FILLABLE", 400


class AuthenticationFailed(MockExchangeError):
    code, http_status = "AUTHENTICATION", 401


class Forbidden(MockExchangeError):
    """A trading key on an admin route: it authenticates, but may act on its own account only."""

    code, http_status = "FORBIDDEN", 403


class AccountNotFound(MockExchangeError):
    code, http_status = "ACCOUNT_NOT_FOUND", 404


class OrderNotFound(MockExchangeError):
    code, http_status = "ORDER_NOT_FOUND", 404


class NotFound(MockExchangeError):
    """A path that names no resource (REST only)."""

    code, http_status = "NOT_FOUND", 404


class MethodNotAllowed(MockExchangeError):
    code, http_status = "METHOD_NOT_ALLOWED", 405


class OrderNotOpen(MockExchangeError):
    """Cancel of an order that is already filled or canceled."""

    code, http_status = "ORDER_NOT_OPEN", 409


class DuplicateClientOrderId(MockExchangeError):
    code, http_status = "DUPLICATE_CLIENT_ORDER_ID", 409


class AccountExists(MockExchangeError):
    code, http_status = "ACCOUNT_EXISTS", 409


class LengthRequired(MockExchangeError):
    """A chunked body on a server that hands chunks over undecoded (REST only): send a Content-Length."""

    code, http_status = "LENGTH_REQUIRED", 411


class PayloadTooLarge(MockExchangeError):
    code, http_status = "PAYLOAD_TOO_LARGE", 413


class NotSupported(MockExchangeError):
    code, http_status = "NOT_SUPPORTED", 501


class StoreUnavailable(MockExchangeError):
    """Valkey cannot be reached; nothing was changed (or the change is unknown and safe to re-read)."""

    code, http_status = "STORE_UNAVAILABLE", 503


class InternalError(MockExchangeError):
    code, http_status = "INTERNAL", 500


#: code -> class, for the store (Lua error replies) and the clients (JSON error bodies).
ERRORS_BY_CODE: dict[str, type[MockExchangeError]] = {
    cls.code: cls
    for cls in (
        BadRequest,
        BadSymbol,
        InvalidOrder,
        InsufficientFunds,
        OrderImmediatelyFillable,
        AuthenticationFailed,
        Forbidden,
        AccountNotFound,
        OrderNotFound,
        NotFound,
        MethodNotAllowed,
        OrderNotOpen,
        DuplicateClientOrderId,
        AccountExists,
        LengthRequired,
        PayloadTooLarge,
        NotSupported,
        StoreUnavailable,
        InternalError,
    )
}


def error_from_code(code: str, message: str) -> MockExchangeError:
    """Rebuild an engine error from its code; unknown codes become INTERNAL, keeping the message."""
    return ERRORS_BY_CODE.get(code, InternalError)(message)
