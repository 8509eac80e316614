"""JSON in and out of the REST API, with exact decimals: numbers in bodies are read as Decimals, and Decimals in
answers are written as decimal strings without trailing zeros (``Decimal("0.0010")`` -> ``"0.001"``).

Answers are encoded with orjson where it is installed (ccxt, which this package requires, installs it on the
common platforms): an order's answer (about 100 keys, 17 Decimals) costs about a third of the standard
library's time, which was over half of what the app spends per order outside the engine. The bytes are the
standard library's, always: orjson's output is used only where it is the same (compact separators; no float
in answers, which hold decimal strings and integers; printable ASCII text). Where it would differ or cannot
encode (text with non-ASCII or DEL characters, which the standard library escapes as ``\\uXXXX``; a lone
surrogate; an integer past 64 bits; a non-string key; a subclass of a built-in type), or where orjson is
missing, the standard library's encoder writes the answer. (orjson also writes an Enum or a UUID, which the
standard library refuses; answers hold neither.)
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from ..errors import BadRequest

_orjson_dumps: Callable[..., bytes] | None
try:
    import orjson

    _orjson_dumps = orjson.dumps
    # Subclasses (an OrderedDict), dataclasses and dates go to ``default`` as the standard library would
    # treat them, which refuses them there: the standard library then writes or refuses them as before.
    _ORJSON_OPTIONS = (
        orjson.OPT_PASSTHROUGH_SUBCLASS | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME
    )
except ImportError:  # pragma: no cover - a platform without orjson wheels: the standard library serves alone
    _orjson_dumps, _ORJSON_OPTIONS = None, 0


def _encode(value: Any) -> str:
    """A Decimal as plain decimal text without trailing zeros (called for each Decimal of an answer)."""
    if isinstance(value, Decimal):
        text = str(value)  # plain text unless the exponent shows (1E-8, 1E+2): str costs less than format
        if "E" in text or "e" in text:  # (lower case where the context says so)
            text = format(value, "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An object whose keys are all different: with a key given twice, a proxy that reads the first and the
    engine that would read the last could see two different requests."""
    made = dict(pairs)
    if len(made) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise ValueError(f"the key {key[:40]!r} is given twice")
            seen.add(key)
    return made


# Built once, not per request as json.dumps/json.loads with options do (json's own default coders are shared
# the same way). Answers are trees of fresh dicts and lists, never circular: the circular check is skipped.
_ENCODER = json.JSONEncoder(default=_encode, separators=(",", ":"), check_circular=False)
_DECODER = json.JSONDecoder(parse_float=Decimal, parse_constant=_reject_constant, object_pairs_hook=_unique_keys)


def to_json(payload: Any) -> bytes:
    """``payload`` as the compact JSON of the standard library's encoder (ASCII, Decimals as strings)."""
    if _orjson_dumps is not None:
        try:
            data = _orjson_dumps(payload, default=_encode, option=_ORJSON_OPTIONS)
        except TypeError:  # orjson.JSONEncodeError: what orjson cannot write (see above), or no encoder can
            pass
        else:
            if data.isascii() and b"\x7f" not in data:  # the standard library escapes DEL too
                return data
    return _ENCODER.encode(payload).encode()


def parse_body(raw: bytes) -> Any:
    """A request body as JSON, numbers as Decimals (None: no body); BadRequest for anything else."""
    if not raw:  # no body at all; anything else, whitespace too, must parse as JSON
        return None
    try:
        # what json.loads does with bytes: UTF-8, -16 or -32 by the first bytes (a UTF-8 BOM is allowed)
        body = _DECODER.decode(raw.decode(json.detect_encoding(raw), "surrogatepass"))
    except (ValueError, RecursionError) as exc:
        raise BadRequest(f"body is not valid JSON: {str(exc)[:120]}") from None
    if body is None:  # a JSON null is not "no body": it is a body of the wrong type
        raise BadRequest("the body must be a JSON object, got null")
    return body
