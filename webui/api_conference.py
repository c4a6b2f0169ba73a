"""R44: the occupier's meet-me conference over /api/v1/: its admin reads it and sets its PIN,
the operator assigns its number. The rules are pbx.services.conference's; refusals go
through webui.errors like every other API answer. The PIN is never echoed back. Declared in
the /api/v1 route table (OpenAPI).
"""

from __future__ import annotations

from dataclasses import asdict

from flask import jsonify

from pbx.services import conference
from pbx.services.lookup import get_number_by_e164
from webui import api_models as m
from webui.access import ADMIN, OPERATOR, current_actor
from webui.api_registry import operation
from webui.schemas import ConferenceNumber, ConferencePin, json_body
from webui.store import unit_of_work

TAG = "Conference"


class ConferenceView(m.Answer):
    occupier_id: int
    pin_set: bool
    locked: bool
    number_id: int | None
    number: str | None
    feature_code: str


class ConferenceDone(m.Answer):
    conference: ConferenceView
    message: str


@operation("GET", "/conference", roles=(ADMIN,), tag=TAG, response=ConferenceView)
def my_conference():
    """R44: the admin's occupier's meet-me conference (feature code, number, PIN set or locked)."""
    actor = current_actor()
    with unit_of_work() as db:
        return jsonify(asdict(conference.get_conference(db, actor, actor.own_occupier_id)))


@operation("PUT", "/conference/pin", roles=(ADMIN,), tag=TAG, response=ConferenceDone, body=ConferencePin)
def conference_pin():
    """R44: 4 to 8 digits, stored as an argon2 hash; a new PIN also unlocks the bridge."""
    body = json_body(ConferencePin)
    actor = current_actor()
    with unit_of_work() as db:
        shown = conference.set_conference_pin(db, actor, actor.own_occupier_id, body.pin)
        return jsonify(conference=asdict(shown), message="The conference PIN is changed")


@operation(
    "PUT",
    "/occupiers/<int:occupier_id>/conference/number",
    roles=(OPERATOR,),
    tag=TAG,
    response=ConferenceDone,
    body=ConferenceNumber,
)
def conference_number(occupier_id: int):
    """R44: the operator marks one of the occupier's numbers as its conference number (null: none)."""
    body = json_body(ConferenceNumber)
    actor = current_actor()
    with unit_of_work() as db:
        number_id = get_number_by_e164(db, actor, body.number).id if body.number else None
        shown = conference.set_conference_number(db, actor, occupier_id, number_id)
        message = f"{shown.number} is the conference number" if shown.number else "The conference has no number"
        return jsonify(conference=asdict(shown), message=message)
