"""R35: how the operator sets a main number's call handling: a hunt group, where calls go
out of hours (or when no member answers), and (pbx.services.main_greeting) a greeting.

The hunt group is the occupier's own extensions at the main number's site, in order,
each with a ring time; "ring_all" rings every member at once for the longest of them.
A member that is busy, on Do Not Disturb or not logged in is skipped at call time by the
dialplan ([pbx-main]). The out-of-hours destination is the main number's mailbox or a
forward, checked against the occupier's outbound call policy (R39) here and again by
[pbx-outbound] at call time.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from pbx import validation
from pbx.services import audit, call_policy, outbox
from pbx.services.actor import Actor
from pbx.services.business_hours import Hours, hours_of
from pbx.services.errors import InvalidInput, NotFound, RuleBroken
from pbx.services.live import is_live
from pbx.services.lookup import get_number, get_occupier, get_site
from pbx.store.models import MainNumberHandling, PhoneNumber

RING_ALL, IN_ORDER = "ring_all", "in_order"
STRATEGIES = (RING_ALL, IN_ORDER)
MIN_RING_S, MAX_RING_S, DEFAULT_RING_S = 5, 60, 20
MAX_MEMBERS = 20  # the dialplan walks the list in a bounded loop
VOICEMAIL = "voicemail"


@dataclass(frozen=True)
class Member:
    number_id: int
    extension: str
    ring_s: int


@dataclass(frozen=True)
class Handling:
    """What the operator sees and sets for one main number."""

    number_id: int
    e164: str
    strategy: str
    members: tuple[Member, ...]
    out_of_hours: str
    greeting: str
    hours: Hours | None


def main_number_of(session: Session, actor: Actor, occupier_id: int, site_id: int) -> PhoneNumber:
    """The occupier's main number at the site (R5), for the operator only."""
    actor.require_operator()
    occupier = get_occupier(session, actor, occupier_id)
    site = get_site(session, site_id)
    number = session.scalar(
        select(PhoneNumber).where(
            PhoneNumber.occupier_id == occupier.id, PhoneNumber.site_id == site.id, PhoneNumber.is_main
        )
    )
    if number is None:
        raise NotFound(f"{occupier.name} has no main number at {site.name}")
    return number


def the_main_number(session: Session, actor: Actor, number_id: int) -> PhoneNumber:
    actor.require_operator()
    number = get_number(session, actor, number_id)
    if not number.is_main:
        raise RuleBroken("R35", f"{number.e164} is not a main number: only a main number has a hunt group")
    return number


def handling_row(number: PhoneNumber) -> MainNumberHandling:
    if number.handling is None:
        number.handling = MainNumberHandling(
            number_id=number.id, strategy=RING_ALL, members="[]", out_of_hours=VOICEMAIL, greeting=""
        )
    return number.handling


def describe(session: Session, actor: Actor, number_id: int) -> Handling:
    number = the_main_number(session, actor, number_id)
    row = number.handling
    members = []
    for member_id, ring_s in json.loads(row.members) if row else []:
        member = session.get(PhoneNumber, member_id)
        members.append(Member(member_id, member.extension if member else "?", ring_s))
    return Handling(
        number_id=number.id,
        e164=number.e164,
        strategy=row.strategy if row else RING_ALL,
        members=tuple(members),
        out_of_hours=row.out_of_hours if row else VOICEMAIL,
        greeting=row.greeting if row else "",
        hours=hours_of(number.site.hours),
    )


def check_ring_time(value: object, field: str) -> int:
    try:
        seconds = int(str(value))
    except ValueError as error:
        raise InvalidInput(field, f"{value!r} is not a number of seconds") from error
    if not MIN_RING_S <= seconds <= MAX_RING_S:
        raise InvalidInput(field, f"a ring time is {MIN_RING_S} to {MAX_RING_S} seconds")
    return seconds


def _member(session: Session, main: PhoneNumber, extension: str, ring_s: object) -> Member:
    """R35: an extension of the main number's own occupier at its site, live, not the main number."""
    field = f"member_{extension}"
    ext = validation.extension(extension, field)
    number = session.scalar(
        select(PhoneNumber).where(PhoneNumber.occupier_id == main.occupier_id, PhoneNumber.extension == ext)
    )
    if number is None or number.site_id != main.site_id:
        raise InvalidInput(field, f"{ext} is not an extension of {main.occupier.name} at {main.site.name}")
    if number.is_main or not is_live(number):
        raise InvalidInput(field, f"{ext} cannot be a member: it is the main number or not in service")
    return Member(number.id, ext, check_ring_time(ring_s, field))


def set_hunt(
    session: Session, actor: Actor, number_id: int, strategy: str, members: Sequence[tuple[str, object]]
) -> Handling:
    """R35: the main number's hunt group: ring_all or in_order, members (extension, ring seconds) in order."""
    main = the_main_number(session, actor, number_id)
    if strategy not in STRATEGIES:
        raise InvalidInput("strategy", f"use {' or '.join(STRATEGIES)}")
    if len(members) > MAX_MEMBERS:
        raise InvalidInput("members", f"at most {MAX_MEMBERS} members")
    checks = validation.FieldChecks()
    chosen = [m for m in (checks.run(_member, session, main, ext, ring) for ext, ring in members) if m]
    checks.done()
    if len({m.number_id for m in chosen}) != len(chosen):
        raise InvalidInput("members", "an extension is listed twice")
    row = handling_row(main)
    row.strategy = strategy
    row.members = json.dumps([[m.number_id, m.ring_s] for m in chosen])
    outbox.number_changed(session, main)
    audit.record(session, actor, "main.hunt", number=main, strategy=strategy, members=[m.extension for m in chosen])
    return describe(session, actor, number_id)


def set_out_of_hours(session: Session, actor: Actor, number_id: int, destination: str) -> Handling:
    """R35, R39: out of hours (and when no member answers): the main number's mailbox or a forward."""
    main = the_main_number(session, actor, number_id)
    raw = (destination or "").strip()
    if raw.lower() == VOICEMAIL:
        target = VOICEMAIL
    else:
        target = validation.dial_target(raw, "out_of_hours")
        if target in (main.extension, main.e164):
            raise InvalidInput("out_of_hours", "the main number cannot forward to itself")
        call_policy.check_destination(session, main, target, "out-of-hours destination")  # R39
    row = handling_row(main)
    row.out_of_hours = target
    outbox.number_changed(session, main)
    audit.record(session, actor, "main.out_of_hours", number=main, destination=target)
    return describe(session, actor, number_id)


def clear_handling(session: Session, actor: Actor, number_id: int) -> None:
    """R35: back to the plain main number (it rings its destination, R5): no hunt, no greeting."""
    main = the_main_number(session, actor, number_id)
    if main.handling is not None:
        main.handling = None
        outbox.number_changed(session, main)
        audit.record(session, actor, "main.handling_cleared", number=main)
