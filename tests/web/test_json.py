"""The REST API's JSON: answers are the standard library's bytes whichever encoder wrote them, bodies keep
numbers exact."""

from __future__ import annotations

import json
from collections import OrderedDict
from datetime import date
from decimal import Decimal, localcontext
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockexchange_ccxt.errors import BadRequest
from mockexchange_ccxt.routes import Call
from mockexchange_ccxt.web import jsonio
from mockexchange_ccxt.web.jsonio import parse_body, to_json


def _stdlib(payload: Any) -> bytes:
    """What the answer was before a faster encoder: ``json.dumps`` with Decimals as trimmed decimal strings."""

    def default(value: Any) -> str:
        if isinstance(value, Decimal):
            text = format(value, "f")
            return text.rstrip("0").rstrip(".") if "." in text else text
        raise TypeError(type(value).__name__)

    return json.dumps(payload, default=default, separators=(",", ":")).encode()


_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()  # past 64 bits too
    | st.integers(-(2**63), 2**64 - 1)
    | st.text()  # non-ASCII and lone surrogates too
    | st.text(st.characters(codec="ascii"))
    | st.decimals(allow_nan=False, allow_infinity=False)
    | st.decimals(places=8)
    | st.decimals()  # NaN and infinities: never in an answer, but written as before
)
_TREES = st.recursive(
    _SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
)


@settings(max_examples=400, deadline=None)
@given(_TREES)
def test_answers_are_the_standard_librarys_bytes(payload: Any) -> None:
    assert to_json(payload) == _stdlib(payload)


def test_an_order_answer_and_what_only_the_standard_library_writes() -> None:
    order = {
        "id": "1",
        "clientOrderId": None,
        "timestamp": 1_700_000_000_000,
        "postOnly": False,
        "price": Decimal("50000.00000000"),
        "amount": Decimal("0.0010"),
        "remaining": Decimal("0E-8"),
        "fee": {"currency": "USDT", "cost": Decimal("-0.05"), "rate": Decimal("1E-3")},
        "trades": [{"id": "1", "amount": Decimal("1E+2")}],
    }
    assert to_json(order) == _stdlib(order)
    assert b'"amount":"0.001"' in to_json(order) and b'"remaining":"0"' in to_json(order)
    odd_ones = ({"symbol": "BTC/€"}, {"id": "\ud800"}, {"n": 2**70}, {1: "a"}, [[[[[]]]]] * 3, OrderedDict(b=1, a=2))
    for odd in odd_ones:
        assert to_json(odd) == _stdlib(odd)


def test_decimals_read_the_same_in_any_context() -> None:
    payload = [Decimal("1E-8"), Decimal("1E+2"), Decimal("-0.00"), Decimal("0E-8"), Decimal("12.3400")]
    with localcontext() as context:
        context.capitals = 0  # exponents in lower case
        assert to_json(payload) == _stdlib(payload) == b'["0.00000001","100","-0","0","12.34"]'


def test_the_standard_library_alone_writes_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    payload = {"price": Decimal("1.50"), "side": "buy", "n": [1, None, True]}
    fast = to_json(payload)
    monkeypatch.setattr(jsonio, "_orjson_dumps", None)
    assert to_json(payload) == fast == _stdlib(payload)


def test_what_the_standard_library_refuses_is_an_error() -> None:
    for odd in ({"when": object()}, {"day": date(2024, 1, 2)}, {"call": Call("time")}):
        with pytest.raises(TypeError):
            to_json(odd)


def test_bodies_keep_numbers_exact_and_refuse_constants() -> None:
    assert parse_body(b'{"amount": 0.1, "n": 3}') == {"amount": Decimal("0.1"), "n": 3}
    assert parse_body(b"") is None
    for bad in (b"null", b'{"a": NaN}', b"{", b" "):
        with pytest.raises(BadRequest):
            parse_body(bad)
