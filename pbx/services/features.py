"""R20-R27: a number's features, changed by admins, by the number's user and by feature codes.

Every change is checked as a whole against the rules, then written with its audit
row and outbox row in one transaction; a refused change writes nothing.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pbx import validation
from pbx.feature_table import BY_KEY, EXCLUSIONS, FEATURES, FORWARD_ALWAYS, Feature, Group, Kind
from pbx.services import audit, call_policy, outbox
from pbx.services.actor import Actor
from pbx.services.errors import FieldErrors, Forbidden, InvalidInput, RuleBroken
from pbx.services.feature_input import FEATURE_KEYS, parse_each, refused, shown_values
from pbx.services.guards import Who, number_to_act_on
from pbx.services.lookup import get_number
from pbx.services.passwords import hash_secret
from pbx.store.models import NumberStatus, PhoneNumber


def show_features(session: Session, actor: Actor, number_id: int) -> dict[str, Any]:
    """The features as the CLI and the JSON API print them; the authorization code is never shown."""
    number = get_number(session, actor, number_id)
    return features_dict(number)


def features_dict(number: PhoneNumber) -> dict[str, Any]:
    return {
        "number": number.e164,
        "extension": number.extension,
        "default_pin": number.default_pin,
        "status": number.status.value,
        **shown_values(number.features),
    }


def feature_sections(number: PhoneNumber) -> list[dict[str, Any]]:
    """R11: the details pop-up's sections, as on the features page: each feature's label, kind and value."""
    values = shown_values(number.features)
    return [
        {
            "title": group.value,
            "features": [
                {"key": f.key, "label": f.label, "kind": f.kind.value, "value": values[f.key], "part_of": f.part_of}
                for f in FEATURES
                if f.group is group
            ],
        }
        for group in Group
    ]


def _check_rights(actor: Actor, changes: dict[str, Any]) -> None:
    """R22: the authorization code is the operator's."""
    for key in changes:
        if BY_KEY[key].operator_only and not actor.is_operator:
            raise Forbidden(f"Only the operator can set the {BY_KEY[key].label.lower()}")


def update_features(session: Session, actor: Actor, number_id: int, raw: dict[str, Any]) -> PhoneNumber:
    """Every value is checked and every refused one reported at once (FieldErrors); then the rules
    that tie features together; a refused change writes nothing."""
    changes, errors = parse_each(raw)
    number = number_to_act_on(session, actor, number_id, Who.HOLDER)
    _check_rights(actor, changes)
    row = number.features
    new = {f.key: getattr(row, f.column) for f in FEATURES}
    broken: RuleBroken | None = None
    for key, value in changes.items():
        f = BY_KEY[key]
        try:
            new[key] = _to_store(session, number, f, value)
        except InvalidInput as error:
            errors.append(refused(f, error.reason))
        except RuleBroken as error:
            broken = broken or error
    if errors:
        errors.sort(key=lambda e: FEATURE_KEYS.index(e.field) if e.field in BY_KEY else len(FEATURE_KEYS))
        raise FieldErrors.of(errors)  # in the page's order
    if broken is not None:
        raise broken
    check_combination(new)
    _refuse_forward_loop(session, number, new[FORWARD_ALWAYS.key])
    for f in FEATURES:
        setattr(row, f.column, new[f.key])
    outbox.number_changed(session, number)
    secret = {f.key for f in FEATURES if f.kind is Kind.SECRET}
    audit.record(
        session,
        actor,
        "number.features",
        number=number,
        changed=sorted(changes),
        **{k: v for k, v in changes.items() if k not in secret},
    )
    return number


def _to_store(session: Session, number: PhoneNumber, f: Feature, value: Any) -> Any:
    """One parsed value as its column holds it; None is off."""
    if f.kind is Kind.FLAG:
        return value
    if f.kind is Kind.SECONDS:
        if not f.minimum <= value <= f.maximum:
            raise InvalidInput(f.key, f"use {f.minimum} to {f.maximum} seconds")
        return value
    if value is None:
        return None
    if f.kind is Kind.TARGET:
        return _forward_target(session, number, f.key, value)
    if f.kind is Kind.EMAIL:
        return validation.email(value, f.key)
    if f.kind is Kind.NUMBER:
        return _number_at_site(session, number, f.key, value)
    return hash_secret(validation.pin_digits(value, f.key))


def _is_on(key: str, new: dict[str, Any]) -> bool:
    return bool(new[key]) if BY_KEY[key].kind is Kind.FLAG else new[key] is not None


def check_combination(new: dict[str, Any]) -> None:
    """R21, R22: features that exclude each other (pbx.feature_table.EXCLUSIONS), checked on the state
    the change would leave (stored values by feature key)."""
    for exclusion in EXCLUSIONS:
        if _is_on(exclusion.first, new) and any(_is_on(other, new) for other in exclusion.others):
            raise RuleBroken(exclusion.rule, exclusion.message)


def _forward_target(session: Session, number: PhoneNumber, key: str, value: str) -> str:
    """R20: an E.164 number, or an extension of the same occupier; never the number itself. R39: one its
    occupier's call policy allows."""
    target = validation.dial_target(value, key)
    if target in (number.e164, number.extension):
        raise InvalidInput(key, "a number cannot forward to itself")
    if not target.startswith("+"):
        internal = _occupier_number(session, number.occupier_id, extension=target)
        if internal is None:
            raise InvalidInput(key, f"{number.occupier.name} has no active extension {target}")
    call_policy.check_destination(session, number, target, BY_KEY[key].title.lower())
    return target


def _occupier_number(
    session: Session, occupier_id: int, *, extension: str | None = None, e164: str | None = None
) -> PhoneNumber | None:
    query = select(PhoneNumber).where(
        PhoneNumber.occupier_id == occupier_id, PhoneNumber.status != NumberStatus.RESERVED
    )
    query = query.where(PhoneNumber.extension == extension) if extension else query.where(PhoneNumber.e164 == e164)
    return session.scalar(query)


def _number_at_site(session: Session, number: PhoneNumber, key: str, value: str) -> int | None:
    """R27: an active number of the same occupier at the same site (the main number included)."""
    e164 = validation.e164(value, key)
    cli = _occupier_number(session, number.occupier_id, e164=e164)
    if cli is None or cli.site_id != number.site_id:
        raise RuleBroken("R27", f"{e164} is not an active number of {number.occupier.name} at {number.site.name}")
    return None if cli.id == number.id else cli.id


def _refuse_forward_loop(session: Session, number: PhoneNumber, target: str | None) -> None:
    """A chain of 'always' forwards that comes back to this number would ring nobody."""
    seen = {number.id}
    while target:
        if target.startswith("+"):
            nxt = session.scalar(select(PhoneNumber).where(PhoneNumber.e164 == target))
        else:
            nxt = _occupier_number(session, number.occupier_id, extension=target)
        if nxt is None:
            return  # leaves the system: no loop through us
        if nxt.id in seen:
            raise RuleBroken("R20", f"Forwarding to {target} would make a loop back to {number.extension}")
        seen.add(nxt.id)
        target = getattr(nxt.features, FORWARD_ALWAYS.column) if nxt.features else None


__all__ = ["FEATURE_KEYS", "check_combination", "feature_sections", "features_dict", "show_features", "update_features"]
