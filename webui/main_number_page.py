"""R35: the operator's page for one main number's call handling (/operator/main-numbers/<id>).

A page of its own, linked from the operator console by one link beside "Main Number": the
site's business hours, the hunt group with the out-of-hours destination, and the greeting
upload. Views parse and show; every rule is in pbx.services (business_hours,
main_number_handling, main_greeting).
"""

from __future__ import annotations

import re

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import StringField

from pbx.services import business_hours, main_greeting, main_number_handling
from pbx.services.errors import InvalidInput
from webui.access import OPERATOR, current_actor, roles_required
from webui.forms import Submission
from webui.store import unit_of_work

bp = Blueprint("main_number", __name__, url_prefix="/operator/main-numbers")
DAY_FIELDS = {f"hours_{d}": d for d in business_hours.WEEKDAYS}
STRATEGY_CHOICES = (("ring_all", "Ring all"), ("in_order", "In order"))


class HoursForm(FlaskForm):
    """R35: the site's hours; a day is "09:00-12:30, 13:30-17:00", empty when closed."""

    timezone = StringField("Time zone")
    hours_mon = StringField("Monday")
    hours_tue = StringField("Tuesday")
    hours_wed = StringField("Wednesday")
    hours_thu = StringField("Thursday")
    hours_fri = StringField("Friday")
    hours_sat = StringField("Saturday")
    hours_sun = StringField("Sunday")
    closed_days = StringField("Closed days")


class HuntForm(FlaskForm):
    """R35: members as "201:20, 202:20" (extension:ring seconds), in order."""

    strategy = StringField("Strategy")  # the service checks it is one of STRATEGY_CHOICES
    members = StringField("Members")
    out_of_hours = StringField("Out of hours / no answer")


class GreetingForm(FlaskForm):
    greeting = FileField("Greeting (WAV or MP3)")


def _split(text: str | None) -> list[str]:
    return [p for p in re.split(r"[,\s]+", text or "") if p]


def _page(number_id: int, hours_form=None, hunt_form=None, greeting_form=None, banner=None, status=200):
    actor = current_actor()
    with unit_of_work() as db:
        shown = main_number_handling.describe(db, actor, number_id)
    hours_form = hours_form or HoursForm(formdata=None)
    hunt_form = hunt_form or HuntForm(formdata=None)
    if hours_form.timezone.data is None and shown.hours is not None:
        hours_form.timezone.data = shown.hours.timezone
        for name, day in DAY_FIELDS.items():
            hours_form[name].data = ", ".join(f"{a}-{b}" for a, b in shown.hours.weekly.get(day, ()))
        hours_form.closed_days.data = ", ".join(shown.hours.closed_days)
    if hunt_form.members.data is None:
        hunt_form.strategy.data = shown.strategy
        hunt_form.members.data = ", ".join(f"{m.extension}:{m.ring_s}" for m in shown.members)
        hunt_form.out_of_hours.data = shown.out_of_hours
    return render_template(
        "main_number.html",
        shown=shown,
        hours_form=hours_form,
        hunt_form=hunt_form,
        greeting_form=greeting_form or GreetingForm(formdata=None),
        day_fields=DAY_FIELDS,
        strategies=STRATEGY_CHOICES,
        banner_messages=banner or [],
    ), status


def _done(number_id: int, message: str):
    flash(message, "success")
    return redirect(url_for("main_number.page", number_id=number_id), 303)


@bp.get("/<int:number_id>")
@roles_required(OPERATOR)
def page(number_id: int):
    return _page(number_id)


@bp.post("/<int:number_id>/hours")
@roles_required(OPERATOR)
def save_hours(number_id: int):
    """R35: the hours of the main number's site (every main number there follows them)."""
    form = HoursForm()
    weekly = {day: _split(form[name].data) for name, day in DAY_FIELDS.items()}
    with Submission(form) as sent, unit_of_work() as db:
        site_id = main_number_handling.the_main_number(db, current_actor(), number_id).site_id
        business_hours.set_site_hours(
            db, current_actor(), site_id, form.timezone.data or "", weekly, _split(form.closed_days.data)
        )
    if sent.refused:
        return _page(number_id, hours_form=form, banner=sent.banner, status=400)
    return _done(number_id, "Business hours saved")


@bp.post("/<int:number_id>/hunt")
@roles_required(OPERATOR)
def save_hunt(number_id: int):
    """R35, R39: the hunt group and where calls go out of hours."""
    form = HuntForm()
    members = []
    for item in _split(form.members.data):
        ext, _, ring = item.partition(":")
        members.append((ext, ring or main_number_handling.DEFAULT_RING_S))
    with Submission(form) as sent, unit_of_work() as db:
        main_number_handling.set_hunt(db, current_actor(), number_id, form.strategy.data or "", members)
        main_number_handling.set_out_of_hours(db, current_actor(), number_id, form.out_of_hours.data or "")
    if sent.refused:
        return _page(number_id, hunt_form=form, banner=sent.banner, status=400)
    return _done(number_id, "Hunt group saved")


@bp.post("/<int:number_id>/greeting")
@roles_required(OPERATOR)
def save_greeting(number_id: int):
    """R35: an uploaded WAV or MP3, checked and converted by the service."""
    form = GreetingForm()
    upload = form.greeting.data
    with Submission(form) as sent, unit_of_work() as db:
        if upload is None:
            raise InvalidInput("greeting", "choose a WAV or MP3 file")
        data = upload.stream.read(main_greeting.MAX_BYTES + 1)
        main_greeting.upload_greeting(db, current_actor(), number_id, data)
    if sent.refused:
        return _page(number_id, greeting_form=form, banner=sent.banner, status=400)
    return _done(number_id, "Greeting uploaded: played from the next call")
