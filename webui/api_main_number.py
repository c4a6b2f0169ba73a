"""R35 for the operator as JSON under /api/v1/: site business hours and a main number's
hunt group, out-of-hours destination and greeting.

  GET/PUT/DELETE /sites/<id>/hours            {"timezone", "weekly": {"mon": ["09:00-17:00"]}, "closed_days": [...]}
  GET/DELETE     /main-numbers/<id>/handling
  PUT            /main-numbers/<id>/hunt          {"strategy", "members": [{"extension", "ring_seconds"}]}
  PUT            /main-numbers/<id>/out-of-hours  {"destination": "voicemail" | extension | E.164}
  PUT/DELETE     /main-numbers/<id>/greeting      the WAV or MP3 file: multipart field "file", or the raw body

Shapes are checked here (pydantic, every wrong field at once); every rule is the services'.
Refusals go through webui.errors like the rest of the API.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from pydantic import Field

from pbx.services import business_hours, main_greeting, main_number_handling
from pbx.services.business_hours import Hours
from pbx.services.errors import InvalidInput
from pbx.services.lookup import get_site
from pbx.services.main_number_handling import Handling
from webui import api_models as m
from webui.access import OPERATOR, current_actor
from webui.api_registry import operation
from webui.schemas import Body, json_body
from webui.store import unit_of_work


class SiteHoursBody(Body):
    """PUT /sites/<id>/hours."""

    timezone: str = Field(description="send the IANA time zone as text, e.g. Europe/London")
    weekly: dict[str, list[str]] = Field(
        default_factory=dict, description='send {"mon": ["09:00-12:30", "13:30-17:00"], ...}'
    )
    closed_days: list[str] = Field(default_factory=list, description='send ["2026-12-25", ...]')


class HuntMember(Body):
    extension: str
    ring_seconds: int = main_number_handling.DEFAULT_RING_S


class HuntBody(Body):
    """PUT /main-numbers/<id>/hunt."""

    strategy: str = Field(description="send ring_all or in_order")
    members: list[HuntMember] = Field(
        default_factory=list, description='send [{"extension": "201", "ring_seconds": 20}, ...]'
    )


class OutOfHoursBody(Body):
    """PUT /main-numbers/<id>/out-of-hours."""

    destination: str = Field(description="send voicemail, an extension or an E.164 number")


TAG = "Main number call handling"


class HoursView(m.Answer):
    timezone: str
    weekly: dict[str, list[str]]
    closed_days: list[str]


class SiteHours(m.Answer):
    hours: HoursView | None
    message: str | None = None


class HandlingView(m.Answer):
    number_id: int
    e164: str
    strategy: str | None
    members: list[dict[str, Any]]
    out_of_hours: str | None
    greeting: str | None
    hours: HoursView | None


class HandlingAnswer(m.Answer):
    handling: HandlingView
    message: str | None = None


def hours_json(hours: Hours | None) -> dict[str, Any] | None:
    if hours is None:
        return None
    return {
        "timezone": hours.timezone,
        "weekly": {d: [f"{a}-{b}" for a, b in spans] for d, spans in hours.weekly.items()},
        "closed_days": list(hours.closed_days),
    }


def handling_json(shown: Handling) -> dict[str, Any]:
    return {
        "number_id": shown.number_id,
        "e164": shown.e164,
        "strategy": shown.strategy,
        "members": [{"extension": m.extension, "ring_seconds": m.ring_s} for m in shown.members],
        "out_of_hours": shown.out_of_hours,
        "greeting": shown.greeting or None,
        "hours": hours_json(shown.hours),
    }


@operation("GET", "/sites/<int:site_id>/hours", roles=(OPERATOR,), tag=TAG, response=SiteHours)
def site_hours(site_id: int):
    """R35: a site's business hours (null: always open)."""
    with unit_of_work() as db:
        current_actor().require_operator()
        return jsonify(hours=hours_json(business_hours.hours_of(get_site(db, site_id).hours)))


@operation("PUT", "/sites/<int:site_id>/hours", roles=(OPERATOR,), tag=TAG, response=SiteHours, body=SiteHoursBody)
def set_site_hours(site_id: int):
    """R35: set a site's business hours (time zone, weekly hours, closed days)."""
    body = json_body(SiteHoursBody)
    with unit_of_work() as db:
        hours = business_hours.set_site_hours(
            db, current_actor(), site_id, body.timezone, body.weekly, body.closed_days
        )
        return jsonify(hours=hours_json(hours), message="Business hours saved")


