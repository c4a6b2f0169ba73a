"""The operator console (R31): allocate and activate numbers, main numbers, handsets, voice services."""
from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from pbx.services import directory, operator as ops
from pbx.services.errors import InvalidInput
from webui.access import OPERATOR, current_actor, roles_required
from webui.present import STATUS_LABELS
from webui.store import unit_of_work

bp = Blueprint("operator", __name__, url_prefix="/operator")


def _int_field(name: str, label: str) -> int:
    raw = request.form.get(name, "")
    if not raw.isdigit():
        raise InvalidInput(name, f"pick {label}")
    return int(raw)


def _selected_occupier() -> int | None:
    raw = request.values.get("occupier", "")
    return int(raw) if raw.isdigit() else None


@bp.get("")
@roles_required(OPERATOR)
def page(form: dict | None = None, refusal=None, status: int = 200):
    actor = current_actor()
    with unit_of_work() as db:
        occupiers = directory.all_occupiers(db, actor)
        selected = _selected_occupier() or (occupiers[0].id if occupiers else None)
        occupier_rows = [{"id": o.id, "name": o.name, "voice": o.voice_services_active,
                          "sites": [s.name for s in o.sites]} for o in occupiers]
        sites = [{"id": s.id, "name": s.name,
                  "handsets": [{"phone_id": h.phone_id,
                                "number": h.number.e164 if h.number else None} for h in s.handsets]}
                 for s in directory.all_sites(db, actor)]
        numbers = [{"id": n.id, "e164": n.e164, "extension": n.extension, "site": n.site.name,
                    "status": n.status.value, "status_label": STATUS_LABELS[n.status.value], "main": n.is_main,
                    "destination": n.main_destination or "", "user": n.user.full_name if n.user else "",
                    "phone_id": n.handset.phone_id if n.handset else ""}
                   for n in (directory.operator_numbers(db, actor, selected) if selected else [])]
    return render_template("operator.html", occupiers=occupier_rows, sites=sites, numbers=numbers,
                           selected=selected, form=form or {}, refusal=refusal), status


def _back():
    occupier = _selected_occupier()
    return redirect(url_for("operator.page", occupier=occupier) if occupier else url_for("operator.page"), 303)


def _refuse_in_page() -> None:
    form = {key: request.form.get(key, "") for key in request.form if key != "csrf_token"}
    g.on_refusal = lambda refusal: page(form, refusal, 400)


@bp.post("/numbers")
@roles_required(OPERATOR)
def allocate():
    """R4: a new number starts Reserved."""
    _refuse_in_page()
    with unit_of_work() as db:
        number = ops.allocate_number(db, current_actor(), _int_field("occupier", "an occupier"),
                                     _int_field("site", "a site"), request.form.get("e164", ""),
                                     request.form.get("extension", ""),
                                     request.form.get("default_pin", "").strip() or None)
        flash(f"{number.e164} is allocated to {number.occupier.name} at {number.site.name} (Reserved)", "success")
    return _back()


@bp.post("/numbers/<int:number_id>/activate")
@roles_required(OPERATOR)
def activate(number_id: int):
    _refuse_in_page()
    with unit_of_work() as db:
        number = ops.activate_number(db, current_actor(), number_id)
        flash(f"{number.e164} is activated", "success")
    return _back()


@bp.post("/numbers/<int:number_id>/main")
@roles_required(OPERATOR)
def set_main(number_id: int):
    """R5: the main number of its occupier at its site, and what it rings."""
    _refuse_in_page()
    with unit_of_work() as db:
        number = ops.set_main_number(db, current_actor(), number_id,
                                     request.form.get("destination", "").strip() or None)
        flash(f"{number.e164} is the main number at {number.site.name}", "success")
    return _back()


@bp.post("/handsets")
@roles_required(OPERATOR)
def register_handset():
    _refuse_in_page()
    with unit_of_work() as db:
        handset = ops.register_handset(db, current_actor(), _int_field("site", "a site"),
                                       request.form.get("phone_id", ""))
        flash(f"Handset {handset.phone_id} is registered at {handset.site.name}", "success")
    return _back()


@bp.post("/occupiers/<int:occupier_id>/voice-services")
@roles_required(OPERATOR)
def voice_services(occupier_id: int):
    """R2: switch an occupier's voice services on or off."""
    _refuse_in_page()
    active = request.form.get("active") == "on"
    with unit_of_work() as db:
        occupier = ops.set_voice_services(db, current_actor(), occupier_id, active)
        flash(f"Voice services of {occupier.name} are {'on' if active else 'off'}", "success")
    return _back()
