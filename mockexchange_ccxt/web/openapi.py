"""The OpenAPI 3 description of the REST API, generated from the route table (served at /docs in TEST_ENV)."""

from __future__ import annotations

import re
from typing import Any

from ..errors import ERRORS_BY_CODE
from ..routes import ACCOUNT_HEADER, BOOLEAN, INTEGER, LEVELS, NUMBER, ROUTES, STRINGS, Field

_SCHEMA_OF_KIND: dict[str, dict[str, Any]] = {
    # Any string passes the body's shape check: the engine parses it as an exact decimal and refuses what is
    # not one (INVALID_ORDER or BAD_REQUEST, or a verdict from can_execute), so no pattern is promised here.
    NUMBER: {"oneOf": [{"type": "number"}, {"type": "string", "description": 'a decimal, e.g. "0.1"'}]},
    INTEGER: {"type": "integer"},
    LEVELS: {
        "type": "array",
        "items": {"type": "array", "items": {"oneOf": [{"type": "number"}, {"type": "string"}]}},
    },
    BOOLEAN: {"type": "boolean"},
    STRINGS: {"type": "array", "items": {"type": "string"}},
}
_ACCOUNT_PARAMETER = {
    "name": ACCOUNT_HEADER,
    "in": "header",
    "required": False,
    "description": "the account to act as (the admin key or TEST_ENV only; a trading key acts as its own)",
    "schema": {"type": "string"},
}


def _schema(field: Field, nullable: bool = False) -> dict[str, Any]:
    schema: dict[str, Any] = dict(_SCHEMA_OF_KIND.get(field.kind, {"type": "string"}))
    if nullable:  # OpenAPI 3.0: ``nullable`` needs a ``type`` beside it, so it goes on the typed branch
        if "oneOf" in schema:
            schema["oneOf"] = [{**schema["oneOf"][0], "nullable": True}, *schema["oneOf"][1:]]
        else:
            schema["nullable"] = True
    if field.doc:
        schema["description"] = field.doc
    return schema


def openapi_document() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    error = {
        "description": "error",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    for route in ROUTES:
        operation: dict[str, Any] = {
            "operationId": route.name,
            "summary": route.summary,
            "tags": ["admin" if route.admin else route.path.split("/")[1]],
            "parameters": [
                {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                for name in re.findall(r"{(\w+)}", route.path)
            ]
            # the app drops blank query values: ``?tail=`` is the same as leaving ``tail`` out
            + [
                {"name": f.name, "in": "query", "required": False, "allowEmptyValue": True, "schema": _schema(f)}
                for f in route.query
            ]
            + [_ACCOUNT_PARAMETER],
            "responses": {
                str(route.status): {
                    "description": "ccxt-unified answer; decimals as strings",
                    "content": {"application/json": {}},
                },
                "4XX": error,
                "5XX": error,
            },
        }
        if route.body is not None:
            operation["requestBody"] = {
                "required": any(f.required for f in route.body),
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "additionalProperties": False,
                            # an optional field may be null: the app reads null as absent, as ccxt sends it
                            "properties": {f.name: _schema(f, nullable=not f.required) for f in route.body},
                            "required": [f.name for f in route.body if f.required],
                        }
                    }
                },
            }
        paths.setdefault(route.path, {})[route.method.lower()] = operation
    return {
        "openapi": "3.0.3",
        "info": {"title": "mockexchange_ccxt", "version": "1", "description": "A zero-risk spot exchange for bots."},
        "components": {
            "securitySchemes": {"apiKey": {"type": "apiKey", "in": "header", "name": "x-api-key"}},
            "schemas": {
                "Error": {
                    "type": "object",
                    "properties": {
                        "error": {
                            "type": "object",
                            "properties": {
                                "code": {"type": "string", "enum": sorted(ERRORS_BY_CODE)},
                                "message": {"type": "string"},
                            },
                        }
                    },
                }
            },
        },
        "security": [{"apiKey": []}],
        "paths": paths,
    }


def swagger_page() -> str:
    """A small page that lists every endpoint from the document (no external assets: works offline)."""
    rows = "".join(f"<tr><td>{r.method}</td><td><code>{r.path}</code></td><td>{r.summary}</td></tr>" for r in ROUTES)
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>mockexchange_ccxt API</title></head><body>"
        "<h1>mockexchange_ccxt REST API</h1><p>OpenAPI document: <a href='/openapi.json'>/openapi.json</a></p>"
        f"<table border='1' cellpadding='4'><tr><th>method</th><th>path</th><th>what</th></tr>{rows}</table>"
        "</body></html>"
    )
