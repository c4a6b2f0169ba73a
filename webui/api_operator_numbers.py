"""The operator's JSON API for numbers at scale: voice services bought (R36), number lists, CSV and
bulk allocation (R37), and a site's emergency numbers (R22, R39). Operator only; the same services
as the console and the CLI, refusals through webui.errors; declared in the /api/v1 route table.

The CSV is streamed: a generator over a server-side cursor (pbx.services.number_list.
stream_rows) inside `stream_with_context`, so 100,000 rows never sit in memory.
"""

from __future__ import annotations

from collections.abc import Iterator

from flask import Response, jsonify, request, stream_with_context
from pydantic import Field

from pbx.services import bulk_allocation, emergency, licences, number_csv, number_list
from pbx.services.actor import Actor
from pbx.services.errors import InvalidInput
from pbx.services.lookup import get_site
from pbx.validation import EMERGENCY_NUMBERS
from webui import api_models as m
from webui.access import OPERATOR, current_actor
from webui.api_registry import operation
from webui.present import STATUS_LABELS
from webui.schemas import EmergencyNumbers, VoiceLicences, json_body
from webui.store import state, unit_of_work

TAG = "Operator: numbers"
CSV_NAME = "numbers.csv"


class Usage(m.Answer):
    """R36: voice services of an occupier."""

    used: int
    bought: int
    free: int
    message: str | None = None


class ListedNumber(m.Answer):
    id: int
    number: str
    extension: str
    occupier: str
    site: str
    status: str
    status_label: str
    main: bool
    user: str | None
    display_name: str | None
    phone_id: str | None


class NumberPage(m.Answer):
    total: int
    offset: int
    numbers: list[ListedNumber]


class NumberFilterQuery(m.Answer):
    """R37: the filters (every one optional), and the page."""

    status: str | None = Field(None, description="reserved, active or pending")
    site: str | None = Field(None, description="a site's id")
    occupier: str | None = Field(None, description="an occupier's id")
    assignment: str | None = Field(None, description="assigned, unassigned or main")
    login: str | None = Field(None, description="logged-in or logged-out")
    offset: str | None = Field(None, description="rows to skip (a whole number)")
    limit: str | None = Field(None, description="rows to return (a whole number)")


class PlannedRow(m.Answer):
    row: int
    number: str
    extension: str
    occupier: str
    site: str


class ImportAnswer(m.Answer):
    """A preview (dry_run: rows, errors) or what was allocated."""

    rows: list[PlannedRow] | None = None
    errors: dict[str, str] | None = None
    allocated: list[dict] | None = None
    dry_run: bool | None = None
    message: str


class SiteEmergency(m.Answer):
    always: list[str]
    local: list[str]
    message: str | None = None


PAGE_DEFAULT = 100


def usage_json(usage: licences.Usage) -> dict:
    return {"used": usage.used, "bought": usage.bought, "free": usage.free}


@operation("GET", "/operator/occupiers/<int:occupier_id>/licences", roles=(OPERATOR,), tag=TAG, response=Usage)
def occupier_licences(occupier_id: int):
    """R36: voice services used / bought."""
    with unit_of_work() as db:
        return jsonify(usage_json(licences.usage(db, current_actor(), occupier_id)))


@operation(
    "PUT",
    "/operator/occupiers/<int:occupier_id>/licences",
    roles=(OPERATOR,),
    tag=TAG,
    response=Usage,
    body=VoiceLicences,
)
def set_occupier_licences(occupier_id: int):
    """R36: how many voice services the occupier bought; never fewer than it uses."""
    body = json_body(VoiceLicences)
    actor = current_actor()
    with unit_of_work() as db:
        occupier = licences.set_bought(db, actor, occupier_id, body.bought)
        usage = licences.usage(db, actor, occupier.id)
        message = f"{occupier.name} has bought {usage.bought} voice services ({usage.used} used)"
        return jsonify(**usage_json(usage), message=message)


def _listed_json(row: number_list.ListedNumber) -> dict:
    return {
        "id": row.id,
        "number": row.e164,
        "extension": row.extension,
        "occupier": row.occupier,
        "site": row.site,
        "status": row.status,
        "status_label": STATUS_LABELS[row.status],
        "main": row.main,
        "user": row.user,
        "display_name": row.display_name,
        "phone_id": row.phone_id,
    }


def _whole(field: str, default: int) -> int:
    raw = request.args.get(field, "")
    if raw and not raw.isdigit():
        raise InvalidInput(field, "give a whole number")
    return int(raw) if raw else default


