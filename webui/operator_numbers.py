"""The operator's number tools beside the console: voice services bought (R36), the filtered
number list with its CSV download and bulk allocation from CSV (R37), and the sites' own
emergency numbers (R22, R39). Views only: every rule is in pbx.services.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import HiddenField, StringField, TextAreaField

from pbx.services import bulk_allocation, directory, emergency, licences, number_list
from pbx.services.errors import PbxError
from pbx.store.models import NumberStatus
from webui.access import OPERATOR, current_actor, roles_required
from webui.api_operator_numbers import csv_response
from webui.forms import Submission
from webui.present import STATUS_LABELS
from webui.store import unit_of_work

bp = Blueprint("operator_numbers", __name__, url_prefix="/operator")
SHOWN_ROWS = 200
FILTERS = ("status", "site", "occupier", "assignment", "login")


class LicencesForm(FlaskForm):
    """R36: how many voice services the occupier bought."""

    bought = StringField("Voice services bought")


class UploadForm(FlaskForm):
    """R37: a CSV file to preview, or (after the preview) its text again to allocate."""

    file = FileField("CSV file")
    csv = TextAreaField()
    apply = HiddenField()


class EmergencyForm(FlaskForm):
    numbers = StringField("Emergency numbers")


@bp.post("/occupiers/<int:occupier_id>/licences")
@roles_required(OPERATOR)
def set_licences(occupier_id: int):
    """R36: from the console's occupier list; refused below the voice services in use."""
    form = LicencesForm()
    with Submission(form) as sent, unit_of_work() as db:
        occupier = licences.set_bought(db, current_actor(), occupier_id, (form.bought.data or "").strip())
        done = f"{occupier.name} has bought {occupier.voice_licences} voice services"
    if sent.refused:
        for message in sent.banner + [e for errors in form.errors.values() for e in errors]:
            flash(message, "error")
    else:
        flash(done, "success")
    return redirect(url_for("operator.page", occupier=occupier_id), 303)


def _filter_values() -> dict[str, str]:
    return {name: request.args.get(name, "") for name in FILTERS if request.args.get(name, "")}


@bp.get("/numbers/lists")
@roles_required(OPERATOR)
def lists():
    return _lists_page()


def _lists_page(
    upload: UploadForm | None = None,
    plan: bulk_allocation.Plan | None = None,
    csv_text: str = "",
    banner: list[str] | None = None,
    status: int = 200,
):
    actor = current_actor()
    chosen = number_list.parse_filter(_filter_values())
    with unit_of_work() as db:
        total, rows = number_list.list_page(db, actor, chosen, 0, SHOWN_ROWS)
        occupiers = [(o.id, o.name) for o in directory.all_occupiers(db, actor)]
        sites = [
            {"id": s.id, "name": s.name, "local": ",".join(emergency.local_numbers(s))}
            for s in directory.all_sites(db, actor)
        ]
    return render_template(
        "operator_numbers.html",
        rows=rows,
        total=total,
        shown=len(rows),
        filters=_filter_values(),
        statuses=[(s.value, STATUS_LABELS[s.value]) for s in NumberStatus],
        assignments=number_list.ASSIGNMENTS,
        logins=number_list.LOGINS,
        occupiers=occupiers,
        sites=sites,
        upload=upload or UploadForm(formdata=None),
        plan=plan,
        csv_text=csv_text,
        banner_messages=banner or [],
        status_labels=STATUS_LABELS,
    ), status


@bp.get("/numbers.csv")
@roles_required(OPERATOR)
def download_csv():
    """R37: the page's filters as a streamed, formula-safe CSV."""
    return csv_response(current_actor(), number_list.parse_filter(_filter_values()))


@bp.post("/numbers/import")
@roles_required(OPERATOR)
def import_numbers():
    """R37: upload -> preview (nothing written); the preview's Allocate sends the same text back."""
    form = UploadForm()
    if not form.validate():
        return _lists_page(form, banner=[e for errors in form.errors.values() for e in errors], status=400)
    data: bytes | str = form.file.data.read(bulk_allocation.MAX_BYTES + 1) if form.file.data else (form.csv.data or "")
    text = data.decode("utf-8-sig", errors="replace") if isinstance(data, bytes) else data
    actor = current_actor()
    try:
        with unit_of_work() as db:
            if form.apply.data == "1":
                added = bulk_allocation.allocate(db, actor, data)
                flash(f"{len(added)} numbers allocated (Reserved)", "success")
                return redirect(url_for("operator_numbers.lists", status="reserved"), 303)
            plan = bulk_allocation.plan(db, actor, data)
    except PbxError as refusal:
        errors = getattr(refusal, "errors", None)
        plan = bulk_allocation.Plan([], dict(errors)) if errors else None
        return _lists_page(form, plan, "", [] if errors else [refusal.message], 400)
    return _lists_page(form, plan, text if plan.ok else "", status=200 if plan.ok else 400)


@bp.post("/sites/<int:site_id>/emergency")
@roles_required(OPERATOR)
def set_site_emergency(site_id: int):
    """R22, R39: the site's own emergency numbers, besides 112, 999 and 911."""
    form = EmergencyForm()
    with Submission(form) as sent, unit_of_work() as db:
        site = emergency.set_local_numbers(db, current_actor(), site_id, form.numbers.data or "")
        done = f"Emergency numbers at {site.name}: {', '.join(['112', '999', '911', *emergency.local_numbers(site)])}"
    if sent.refused:
        return _lists_page(banner=sent.banner + [e for errors in form.errors.values() for e in errors], status=400)
    flash(done, "success")
    return redirect(url_for("operator_numbers.lists"), 303)
