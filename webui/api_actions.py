"""The row actions (R12-R15) and feature changes (R20-R28) as JSON writes.

CSRF applies here as on forms: the page's script sends the token in the
X-CSRFToken header. Each answer carries the number's new row, Pending until the
controller has applied the change.
"""

from __future__ import annotations

from flask import jsonify

from pbx.services import assignment, code_lock, handsets, pins
from pbx.services.features import features_dict, update_features
from webui import api_models as m
from webui.access import ADMIN, OPERATOR, USER, current_actor
from webui.api_registry import operation
from webui.present import number_row
from webui.schemas import Assignment, DisplayName, FeatureChanges, HandsetLogin, json_body
from webui.store import unit_of_work


def _answer(number, message: str):
    return jsonify(number=number_row(number), message=message)


@operation("PUT", "/numbers/<int:number_id>/user", roles=(ADMIN,), tag="Telephony", response=m.Changed, body=Assignment)
def assign(number_id: int):
    """R12."""
    body = json_body(Assignment)
    with unit_of_work() as db:
        number = assignment.assign_user(db, current_actor(), number_id, body.user_id)
        who = number.user.full_name if number.user is not None else "nobody"
        return _answer(number, f"{number.e164} is assigned to {who}")


@operation("DELETE", "/numbers/<int:number_id>/user", roles=(ADMIN,), tag="Telephony", response=m.Changed)
def unassign(number_id: int):
    """R12: unassign the number (the same action again)."""
    with unit_of_work() as db:
        number = assignment.assign_user(db, current_actor(), number_id, None)
        return _answer(number, f"{number.e164} is no longer assigned")


@operation(
    "PUT",
    "/numbers/<int:number_id>/display-name",
    roles=(ADMIN,),
    tag="Telephony",
    response=m.Changed,
    body=DisplayName,
)
def display_name(number_id: int):
    """R13."""
    body = json_body(DisplayName)
    with unit_of_work() as db:
        number = assignment.set_display_name(db, current_actor(), number_id, body.first, body.second)
        label = number.display_name
        return _answer(number, f"The display name is now {label}" if label else "The display name is cleared")


@operation("POST", "/numbers/<int:number_id>/pin-reset", roles=(ADMIN, OPERATOR), tag="Telephony", response=m.Changed)
def reset_pin(number_id: int):
    """R14."""
    with unit_of_work() as db:
        number = pins.reset_pin(db, current_actor(), number_id)
        return _answer(
            number, f"The PIN of {number.e164} is reset to its default PIN {number.default_pin} and unlocked"
        )


@operation(
    "POST",
    "/numbers/<int:number_id>/authorization-code-reset",
    roles=(ADMIN, OPERATOR),
    tag="Telephony",
    response=m.Changed,
)
def unlock_code(number_id: int):
    """R40: a code locked by three wrong attempts opens again; the code is unchanged."""
    with unit_of_work() as db:
        number = code_lock.unlock_code(db, current_actor(), number_id)
        return _answer(number, f"The authorization code of {number.e164} is unlocked")


@operation(
    "PUT", "/numbers/<int:number_id>/handset", roles=(ADMIN,), tag="Telephony", response=m.Changed, body=HandsetLogin
)
def log_in(number_id: int):
    """R15: one number per handset; a taken handset is refused with the reason."""
    body = json_body(HandsetLogin)
    with unit_of_work() as db:
        number = handsets.log_in_handset(db, current_actor(), number_id, body.phone_id)
        return _answer(number, f"{number.e164} is logging in to {body.phone_id}")


@operation("DELETE", "/numbers/<int:number_id>/handset", roles=(ADMIN,), tag="Telephony", response=m.Changed)
def log_out(number_id: int):
    """R15: the number leaves its handset."""
    with unit_of_work() as db:
        number = handsets.log_out_handset(db, current_actor(), number_id)
        return _answer(number, f"{number.e164} is logging out of its handset")


@operation(
    "PATCH",
    "/numbers/<int:number_id>/features",
    roles=(ADMIN, USER, OPERATOR),
    tag="Features",
    response=m.FeaturesChanged,
    body=FeatureChanges,
)
def change_features(number_id: int):
    """R20-R28: only the keys sent change; a refused combination saves nothing.

    The operator sets the authorization code here too (R22: `authorization_code`, digits;
    null clears it); admins and users are refused it."""
    with unit_of_work() as db:
        number = update_features(db, current_actor(), number_id, json_body(FeatureChanges).root)
        return jsonify(number=number_row(number), features=features_dict(number), message="Features saved")
