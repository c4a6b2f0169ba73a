"""The /api/v1/ route table: each operation declared once, served by Flask and published as OpenAPI.

`operation(...)` registers the view on the API blueprint behind `roles_required` and records
what webui.openapi needs to document it: method, path, who may call it (roles), the token
scope it needs (GET reads, anything else writes), and the pydantic models of its query,
body and answer. So the document cannot drift from the routes: a route exists only as a
declared operation (tests/web/test_openapi.py calls every one of them).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Blueprint
from pydantic import BaseModel

from pbx.store.models import Role
from webui.access import roles_required

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@dataclass(frozen=True)
class Operation:
    method: str
    rule: str  # Flask's, under /api/v1: "/numbers/<int:number_id>"
    endpoint: str
    summary: str
    description: str
    roles: tuple[Role, ...]
    tag: str
    response: type[BaseModel] | None
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    status: int = 200
    stream: bool = False  # text/event-stream, not JSON
    produces: str | None = None  # another media type than JSON (e.g. text/csv)
    upload: str | None = None  # a request body that is a file of this media type, not JSON

    @property
    def scope(self) -> str:
        return "read" if self.method == "GET" else "write"


OPERATIONS: list[Operation] = []


def operation(
    method: str,
    rule: str,
    *,
    roles: tuple[Role, ...],
    tag: str,
    response: type[BaseModel] | None,
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    status: int = 200,
    stream: bool = False,
    produces: str | None = None,
    upload: str | None = None,
    public: bool = False,
) -> Callable[[Callable], Callable]:
    def declare(view: Callable) -> Callable:
        doc = (view.__doc__ or "").strip()
        summary, _, description = doc.partition("\n")
        guarded = view if public else roles_required(*roles)(view)
        bp.add_url_rule(rule, endpoint=view.__name__, view_func=guarded, methods=[method])
        OPERATIONS.append(
            Operation(
                method=method,
                rule=rule,
                endpoint=view.__name__,
                summary=summary or view.__name__.replace("_", " "),
                description=description.strip(),
                roles=roles,
                tag=tag,
                response=response,
                body=body,
                query=query,
                status=status,
                stream=stream,
                produces=produces,
                upload=upload,
            )
        )
        return guarded

    return declare
