"""The fields of the REST contract: a body field or query parameter, its name, its JSON type and its doc."""

from __future__ import annotations

from dataclasses import dataclass

#: JSON types a field may have ("number" accepts a JSON number or a decimal string, for exactness; "strings" is
#: an array of strings; "levels" is order-book depth, an array of [price, amount] pairs).
NUMBER, STRING, INTEGER, BOOLEAN, STRINGS, LEVELS = "number", "string", "integer", "boolean", "strings", "levels"


@dataclass(frozen=True)
class Field:
    name: str
    kind: str
    required: bool = False
    doc: str = ""
