"""The operator console's actions (R31) in the API: occupiers, allocate, activate, handsets, voice services.

The same service functions as the console's forms (pbx.services.operator); refusals answer
the one error shape (webui.errors). The PIN and authorization-code resets are the number
routes of webui.api_actions, open to the operator too.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify
from pydantic import Field

from pbx.services import call_policy, directory, licences
from pbx.services import operator as ops
from pbx.store.models import Occupier, PhoneNumber
from webui import api_models as m
from webui.access import OPERATOR, current_actor
from webui.api_registry import operation
from webui.present import STATUS_LABELS
from webui.schemas import Body, json_body
from webui.store import unit_of_work

TAG = "Operator"


class Allocation(Body):
    """R4: POST /operator/numbers."""

    occupier_id: int = Field(description="pick the occupier")
    site_id: int = Field(description="pick the site")
    e164: str = Field(description="send the number in E.164 form, such as +442079460299")
    extension: str = Field(description="send the extension as digits")
    default_pin: str | None = Field(None, description="send the default PIN as digits, or leave it out")


class HandsetRegistration(Body):
    site_id: int = Field(description="pick the site")
    phone_id: str = Field(min_length=1, description="send the handset's Phone ID")


class VoiceServices(Body):
    """R2."""

    active: bool = Field(description="send true or false")


class OccupierView(m.Answer):
    id: int
    name: str
    voice_services: bool
    sites: list[m.Site]
    allowed_classes: list[str]


class Occupiers(m.Answer):
    occupiers: list[OccupierView]


class OccupierChanged(m.Answer):
    occupier: OccupierView
    message: str


class OperatorNumber(m.Answer):
    id: int
    e164: str
    extension: str
    occupier_id: int
    site_id: int
    status: str
    status_label: str
    main: bool
    destination: str | None
    user: str | None
    phone_id: str | None


class OperatorNumbers(m.Answer):
    numbers: list[OperatorNumber]


class NumberDone(m.Answer):
    number: OperatorNumber
    message: str


class HandsetView(m.Answer):
    phone_id: str
    site_id: int
    number: str | None


class HandsetDone(m.Answer):
    handset: HandsetView
    message: str


def occupier_json(o: Occupier) -> dict[str, Any]:
    return {
        "id": o.id,
        "name": o.name,
        "voice_services": o.voice_services_active,
        "sites": [{"id": s.id, "name": s.name} for s in o.sites],
        "allowed_classes": list(call_policy.allowed_classes(o)),
    }


def number_json(n: PhoneNumber) -> dict[str, Any]:
    return {
        "id": n.id,
        "e164": n.e164,
        "extension": n.extension,
        "occupier_id": n.occupier_id,
        "site_id": n.site_id,
        "status": n.status.value,
        "status_label": STATUS_LABELS[n.status.value],
        "main": n.is_main,
        "destination": n.main_destination,
        "user": n.user.full_name if n.user else None,
        "phone_id": n.handset.phone_id if n.handset else None,
    }


@operation("GET", "/operator/occupiers", roles=(OPERATOR,), tag=TAG, response=Occupiers)
def operator_occupiers():
    """Every occupier, its sites, voice services and call policy."""
    with unit_of_work() as db:
        return jsonify(occupiers=[occupier_json(o) for o in directory.all_occupiers(db, current_actor())])


@operation("GET", "/operator/occupiers/<int:occupier_id>/numbers", roles=(OPERATOR,), tag=TAG, response=OperatorNumbers)
def operator_numbers(occupier_id: int):
    """An occupier's numbers, as the console lists them."""
    with unit_of_work() as db:
        found = directory.operator_numbers(db, current_actor(), occupier_id)
        return jsonify(numbers=[number_json(n) for n in found])


@operation("POST", "/operator/numbers", roles=(OPERATOR,), tag=TAG, response=NumberDone, body=Allocation, status=201)
def operator_allocate():
    """R4: allocate a number to an occupier at a site; it starts Reserved."""
    body = json_body(Allocation)
    with unit_of_work() as db:
        number = ops.allocate_number(
            db, current_actor(), body.occupier_id, body.site_id, body.e164, body.extension, body.default_pin or None
        )
        done = f"{number.e164} is allocated to {number.occupier.name} at {number.site.name} (Reserved)"
        return jsonify(number=number_json(number), message=done), 201


@operation("POST", "/operator/numbers/<int:number_id>/activate", roles=(OPERATOR,), tag=TAG, response=NumberDone)
def operator_activate(number_id: int):
    """R4, R36: activate a Reserved number with a free voice service (Pending until every node has it)."""
    actor = current_actor()
    with unit_of_work() as db:
        number = ops.activate_number(db, actor, number_id)
        usage = licences.usage(db, actor, number.occupier_id)
        voice = {"used": usage.used, "bought": usage.bought, "free": usage.free}
        return jsonify(number=number_json(number), licences=voice, message=f"{number.e164} is activated")


@operation(
    "POST", "/operator/handsets", roles=(OPERATOR,), tag=TAG, response=HandsetDone, body=HandsetRegistration, status=201
)
def operator_register_handset():
    """Register a handset (its Phone ID) at a site."""
    body = json_body(HandsetRegistration)
    with unit_of_work() as db:
        handset = ops.register_handset(db, current_actor(), body.site_id, body.phone_id)
        view = {"phone_id": handset.phone_id, "site_id": handset.site_id, "number": None}
        return jsonify(handset=view, message=f"Handset {handset.phone_id} is registered at {handset.site.name}"), 201


@operation(
    "PUT",
    "/operator/occupiers/<int:occupier_id>/voice-services",
    roles=(OPERATOR,),
    tag=TAG,
    response=OccupierChanged,
    body=VoiceServices,
)
def operator_voice_services(occupier_id: int):
    """R2: switch an occupier's voice services on or off."""
    body = json_body(VoiceServices)
    with unit_of_work() as db:
        occupier = ops.set_voice_services(db, current_actor(), occupier_id, body.active)
        done = f"Voice services of {occupier.name} are {'on' if body.active else 'off'}"
        return jsonify(occupier=occupier_json(occupier), message=done)
