"""The Phone number features form (R20-R28), shared by Telephony, user management and My profile.

Made from pbx.feature_table: a checkbox per feature and, for a value that is off when
empty (a forward target, an e-mail address, the CLI), the value's own input enabled by
its checkbox. The services check everything; every field they refuse shows its message
next to it, all at once, with what the person typed kept.
"""

from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, render_template, request
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField

from pbx.feature_table import BY_KEY, EXCLUSIONS, FEATURES, Feature, Group, Kind, excluded_with
from pbx.services import directory
from pbx.services.errors import FieldErrors, InvalidInput, PbxError
from pbx.services.features import features_dict, update_features
from pbx.services.guards import why_read_only
from pbx.services.lookup import get_number
from webui.access import current_actor
from webui.present import STATUS_LABELS, national
from webui.store import unit_of_work

CLI_LISTED = 20  # the CLI field suggests this many; typing asks the server for the rest (features.js)
SAVED = "Features saved. The number shows Pending until the change is applied."
FORM_FEATURES = tuple(f for f in FEATURES if f.in_form)


def toggle_name(f: Feature) -> str:
    """The checkbox that turns the feature on: the flag itself, or the one in front of its value."""
    return f"{f.key}_on" if f.toggled else f.key


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class FeaturesForm(FlaskForm):
    """One field per feature of the page (and one per value's checkbox), added from the table below."""


for _f in FORM_FEATURES:
    if _f.kind is Kind.FLAG or _f.toggled:
        setattr(FeaturesForm, toggle_name(_f), BooleanField(_f.label, description=_f.help))
    if _f.kind is not Kind.FLAG:
        setattr(FeaturesForm, _f.key, StringField(_f.field_label or _f.label, filters=[_strip]))


def form_data(features: dict[str, Any]) -> dict[str, Any]:
    """The form's values for what is stored."""
    data: dict[str, Any] = {}
    for f in FORM_FEATURES:
        value = features[f.key]
        if f.toggled:
            data[toggle_name(f)] = bool(value)
        data[f.key] = value if f.kind is Kind.FLAG else str(value)
    return data


def changes_from(form: FeaturesForm) -> dict[str, Any]:
    """The service's feature keys: a value whose checkbox is off is cleared; a number of seconds the
    browser did not send (its section disabled) is left as it is."""
    changes: dict[str, Any] = {}
    for f in FORM_FEATURES:
        if f.toggled:
            changes[f.key] = form[f.key].data if form[toggle_name(f)].data else ""
        elif f.kind is Kind.FLAG or f.key in request.form:
            changes[f.key] = form[f.key].data
    return changes


def _place(form: FeaturesForm, refusal: PbxError) -> bool:
    """Puts each refused field's message next to it; False when the refusal is not about fields."""
    if isinstance(refusal, FieldErrors):
        errors = refusal.errors
    elif isinstance(refusal, InvalidInput):
        errors = {refusal.field: refusal.message}
    else:
        return False
    placed = False
    for key, message in errors.items():
        if key in form and key in BY_KEY:
            form[key].errors = [message]
            placed = True
    return placed


def locked_sections(features: dict[str, Any]) -> dict[Group, str]:
    """R22: a feature set by the operator that excludes others disables their section, with a note."""
    locks: dict[Group, str] = {}
    for exclusion in EXCLUSIONS:
        first = BY_KEY[exclusion.first]
        if not first.in_form and features[first.key]:
            for other in exclusion.others:
                group = BY_KEY[other].group
                locks[group] = f"{group.value} is disabled: this number has an {first.label} (set by your operator)."
    return locks


def excluded_by(f: Feature) -> list[str]:
    """R21: the page's features that cannot be on together with this one (features.js disables them)."""
    return [toggle_name(BY_KEY[k]) for k in excluded_with(f.key) if BY_KEY[k].in_form]


def parts(f: Feature) -> list[Feature]:
    """What is shown inside this feature's row (the seconds before forwarding on no answer)."""
    return [p for p in FORM_FEATURES if p.part_of == f.key]


def sections() -> list[tuple[Group, list[Feature]]]:
    """The page's sections in the table's order; a feature shown inside another's row is not listed."""
    return [(group, [f for f in FORM_FEATURES if f.group is group and not f.part_of]) for group in Group]


def cli_choice(number) -> dict[str, Any]:
    """R27: one suggestion of the CLI field: the E.164 number and what it is."""
    what = "Main number" if number.is_main else f"ext. {number.extension}"
    return {"number": number.e164, "label": f"{national(number.e164)} · {what}"}


def _why_read_only(number) -> str | None:
    """R2, R5, R6, as the services word them."""
    refusal = why_read_only(number)
    return refusal.message if refusal is not None else None


def handle(number_id: int, back_url: str, back_label: str):
    """GET shows the form; POST saves it with one button (R28), or shows why not."""
    if request.method == "POST":
        form = FeaturesForm()
        g.on_refusal = lambda refusal: _render(number_id, back_url, back_label, form, refusal, 400)
        with unit_of_work() as db:
            update_features(db, current_actor(), number_id, changes_from(form))
        flash(SAVED, "success")
        return redirect(back_url)
    return _render(number_id, back_url, back_label)


def _render(
    number_id: int,
    back_url: str,
    back_label: str,
    form: FeaturesForm | None = None,
    refusal: PbxError | None = None,
    status: int = 200,
):
    actor = current_actor()
    with unit_of_work() as db:
        number = get_number(db, actor, number_id)
        features = features_dict(number)
        cli_numbers = [cli_choice(n) for n in directory.cli_choices(db, actor, number_id, limit=CLI_LISTED)]
        page = {
            "number": {
                "id": number.id,
                "e164": number.e164,
                "extension": number.extension,
                "default_pin": number.default_pin,
                "status": number.status.value,
                "status_label": STATUS_LABELS[number.status.value],
                "site": number.site.name,
                "last_error": number.last_error,
            },
            "read_only": _why_read_only(number),
            "locked": locked_sections(features),
            "cli_numbers": cli_numbers,
        }
    form = form or FeaturesForm(formdata=None, data=form_data(features))
    fields_refused = refusal is not None and _place(form, refusal)
    return render_template(
        "features.html",
        form=form,
        refusal=refusal,
        fields_refused=fields_refused,
        sections=sections(),
        parts=parts,
        by_key=BY_KEY,
        Kind=Kind,
        toggle_name=toggle_name,
        excluded_by=excluded_by,
        back_url=back_url,
        back_label=back_label,
        **page,
    ), status
