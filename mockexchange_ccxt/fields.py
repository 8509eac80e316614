"""The fields of the REST contract: a body field or query parameter, its name, its JSON type and its doc; and the
check of a body against a route's fields."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .errors import BadRequest, NotSupported

if TYPE_CHECKING:
    from .routes import Route

#: JSON types a field may have ("number" accepts a JSON number or a decimal string, for exactness; "strings" is
#: an array of strings; "levels" is order-book depth, an array of [price, amount] pairs).
NUMBER, STRING, INTEGER, BOOLEAN, STRINGS, LEVELS = "number", "string", "integer", "boolean", "strings", "levels"


@dataclass(frozen=True)
class Field:
    name: str
    kind: str
    required: bool = False
    doc: str = ""


def check_body(route: Route, body: Mapping[str, Any] | None) -> dict[str, Any]:
    """The body as a dict with only known fields of the right JSON type; BadRequest otherwise.

    A dict is answered as it is, not copied (handlers never change a body). The usual body (known fields, each
    of an exact type its kind takes, the required ones given) passes one quick test; any other gets the field by
    field check, in the table's order, which names the first problem."""
    if type(body) is dict and route.body is not None:
        types = route.body_types
        for name, value in body.items():
            accepted = types.get(name)
            if accepted is None or (value is not None and type(value) not in accepted):
                break
        else:
            for name in route.required_body:
                if body.get(name) is None:
                    break
            else:
                return body
    if route.body is None:
        if body:
            raise BadRequest(f"{route.method} {route.path} takes no body")
        return {}
    if body is None:
        body = {}
    if not isinstance(body, Mapping):
        raise BadRequest("the body must be a JSON object")
    unknown = sorted(body.keys() - route.body_names)
    if unknown:
        raise NotSupported(f"field(s) the mock does not implement: {', '.join(map(str, unknown))[:200]}")
    for spec in route.body:
        value = body.get(spec.name)
        if value is None:
            if spec.required:
                raise BadRequest(f"field {spec.name!r} is required")
            continue
        if not has_kind(value, spec.kind):
            raise BadRequest(f"field {spec.name!r} must be a {spec.kind}, got {type(value).__name__}")
    return dict(body)


#: The types a kind takes, exactly (``has_kind`` says the same with ``isinstance``, for subclasses too); a kind
#: that needs a look inside the value (strings, levels) has none, so its values always get the full check.
EXACT_TYPES: dict[str, tuple[type, ...]] = {
    STRING: (str,),
    NUMBER: (str, int, float, Decimal),
    INTEGER: (int,),
    BOOLEAN: (bool,),
}


def has_kind(value: Any, kind: str) -> bool:
    if isinstance(value, bool) or kind == BOOLEAN:
        return isinstance(value, bool) and kind == BOOLEAN
    if kind == STRINGS:
        return isinstance(value, list) and all(isinstance(item, str) for item in value)
    if kind == NUMBER:
        return isinstance(value, int | float | Decimal | str)
    if kind == INTEGER:
        return isinstance(value, int)
    if kind == LEVELS:
        return isinstance(value, list)
    return isinstance(value, str)
