"""R39: outbound call policy per occupier: which classes of destination its calls and forwards may reach.

A destination's class comes from the number itself (phonenumbers metadata), seen from the
site the call leaves: national, mobile, international, premium/special-rate, satellite.
The operator allows classes per occupier (default national + mobile). The same rule is
checked at save time here (forwards, main-number destinations, feature codes) and at call
time by the dialplan ([pbx-outbound] with the rendered [pbx-class], pbx/asterisk/call_classes.py).
Emergency numbers are never refused.
"""

from __future__ import annotations

from collections.abc import Iterable

import phonenumbers
from phonenumbers import PhoneNumberType
from sqlalchemy import select
from sqlalchemy.orm import Session

from pbx.services import audit, outbox
from pbx.services.actor import Actor
from pbx.services.emergency import local_numbers
from pbx.services.errors import InvalidInput, RuleBroken
from pbx.services.lookup import get_occupier
from pbx.store.models import NumberStatus, Occupier, PhoneNumber
from pbx.validation import EMERGENCY_NUMBERS

NATIONAL, MOBILE, INTERNATIONAL, PREMIUM, SATELLITE = "national", "mobile", "international", "premium", "satellite"
CLASSES = (NATIONAL, MOBILE, INTERNATIONAL, PREMIUM, SATELLITE)
DEFAULT_CLASSES = (NATIONAL, MOBILE)
LABELS = {
    NATIONAL: "national",
    MOBILE: "mobile",
    INTERNATIONAL: "international",
    PREMIUM: "premium/special-rate",
    SATELLITE: "satellite",
}
# The number types each class is made of; every other type (fixed line, toll free, VoIP,
# UAN, fixed-line-or-mobile where the two cannot be told apart) is national.
PREMIUM_TYPES = (
    PhoneNumberType.PREMIUM_RATE,
    PhoneNumberType.SHARED_COST,
    PhoneNumberType.PERSONAL_NUMBER,
    PhoneNumberType.PAGER,
)
# phonenumbers' "region" of the international networks (+800, +808, +870, +878, +881,
# +882, +883, +888, +979): satellite phones and other networks of no country.
NON_GEOGRAPHIC = "001"


def region_of(number: phonenumbers.PhoneNumber) -> str:
    """The region a number belongs to; an unknown number under a shared code counts as the code's main region."""
    return phonenumbers.region_code_for_number(number) or phonenumbers.region_code_for_country_code(
        number.country_code or 0
    )


def classify(e164: str, country: str) -> tuple[str, ...]:
    """R39: the classes a call from a site in `country` to `e164` needs, all of them allowed.

    A number of another country needs "international", and "premium" too when it is one
    there (the classic fraud goes to foreign premium-rate numbers)."""
    number = phonenumbers.parse(e164, None)
    region = region_of(number)
    if region == NON_GEOGRAPHIC:
        return (SATELLITE,)
    kind = phonenumbers.number_type(number)
    if kind in PREMIUM_TYPES:
        own = PREMIUM
    elif kind is PhoneNumberType.MOBILE:
        own = MOBILE
    else:
        own = NATIONAL
    if region != country.upper():
        return (INTERNATIONAL, PREMIUM) if own == PREMIUM else (INTERNATIONAL,)
    return (own,)


def parse_classes(raw: str | Iterable[str]) -> tuple[str, ...]:
    """A list of classes ("national,mobile" or a list), in the canonical order; "" or "none" allows none."""
    words = raw.replace(",", " ").split() if isinstance(raw, str) else [w.strip() for w in raw]
    chosen = {w.lower() for w in words if w and w.lower() != "none"}
    unknown = sorted(chosen - set(CLASSES))
    if unknown:
        raise InvalidInput("classes", f"{', '.join(unknown)} is not a class of call; use {', '.join(CLASSES)}")
    return tuple(c for c in CLASSES if c in chosen)


def allowed_classes(occupier: Occupier) -> tuple[str, ...]:
    return parse_classes(occupier.allowed_classes or "")


def set_allowed_classes(session: Session, actor: Actor, occupier_id: int, classes: str | Iterable[str]) -> Occupier:
    """R39: the operator sets which classes of destination an occupier's calls and forwards reach."""
    actor.require_operator()
    occupier = get_occupier(session, actor, occupier_id)
    chosen = parse_classes(classes)
    occupier.allowed_classes = ",".join(chosen)
    # Every node learns it with each of the occupier's numbers (pbx/asterisk/call_policy_keys.py).
    for number in occupier.numbers:
        if number.status is not NumberStatus.RESERVED:
            outbox.number_changed(session, number)
    audit.record(session, actor, "occupier.call_policy", occupier_id=occupier.id, classes=list(chosen))
    return occupier


def check_destination(session: Session, number: PhoneNumber, target: str, field: str = "destination") -> None:
    """R39: refuse a forward or main-number destination the number's occupier may not call.

    An extension or one of our own numbers never leaves; an emergency number is never refused."""
    if not target.startswith("+") or _is_emergency(target, number):
        return
    if session.scalar(select(PhoneNumber.id).where(PhoneNumber.e164 == target)) is not None:
        return
    allowed = allowed_classes(number.occupier)
    refused = [c for c in classify(target, number.site.country) if c not in allowed]
    if refused:
        kind = " ".join(LABELS[c] for c in refused)
        what = " ".join(LABELS[c] for c in classify(target, number.site.country))
        article = "an" if what[0] in "aeiou" else "a"
        raise RuleBroken(
            "R39",
            f"{kind[0].upper()}{kind[1:]} calls are not allowed for {number.occupier.name}: {target} ({field}) "
            f"is {article} {what} number. The operator can allow them in the console.",
        )


def _is_emergency(target: str, number: PhoneNumber) -> bool:
    """112, 999, 911 and the site's own, however written (R22)."""
    local = set(local_numbers(number.site))
    digits = target.lstrip("+")
    national = str(phonenumbers.parse(target, None).national_number) if target.startswith("+") else digits
    return bool({digits, national} & (EMERGENCY_NUMBERS | local))