@operation("DELETE", "/sites/<int:site_id>/hours", roles=(OPERATOR,), tag=TAG, response=SiteHours)
def clear_site_hours(site_id: int):
    """R35: remove a site's business hours: always open."""
    with unit_of_work() as db:
        business_hours.clear_site_hours(db, current_actor(), site_id)
        return jsonify(hours=None, message="Business hours removed: always open")


@operation("GET", "/main-numbers/<int:number_id>/handling", roles=(OPERATOR,), tag=TAG, response=HandlingAnswer)
def handling(number_id: int):
    """R35: a main number's call handling."""
    with unit_of_work() as db:
        return jsonify(handling=handling_json(main_number_handling.describe(db, current_actor(), number_id)))


@operation("DELETE", "/main-numbers/<int:number_id>/handling", roles=(OPERATOR,), tag=TAG, response=HandlingAnswer)
def clear_handling(number_id: int):
    """R35: remove a main number's call handling (it rings its destination again)."""
    with unit_of_work() as db:
        main_number_handling.clear_handling(db, current_actor(), number_id)
        shown = main_number_handling.describe(db, current_actor(), number_id)
        return jsonify(handling=handling_json(shown), message="Call handling removed")


@operation(
    "PUT", "/main-numbers/<int:number_id>/hunt", roles=(OPERATOR,), tag=TAG, response=HandlingAnswer, body=HuntBody
)
def set_hunt(number_id: int):
    """R35: the hunt group (ring all, or in order with a ring time each)."""
    body = json_body(HuntBody)
    members = [(m.extension, m.ring_seconds) for m in body.members]
    with unit_of_work() as db:
        shown = main_number_handling.set_hunt(db, current_actor(), number_id, body.strategy, members)
        return jsonify(handling=handling_json(shown), message="Hunt group saved")


@operation(
    "PUT",
    "/main-numbers/<int:number_id>/out-of-hours",
    roles=(OPERATOR,),
    tag=TAG,
    response=HandlingAnswer,
    body=OutOfHoursBody,
)
def set_out_of_hours(number_id: int):
    """R35, R39: where calls go out of hours (voicemail, an extension or an E.164 number)."""
    body = json_body(OutOfHoursBody)
    with unit_of_work() as db:
        shown = main_number_handling.set_out_of_hours(db, current_actor(), number_id, body.destination)
        return jsonify(handling=handling_json(shown), message="Out-of-hours destination saved")


def uploaded_audio() -> bytes:
    """The greeting file: a multipart field "file", else the raw body; never more than MAX_BYTES read."""
    limit = main_greeting.MAX_BYTES
    if request.content_length is not None and request.content_length > limit + 64 * 1024:
        raise InvalidInput("greeting", f"the file is larger than {limit // (1024 * 1024)} MB")
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None:
            raise InvalidInput("greeting", 'send the file in the multipart field "file"')
        return upload.stream.read(limit + 1)
    return request.stream.read(limit + 1)


@operation("PUT", "/main-numbers/<int:number_id>/greeting", roles=(OPERATOR,), tag=TAG, response=HandlingAnswer)
def upload_greeting(number_id: int):
    """R35: upload the greeting (WAV or MP3, at most 5 MB and 120 s; the raw body or multipart field "file").

    The audio is checked and converted by the service (sox)."""
    data = uploaded_audio()
    with unit_of_work() as db:
        main_greeting.upload_greeting(db, current_actor(), number_id, data)
        shown = main_number_handling.describe(db, current_actor(), number_id)
        return jsonify(handling=handling_json(shown), message="Greeting uploaded: played from the next call")


@operation("DELETE", "/main-numbers/<int:number_id>/greeting", roles=(OPERATOR,), tag=TAG, response=HandlingAnswer)
def remove_greeting(number_id: int):
    """R35: remove the greeting."""
    with unit_of_work() as db:
        main_greeting.remove_greeting(db, current_actor(), number_id)
        shown = main_number_handling.describe(db, current_actor(), number_id)
        return jsonify(handling=handling_json(shown), message="Greeting removed")
