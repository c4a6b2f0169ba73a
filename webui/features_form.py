"""The Phone number features form (R20-R28), shared by Telephony, user management and My profile.

The form speaks in toggles and fields ("Forward always" ticked, target typed);
the service speaks in feature keys (forward_always="+44..." or None). This module
translates both ways, and keeps what the person typed when the service refuses.
"""
from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, render_template, request
from werkzeug.datastructures import MultiDict

from pbx.services import directory
from pbx.services.errors import PbxError
from pbx.services.features import features_dict, update_features
from pbx.services.feature_input import FLAG_KEYS, TARGET_KEYS
from pbx.services.lookup import get_number
from pbx.services.guards import why_read_only
from webui.access import current_actor
from webui.present import STATUS_LABELS
from webui.store import unit_of_work

# The form's toggles for fields that are off when empty in the service's terms.
OPTIONAL_FIELDS = (*TARGET_KEYS, "voicemail_email", "cli")
SAVED = "Features saved. The number shows Pending until the change is applied."


def values_from_features(features: dict[str, Any]) -> dict[str, Any]:
    """The form's values for what is stored."""
    values = {key: features[key] for key in (*OPTIONAL_FIELDS, *FLAG_KEYS)}
    values.update({f"{key}_on": bool(features[key]) for key in OPTIONAL_FIELDS})
    values["no_answer_seconds"] = str(features["no_answer_seconds"])
    return values


def values_from_form(form: MultiDict) -> dict[str, Any]:
    """The form's values as typed, to show them again if the change is refused."""
    values: dict[str, Any] = {key: form.get(key, "").strip() for key in OPTIONAL_FIELDS}
    values.update({f"{key}_on": key + "_on" in form for key in OPTIONAL_FIELDS})
    values.update({key: key in form for key in FLAG_KEYS})
    values["no_answer_seconds"] = form.get("no_answer_seconds", "").strip()
    return values


def changes_from_values(values: dict[str, Any]) -> dict[str, Any]:
    """The service's feature keys: a field whose toggle is off is cleared."""
    changes: dict[str, Any] = {key: values[key] if values[f"{key}_on"] else "" for key in OPTIONAL_FIELDS}
    changes.update({key: values[key] for key in FLAG_KEYS})
    changes["no_answer_seconds"] = values["no_answer_seconds"]
    return changes


def _why_read_only(number) -> str | None:
    """R2, R5, R6, as the services word them."""
    refusal = why_read_only(number)
    return refusal.message if refusal is not None else None


def handle(number_id: int, back_url: str, back_label: str):
    """GET shows the form; POST saves it with one button (R28), or shows why not."""
    if request.method == "POST":
        values = values_from_form(request.form)
        g.on_refusal = lambda refusal: _render(number_id, back_url, back_label, values, refusal, 400)
        with unit_of_work() as db:
            update_features(db, current_actor(), number_id, changes_from_values(values))
        flash(SAVED, "success")
        return redirect(back_url)
    return _render(number_id, back_url, back_label)


def _render(number_id: int, back_url: str, back_label: str, values: dict[str, Any] | None = None,
            refusal: PbxError | None = None, status: int = 200):
    actor = current_actor()
    with unit_of_work() as db:
        number = get_number(db, actor, number_id)
        features = features_dict(number)
        cli_numbers = [{"number": n.e164, "extension": n.extension, "main": n.is_main}
                       for n in directory.cli_choices(db, actor, number_id)]
        page = {
            "number": {"id": number.id, "e164": number.e164, "extension": number.extension,
                       "default_pin": number.default_pin, "status": number.status.value,
                       "status_label": STATUS_LABELS[number.status.value], "site": number.site.name,
                       "last_error": number.last_error},
            "read_only": _why_read_only(number),
            "authorization_code": features["authorization_code"],
            "cli_numbers": cli_numbers,
        }
    return render_template("features.html", values=values or values_from_features(features),
                           refusal=refusal, back_url=back_url, back_label=back_label, **page), status
