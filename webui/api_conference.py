"""R44: the occupier's meet-me conference over /api/v1/: its admin reads it and sets its PIN,
the operator assigns its number. The rules are pbx.services.conference's; refusals go
through webui.errors like every other API answer. The PIN is never echoed back.
"""

from __future__ import annotations

from dataclasses import asdict

from flask import jsonify

from pbx.services import conference
from pbx.services.lookup import get_number_by_e164
from webui.access import ADMIN, OPERATOR, current_actor, roles_required
from webui.api import bp
from webui.schemas import ConferenceNumber, ConferencePin, json_body
from webui.store import unit_of_work


@bp.get("/conference")
@roles_required(ADMIN)
def my_conference():
    actor = current_actor()
    with unit_of_work() as db:
        return jsonify(asdict(conference.get_conference(db, actor, actor.own_occupier_id)))


@bp.put("/conference/pin")
@roles_required(ADMIN)
def conference_pin():
    """R44: 4 to 8 digits, stored as an argon2 hash; a new PIN also unlocks the bridge."""
    body = json_body(ConferencePin)
    actor = current_actor()
    with unit_of_work() as db:
        shown = conference.set_conference_pin(db, actor, actor.own_occupier_id, body.pin)
        return jsonify(conference=asdict(shown), message="The conference PIN is changed")


@bp.put("/occupiers/<int:occupier_id>/conference/number")
@roles_required(OPERATOR)
def conference_number(occupier_id: int):
    """R44: the operator marks one of the occupier's numbers as its conference number (null: none)."""
    body = json_body(ConferenceNumber)
    actor = current_actor()
    with unit_of_work() as db:
        number_id = get_number_by_e164(db, actor, body.number).id if body.number else None
        shown = conference.set_conference_number(db, actor, occupier_id, number_id)
        message = f"{shown.number} is the conference number" if shown.number else "The conference has no number"
        return jsonify(conference=asdict(shown), message=message)
