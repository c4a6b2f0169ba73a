"""R42: the voice portal's number of each site, for the operator, as JSON (declared operations of
the /api/v1 route table, so they are in the OpenAPI document).

The same service as `pbx site portal set/clear` (pbx.services.portal_number): refusals answer
through webui.errors like every other API write.
"""

from __future__ import annotations

from dataclasses import asdict

from flask import jsonify

from pbx.services import portal_number
from webui import api_models as m
from webui.access import OPERATOR, current_actor
from webui.api_registry import operation
from webui.schemas import PortalNumber, json_body
from webui.store import unit_of_work

TAG = "Voice portal"


class SitePortal(m.Answer):
    site_id: int
    site: str
    portal_number: str | None


class SitePortals(m.Answer):
    sites: list[SitePortal]


class SitePortalDone(m.Answer):
    site: SitePortal
    message: str


@operation("GET", "/portal-numbers", roles=(OPERATOR,), tag=TAG, response=SitePortals)
def portal_numbers():
    """R42: every site and its voice portal number."""
    with unit_of_work() as db:
        return jsonify(sites=[asdict(s) for s in portal_number.site_portals(db, current_actor())])


@operation(
    "PUT", "/sites/<int:site_id>/portal-number", roles=(OPERATOR,), tag=TAG, response=SitePortalDone, body=PortalNumber
)
def set_portal_number(site_id: int):
    """R42: set a site's voice portal number (E.164, not an allocated number)."""
    body = json_body(PortalNumber)
    with unit_of_work() as db:
        site = portal_number.set_portal_number(db, current_actor(), site_id, body.number)
        return jsonify(site=asdict(site), message=f"The voice portal of {site.site} is {site.portal_number}")


@operation("DELETE", "/sites/<int:site_id>/portal-number", roles=(OPERATOR,), tag=TAG, response=SitePortalDone)
def clear_portal_number(site_id: int):
    """R42: a site has no voice portal number any more."""
    with unit_of_work() as db:
        site = portal_number.clear_portal_number(db, current_actor(), site_id)
        return jsonify(site=asdict(site), message=f"{site.site} has no voice portal number")
