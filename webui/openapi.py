"""/api/v1/openapi.json (OpenAPI 3.1) and /api/v1/docs, built from the route table.

Every operation of webui.api_registry.OPERATIONS becomes a path item; its pydantic models
become components (`model_json_schema`, their own `$defs` lifted into components too). The
page is the same document rendered server-side with Jinja: nothing is fetched from
elsewhere (the machine may have no internet, and the CSP allows only 'self').
"""

from __future__ import annotations

import re
from typing import Any

from flask import jsonify, render_template
from pydantic import BaseModel

from webui import api_models as m
from webui.api_registry import OPERATIONS, Operation, operation

TITLE = "pbx API"
VERSION = "1"
PREFIX = "/api/v1"
REF = "#/components/schemas/{model}"
_RULE_PARAM = re.compile(r"<(?:(\w+):)?(\w+)>")
ERRORS = {
    "400": "Refused: a field or a rule (see `errors`, `rule`)",
    "401": "Not signed in, or the token is unknown, revoked or expired",
    "403": "Not for this role, or a read token asked to write",
    "404": "Not found, or another occupier's",
}


def _path(rule: str) -> tuple[str, list[dict[str, Any]]]:
    params = []
    for converter, name in _RULE_PARAM.findall(rule):
        kind = "integer" if converter == "int" else "string"
        params.append({"name": name, "in": "path", "required": True, "schema": {"type": kind}})
    return PREFIX + _RULE_PARAM.sub(r"{\2}", rule), params


class Components:
    def __init__(self) -> None:
        self.schemas: dict[str, Any] = {}

    def ref(self, model: type[BaseModel]) -> dict[str, str]:
        name = model.__name__
        if name not in self.schemas:
            schema = model.model_json_schema(ref_template=REF, mode="serialization")
            for sub, body in schema.pop("$defs", {}).items():
                self.schemas.setdefault(sub, body)
            self.schemas[name] = schema
        return {"$ref": REF.format(model=name)}


def _query_params(model: type[BaseModel]) -> list[dict[str, Any]]:
    params = []
    for name, info in model.model_fields.items():
        params.append(
            {
                "name": name,
                "in": "query",
                "required": False,
                "description": info.description or "",
                "schema": {"type": "string"},
            }
        )
    return params


def _operation(op: Operation, components: Components) -> dict[str, Any]:
    _, params = _path(op.rule)
    answer: dict[str, Any]
    if op.stream or op.produces:
        media = "text/event-stream" if op.stream else str(op.produces)
        answer = {"description": op.summary, "content": {media: {"schema": {"type": "string"}}}}
    else:
        answer = {
            "description": "OK",
            "content": {"application/json": {"schema": components.ref(op.response or m.Answer)}},
        }
    error = {"content": {"application/json": {"schema": components.ref(m.Error)}}}
    doc: dict[str, Any] = {
        "operationId": op.endpoint,
        "summary": op.summary,
        "tags": [op.tag],
        "parameters": params + (_query_params(op.query) if op.query else []),
        "responses": {
            str(op.status): answer,
            **{code: {"description": text, **error} for code, text in ERRORS.items()},
        },
        "security": [{"bearerToken": []}, {"sessionCookie": []}],
        "x-roles": [role.value for role in op.roles],
        "x-token-scope": op.scope,
    }
    if op.description:
        doc["description"] = op.description
    if op.body is not None:
        doc["requestBody"] = {"required": True, "content": {"application/json": {"schema": components.ref(op.body)}}}
    elif op.upload is not None:
        file = {"schema": {"type": "string", "contentMediaType": op.upload}}
        multipart = {"schema": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}}}
        doc["requestBody"] = {"required": True, "content": {op.upload: file, "multipart/form-data": multipart}}
    return doc


def document() -> dict[str, Any]:
    components = Components()
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        if op.endpoint in ("openapi_json", "docs"):
            continue
        path, _ = _path(op.rule)
        paths.setdefault(path, {})[op.method.lower()] = _operation(op, components)
    components.ref(m.Error)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": TITLE,
            "version": VERSION,
            "description": (
                "The pbx JSON API. Authenticate with `Authorization: Bearer <token>` (create a token on "
                "My profile or with `pbx token create`), or a signed-in session (whose writes need the "
                "X-CSRFToken header). A token acts as its user; a read token cannot write. Another "
                "occupier's ids answer 404. Every error has the shape of the Error schema."
            ),
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": dict(sorted(components.schemas.items())),
            "securitySchemes": {
                "bearerToken": {"type": "http", "scheme": "bearer", "description": "a pbx API token"},
                "sessionCookie": {"type": "apiKey", "in": "cookie", "name": "session"},
            },
        },
    }


@operation("GET", "/openapi.json", roles=(), tag="API", response=None, public=True)
def openapi_json():
    """This document."""
    return jsonify(document())


@operation("GET", "/docs", roles=(), tag="API", response=None, public=True)
def docs():
    """This document as a page."""
    return render_template("api_docs.html", doc=document())