@operation("GET", "/operator/numbers", roles=(OPERATOR,), tag=TAG, response=NumberPage, query=NumberFilterQuery)
def operator_numbers_list():
    """R37: ?status=&site=&occupier=&assignment=&login= filtered in the database; &offset=&limit= pages."""
    chosen = number_list.parse_filter(request.args)
    offset, limit = _whole("offset", 0), _whole("limit", PAGE_DEFAULT)
    with unit_of_work() as db:
        total, rows = number_list.list_page(db, current_actor(), chosen, offset, limit)
        return jsonify(total=total, offset=offset, numbers=[_listed_json(r) for r in rows])


def csv_response(actor: Actor, chosen: number_list.NumberFilter) -> Response:
    """R37: the filtered list as a streamed, formula-safe CSV download (also the console's link)."""
    factory = state().sessions
    actor.require_operator()  # refused before the first byte, not inside the stream

    def lines() -> Iterator[str]:
        with factory() as session, session.begin():
            yield from number_csv.csv_lines(number_list.stream_rows(session, actor, chosen))

    response = Response(stream_with_context(lines()), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{CSV_NAME}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@operation(
    "GET",
    "/operator/numbers.csv",
    roles=(OPERATOR,),
    tag=TAG,
    response=None,
    query=NumberFilterQuery,
    produces="text/csv",
)
def operator_numbers_csv():
    """R37: the filtered list as a streamed, formula-safe CSV."""
    return csv_response(current_actor(), number_list.parse_filter(request.args))


def uploaded_csv() -> bytes:
    """The file of a multipart upload (field `file`), else the raw body (text/csv)."""
    upload = request.files.get("file")
    source = upload if upload is not None else request.stream
    data = source.read(bulk_allocation.MAX_BYTES + 1)
    if not data:
        raise InvalidInput(bulk_allocation.FILE, "send a CSV file (number,extension,occupier,site)", "File")
    return data


def plan_json(plan: bulk_allocation.Plan) -> dict:
    return {
        "rows": [
            {"row": r.row, "number": r.number, "extension": r.extension, "occupier": r.occupier, "site": r.site}
            for r in plan.rows
        ],
        "errors": plan.errors,
    }


@operation("POST", "/operator/numbers/import", roles=(OPERATOR,), tag=TAG, response=ImportAnswer, upload="text/csv")
def import_numbers():
    """R37: ?dry_run=1 previews (200, the planned rows, or 400 with every row's error); without it the
    whole file is allocated in one transaction, or nothing."""
    data = uploaded_csv()
    actor = current_actor()
    dry_run = request.args.get("dry_run", "") in ("1", "true", "yes")
    with unit_of_work() as db:
        if dry_run:
            plan = bulk_allocation.plan(db, actor, data)
            if plan.errors:
                raise bulk_allocation.RowErrors(plan.errors)
            message = f"{len(plan.rows)} numbers would be allocated"
            return jsonify(**plan_json(plan), dry_run=True, message=message)
        added = bulk_allocation.allocate(db, actor, data)
        return jsonify(
            allocated=[{"id": n.id, "number": n.e164, "extension": n.extension} for n in added],
            message=f"{len(added)} numbers allocated (Reserved)",
        )


@operation("GET", "/operator/sites/<int:site_id>/emergency", roles=(OPERATOR,), tag=TAG, response=SiteEmergency)
def site_emergency(site_id: int):
    """R22, R39: a site's emergency numbers: 112/999/911 and its own."""
    with unit_of_work() as db:
        site = get_site(db, site_id)
        return jsonify(always=sorted(EMERGENCY_NUMBERS), local=list(emergency.local_numbers(site)))


@operation(
    "PUT",
    "/operator/sites/<int:site_id>/emergency",
    roles=(OPERATOR,),
    tag=TAG,
    response=SiteEmergency,
    body=EmergencyNumbers,
)
def set_site_emergency(site_id: int):
    """R22, R39: the site's own emergency numbers, besides 112, 999 and 911."""
    body = json_body(EmergencyNumbers)
    with unit_of_work() as db:
        site = emergency.set_local_numbers(db, current_actor(), site_id, list(body.numbers))
        local = list(emergency.local_numbers(site))
        return jsonify(
            always=sorted(EMERGENCY_NUMBERS),
            local=local,
            message=f"Emergency numbers at {site.name}: {', '.join(['112', '999', '911', *local])}",
        )
