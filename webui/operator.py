"""The operator console (R31): allocate and activate numbers, main numbers, handsets, voice services."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import Blueprint, flash, redirect, render_template, url_for

from pbx.services import call_policy
from pbx.services import operator as ops
from pbx.services.errors import InvalidInput
from pbx.services.features import update_features
from webui.access import OPERATOR, current_actor, roles_required
from webui.console_view import console_data, selected_occupier
from webui.forms import (
    ALLOCATE_FIELDS,
    ActivateForm,
    AllocateForm,
    AuthorizationCodeForm,
    CallPolicyForm,
    MainNumberForm,
    RegisterHandsetForm,
    Submission,
    VoiceServicesForm,
)
from webui.store import unit_of_work

bp = Blueprint("operator", __name__, url_prefix="/operator")


@dataclass
class ConsoleForms:
    """The console's forms as last sent; a refused one shows what was typed and each error by its field."""

    allocate: AllocateForm = field(default_factory=lambda: AllocateForm(formdata=None))
    handset: RegisterHandsetForm = field(default_factory=lambda: RegisterHandsetForm(formdata=None))
    main: MainNumberForm | None = None
    main_number_id: int | None = None


def _selected_occupier() -> int | None:
    return selected_occupier()


@bp.get("")
@roles_required(OPERATOR)
def page():
    return _page(ConsoleForms())


def _page(forms: ConsoleForms, banner: list[str] | None = None, status: int = 200):
    with unit_of_work() as db:
        data = console_data(db, current_actor())
    if forms.allocate.occupier.data is None:
        forms.allocate.occupier.data = data["selected"]
    return render_template(
        "operator.html",
        classes=[(c, call_policy.LABELS[c]) for c in call_policy.CLASSES],
        forms=forms,
        banner_messages=banner or [],
        **data,
    ), status


def _back(done: str):
    flash(done, "success")
    occupier = _selected_occupier()
    return redirect(url_for("operator.page", occupier=occupier) if occupier else url_for("operator.page"), 303)


def _again(forms: ConsoleForms, banner: list[str] | None = None):
    """The console again, with the refused form as it was sent."""
    return _page(forms, banner, 400)


@bp.post("/numbers")
@roles_required(OPERATOR)
def allocate():
    """R4: a new number starts Reserved."""
    form = AllocateForm()
    forms = ConsoleForms(allocate=form)
    if not form.validate():
        return _again(forms)
    with Submission(form, ALLOCATE_FIELDS) as sent, unit_of_work() as db:
        number = ops.allocate_number(
            db,
            current_actor(),
            form.occupier.data,
            form.site.data,
            form.e164.data or "",
            form.extension.data or "",
            (form.default_pin.data or "").strip() or None,
        )
        done = f"{number.e164} is allocated to {number.occupier.name} at {number.site.name} (Reserved)"
    if sent.refused:
        return _again(forms, sent.banner)
    return _back(done)


@bp.post("/numbers/<int:number_id>/activate")
@roles_required(OPERATOR)
def activate(number_id: int):
    form = ActivateForm()
    with Submission(form) as sent, unit_of_work() as db:
        number = ops.activate_number(db, current_actor(), number_id)
        done = f"{number.e164} is activated"
    if sent.refused:
        return _again(ConsoleForms(), sent.banner)
    return _back(done)


@bp.post("/numbers/<int:number_id>/main")
@roles_required(OPERATOR)
def set_main(number_id: int):
    """R5: the main number of its occupier at its site, and what it rings."""
    form = MainNumberForm()
    with Submission(form) as sent, unit_of_work() as db:
        number = ops.set_main_number(db, current_actor(), number_id, (form.destination.data or "").strip() or None)
        done = f"{number.e164} is the main number at {number.site.name}"
    if sent.refused:
        return _again(ConsoleForms(main=form, main_number_id=number_id), sent.banner)
    return _back(done)


@bp.post("/handsets")
@roles_required(OPERATOR)
def register_handset():
    form = RegisterHandsetForm()
    forms = ConsoleForms(handset=form)
    if not form.validate():
        return _again(forms)
    with Submission(form) as sent, unit_of_work() as db:
        handset = ops.register_handset(db, current_actor(), form.site.data, form.phone_id.data or "")
        done = f"Handset {handset.phone_id} is registered at {handset.site.name}"
    if sent.refused:
        return _again(forms, sent.banner)
    return _back(done)


@bp.post("/occupiers/<int:occupier_id>/voice-services")
@roles_required(OPERATOR)
def voice_services(occupier_id: int):
    """R2: switch an occupier's voice services on or off."""
    form = VoiceServicesForm()
    active = form.active.data == "on"
    with Submission(form) as sent, unit_of_work() as db:
        occupier = ops.set_voice_services(db, current_actor(), occupier_id, active)
        done = f"Voice services of {occupier.name} are {'on' if active else 'off'}"
    if sent.refused:
        return _again(ConsoleForms(), sent.banner)
    return _back(done)


@bp.post("/occupiers/<int:occupier_id>/call-policy")
@roles_required(OPERATOR)
def call_policy_(occupier_id: int):
    """R39: the classes of destination the occupier's calls and forwards may reach."""
    form = CallPolicyForm()
    with Submission(form) as sent, unit_of_work() as db:
        occupier = call_policy.set_allowed_classes(db, current_actor(), occupier_id, form.classes.data or [])
        shown = ", ".join(call_policy.LABELS[c] for c in call_policy.allowed_classes(occupier)) or "emergency only"
        done = f"Outbound calls of {occupier.name}: {shown}"
    if sent.refused:
        return _again(ConsoleForms(), sent.banner)
    return _back(done)


@bp.post("/numbers/<int:number_id>/authorization-code")
@roles_required(OPERATOR)
def authorization_code(number_id: int):
    """R22, R40: the operator sets or clears a number's authorization code (the same service as the CLI)."""
    form = AuthorizationCodeForm()
    clear = form.action.data == "clear"
    with Submission(form) as sent, unit_of_work() as db:
        code = "" if clear else (form.code.data or "").strip()
        if not clear and not code:
            raise InvalidInput(
                "authorization_code", "type the code (digits) or use Clear code", label="Authorization code"
            )
        number = update_features(db, current_actor(), number_id, {"authorization_code": code})
        done = f"The authorization code of {number.e164} is {'cleared' if clear else 'set'}"
    if sent.refused:
        return _again(ConsoleForms(), sent.banner)
    return _back(done)
