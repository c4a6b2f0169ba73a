"""The Telephony page (R7-R11) and the Phone number features page (R20-R28) for occupier admins.

The page is rendered once; its script reads the rows from /api/v1/ and filters
them in the browser, so thousands of numbers never need a full reload.
"""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request, url_for

from pbx.services import directory, licences, numbers
from pbx.services.errors import InvalidInput
from pbx.services.lookup import get_number, get_occupier
from webui import features_form
from webui.access import ADMIN, current_actor, roles_required
from webui.store import unit_of_work

bp = Blueprint("telephony", __name__)


@bp.get("/telephony")
@roles_required(ADMIN)
def page():
    actor = current_actor()
    with unit_of_work() as db:
        occupier = get_occupier(db, actor, actor.own_occupier_id)
        sites = [{"id": s.id, "name": s.name} for s in numbers.occupier_sites(db, actor, occupier.id)]
        selected = _selected_site(db, actor, sites)
        voice_services = occupier.voice_services_active
        occupier_name = occupier.name
        usage = licences.usage(db, actor, occupier.id)  # R36
    return render_template(
        "telephony.html",
        sites=sites,
        selected=selected,
        occupier_name=occupier_name,
        voice_services=voice_services,
        licences=usage,
        poll_ms=current_app.config["PBX_POLL_MS"],
    )


def _selected_site(db, actor, sites: list[dict]) -> dict | None:
    """R7: the site asked for, else the first alphabetically; another occupier's site is not found."""
    raw = request.args.get("site", "")
    if not raw:
        return sites[0] if sites else None
    if not raw.isdigit():
        raise InvalidInput("site", "pick a site from the list")
    site = directory.get_occupier_site(db, actor, actor.own_occupier_id, int(raw))
    return {"id": site.id, "name": site.name}


@bp.route("/numbers/<int:number_id>/features", methods=["GET", "POST"])
@roles_required(ADMIN)
def features(number_id: int):
    """R28. Reached from a Telephony row or from a user's page (R29), and goes back there."""
    with unit_of_work() as db:
        number = get_number(db, current_actor(), number_id)
        user = number.user
        if request.args.get("from") == "user" and user is not None:
            back, label = url_for("users.show", user_id=user.id), user.full_name
        else:
            back, label = url_for("telephony.page", site=number.site_id), "Telephony"
    return features_form.handle(number_id, back, label)
