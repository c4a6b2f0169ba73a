"""What the pages and the JSON API show of a number, built from the services' answers.

Nothing here decides a rule: Assigned to (R10) and whether actions exist (R6)
come from pbx.services.numbers.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import phonenumbers
from flask import url_for
from flask_login import current_user

from pbx.services.directory import HandsetChoice, UserChoice
from pbx.services.features import feature_sections, features_dict
from pbx.services.numbers import actions_allowed, assigned_to
from pbx.store.models import PhoneNumber, Role, Site

STATUS_LABELS = {"reserved": "Reserved", "active": "Active", "pending": "Pending"}


@lru_cache(maxsize=4096)
def national(e164: str) -> str:
    """How people at the number's own country read it (`020 7946 0201`); E.164 stays in `title` and on copy."""
    try:
        return phonenumbers.format_number(phonenumbers.parse(e164), phonenumbers.PhoneNumberFormat.NATIONAL)
    except phonenumbers.NumberParseException:
        return e164


def number_row(number: PhoneNumber) -> dict[str, Any]:
    """One row of the Telephony list (R10)."""
    who = assigned_to(number)
    return {
        "id": number.id,
        "number": number.e164,
        "national": national(number.e164),
        "extension": number.extension,
        "default_pin": number.default_pin,
        "main": number.is_main,
        "assigned_to": {
            "kind": who.kind,
            "text": who.text,
            "user_id": who.user_id,
            "url": url_for("users.show", user_id=who.user_id) if who.user_id else None,
        },
        "display_name": {"first": number.label_first, "second": number.label_second},
        "user": {"id": number.user.id, "name": number.user.full_name} if number.user else None,
        "status": number.status.value,
        "status_label": STATUS_LABELS[number.status.value],
        "logged_in": number.handset is not None,
        "phone_id": number.handset.phone_id if number.handset else None,
        "actions": actions_allowed(number),
        "last_error": number.last_error,
        "features_url": features_url(number),
    }


def features_url(number: PhoneNumber) -> str:
    """Users change their own number's features from My profile (R30), admins from Telephony."""
    if current_user.is_authenticated and current_user.role is Role.USER:
        return url_for("profile.features")
    return url_for("telephony.features", number_id=number.id)


def pin_state(number: PhoneNumber) -> str:
    """R17, R18: whether a custom PIN is set or the PIN is locked; never the custom PIN."""
    if number.pin_locked:
        return "Locked after wrong attempts: reset it to unlock"
    if number.custom_pin_hash:
        return "Custom PIN set (private)"
    return "Default PIN (to be replaced at first use)"


def number_details(number: PhoneNumber) -> dict[str, Any]:
    """The read-only pop-up (R11): the whole configuration of a number."""
    features = features_dict(number)
    return {
        **number_row(number),
        "site": number.site.name,
        "occupier": number.occupier.name,
        "pin_state": pin_state(number),
        "main_destination": number.main_destination,
        "features": features,
        "feature_sections": feature_sections(number),  # labels and sections from the feature table
    }


def site_json(site: Site) -> dict[str, Any]:
    return {"id": site.id, "name": site.name, "country": site.country}


def user_choice(choice: UserChoice) -> dict[str, Any]:
    return {
        "id": choice.user.id,
        "name": choice.user.full_name,
        "email": choice.user.email,
        "role": choice.user.role.value,
        "selectable": choice.selectable,
        "number": choice.number.e164 if choice.number else None,
    }


def handset_choice(choice: HandsetChoice) -> dict[str, Any]:
    mine = choice.number
    return {
        "phone_id": choice.handset.phone_id,
        "taken": choice.taken,
        "number": mine.e164 if mine else None,
        "extension": mine.extension if mine else None,
    }
