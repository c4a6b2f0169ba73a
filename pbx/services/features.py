"""R20-R27: a number's features, changed by admins, by the number's user and by feature codes.

Every change is checked as a whole against the rules, then written with its audit
row and outbox row in one transaction; a refused change writes nothing.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pbx import validation
from pbx.services import audit, outbox
from pbx.services.actor import Actor
from pbx.services.errors import Forbidden, InvalidInput, RuleBroken
from pbx.services.feature_input import FEATURE_KEYS, TARGET_KEYS, parse_changes
from pbx.services.lookup import get_number
from pbx.services.guards import Who, number_to_act_on
from pbx.services.passwords import hash_secret
from pbx.store.models import NumberStatus, PhoneNumber

NO_ANSWER_MIN_S, NO_ANSWER_MAX_S = 5, 120


def show_features(session: Session, actor: Actor, number_id: int) -> dict[str, Any]:
    """The features as the CLI and the JSON API print them; the authorization code is never shown."""
    number = get_number(session, actor, number_id)
    return features_dict(number)


def features_dict(number: PhoneNumber) -> dict[str, Any]:
    f = number.features
    return {
        "number": number.e164, "extension": number.extension, "default_pin": number.default_pin,
        "status": number.status.value,
        "forward_always": f.forward_always or "", "forward_busy": f.forward_busy or "",
        "forward_no_answer": f.forward_no_answer or "", "no_answer_seconds": f.no_answer_seconds,
        "voicemail": f.voicemail, "voicemail_email": f.voicemail_email or "",
        "hide_caller_id": f.hide_caller_id, "call_waiting": f.call_waiting, "dnd": f.dnd,
        "cli": f.cli_number.e164 if f.cli_number else "",
        "authorization_code": f.authorization_code_hash is not None,
    }


def _check_rights(actor: Actor, changes: dict[str, Any]) -> None:
    """R22: the authorization code is the operator's."""
    if "authorization_code" in changes and not actor.is_operator:
        raise Forbidden("Only the operator can set the authorization code")


def update_features(session: Session, actor: Actor, number_id: int, raw: dict[str, Any]) -> PhoneNumber:
    changes = parse_changes(raw)
    number = number_to_act_on(session, actor, number_id, Who.HOLDER)
    _check_rights(actor, changes)
    f = number.features
    new = {key: getattr(f, key) for key in (*TARGET_KEYS, "no_answer_seconds", "voicemail", "voicemail_email",
                                            "hide_caller_id", "call_waiting", "dnd")}
    new["cli_number_id"] = f.cli_number_id
    new["authorization_code_hash"] = f.authorization_code_hash
    for key in TARGET_KEYS:
        if key in changes:
            new[key] = _forward_target(session, number, key, changes[key])
    for key in ("voicemail", "hide_caller_id", "call_waiting", "dnd"):
        if key in changes:
            new[key] = changes[key]
    if "no_answer_seconds" in changes:
        new["no_answer_seconds"] = _ring_seconds(changes["no_answer_seconds"])
    if "voicemail_email" in changes:
        new["voicemail_email"] = validation.email(changes["voicemail_email"], "voicemail_email") \
            if changes["voicemail_email"] else None
    if "cli" in changes:
        new["cli_number_id"] = _cli_number(session, number, changes["cli"])
    if "authorization_code" in changes:
        code = changes["authorization_code"]
        new["authorization_code_hash"] = hash_secret(validation.pin_digits(code, "authorization_code")) \
            if code else None
    check_combination(new)
    _refuse_forward_loop(session, number, new["forward_always"])
    for key, value in new.items():
        setattr(f, key, value)
    outbox.number_changed(session, number)
    audit.record(session, actor, "number.features", number=number,
                  changed=sorted(changes), **{k: v for k, v in changes.items() if k != "authorization_code"})
    return number


def check_combination(new: dict[str, Any]) -> None:
    """The rules that tie features together, checked on the state the change would leave."""
    if new["forward_busy"] and new["call_waiting"]:
        raise RuleBroken("R21", "Forward on busy and call waiting exclude each other: when the line is busy, "
                                "calls either wait or are forwarded. Turn one of them off.")
    if new["authorization_code_hash"] and any(new[key] for key in TARGET_KEYS):
        raise RuleBroken("R22", "Call forwarding is disabled for a number with an authorization code")


def _ring_seconds(value: int) -> int:
    if not NO_ANSWER_MIN_S <= value <= NO_ANSWER_MAX_S:
        raise InvalidInput("no_answer_seconds", f"use {NO_ANSWER_MIN_S} to {NO_ANSWER_MAX_S} seconds")
    return value


def _forward_target(session: Session, number: PhoneNumber, key: str, value: str | None) -> str | None:
    """R20: an E.164 number, or an extension of the same occupier; never the number itself."""
    if value is None:
        return None
    target = validation.dial_target(value, key)
    if target in (number.e164, number.extension):
        raise InvalidInput(key, "a number cannot forward to itself")
    if not target.startswith("+"):
        internal = _occupier_number(session, number.occupier_id, extension=target)
        if internal is None:
            raise InvalidInput(key, f"{number.occupier.name} has no active extension {target}")
    return target


def _occupier_number(session: Session, occupier_id: int, *, extension: str | None = None,
                     e164: str | None = None) -> PhoneNumber | None:
    query = select(PhoneNumber).where(PhoneNumber.occupier_id == occupier_id,
                                      PhoneNumber.status != NumberStatus.RESERVED)
    query = query.where(PhoneNumber.extension == extension) if extension else query.where(PhoneNumber.e164 == e164)
    return session.scalar(query)


def _cli_number(session: Session, number: PhoneNumber, value: str | None) -> int | None:
    """R27: an active number of the same occupier at the same site (the main number included)."""
    if value is None:
        return None
    e164 = validation.e164(value, "cli")
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
        target = nxt.features.forward_always if nxt.features else None


__all__ = ["FEATURE_KEYS", "features_dict", "show_features", "update_features", "check_combination"]
