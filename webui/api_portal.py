"""R42: the voice portal's number of each site, for the operator, as JSON (on the /api/v1 blueprint).

The same service as `pbx site portal set/clear` (pbx.services.portal_number): refusals answer
through webui.errors like every other API write.
"""

from __future__ import annotations

from dataclasses import asdict

from flask import jsonify

from pbx.services import portal_number
from webui.access import OPERATOR, current_actor, roles_required
from webui.api import bp
from webui.schemas import PortalNumber, json_body
from webui.store import unit_of_work


@bp.get("/portal-numbers")
@roles_required(OPERATOR)
def portal_numbers():
    with unit_of_work() as db:
        return jsonify(sites=[asdict(s) for s in portal_number.site_portals(db, current_actor())])


@bp.put("/sites/<int:site_id>/portal-number")
@roles_required(OPERATOR)
def set_portal_number(site_id: int):
    body = json_body(PortalNumber)
    with unit_of_work() as db:
        site = portal_number.set_portal_number(db, current_actor(), site_id, body.number)
        return jsonify(site=asdict(site), message=f"The voice portal of {site.site} is {site.portal_number}")


@bp.delete("/sites/<int:site_id>/portal-number")
@roles_required(OPERATOR)
def clear_portal_number(site_id: int):
    with unit_of_work() as db:
        site = portal_number.clear_portal_number(db, current_actor(), site_id)
        return jsonify(site=asdict(site), message=f"{site.site} has no voice portal number")
