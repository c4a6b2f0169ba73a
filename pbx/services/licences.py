"""R36: an occupier's voice services: how many it bought (set by the operator), how many it uses.

A number uses a voice service from its activation until it is reserved again: Active and
Pending both count (Pending is an Active number with a change on its way to Asterisk, R4),
and so does a main number (R5), even one made main while still Reserved. Reserved numbers
do not count. Activating a number or making one main claims a free one.

Race-safe: `claim` takes the occupier's lock before it counts: `SELECT ... FOR UPDATE` of the
occupier row on PostgreSQL; on SQLite (which ignores FOR UPDATE, and whose earlier reads hold
no lock) a no-op UPDATE of the row takes the database's write lock. Either way the lock is
held until the unit of work commits, so two activations at the same moment count one after
the other and cannot both take the last voice service.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.orm import Session

from pbx.services import audit
from pbx.services.actor import Actor
from pbx.services.errors import InvalidInput, RuleBroken
from pbx.services.lookup import get_occupier
from pbx.store.models import NumberStatus, Occupier, PhoneNumber

MAX_LICENCES = 1_000_000


@dataclass(frozen=True)
class Usage:
    """What the console and the Telephony page show: used / bought."""

    used: int
    bought: int

    @property
    def free(self) -> int:
        return max(self.bought - self.used, 0)

    @property
    def shown(self) -> str:
        return f"{self.used} / {self.bought}"


def uses_licence() -> ColumnElement[bool]:
    """The numbers that use a voice service, as a WHERE clause on PhoneNumber."""
    return or_(PhoneNumber.status != NumberStatus.RESERVED, PhoneNumber.is_main.is_(True))


def used(session: Session, occupier_id: int, besides: int | None = None) -> int:
    """How many of the occupier's numbers use a voice service (`besides`: leave that number out)."""
    query = select(func.count()).select_from(PhoneNumber).where(PhoneNumber.occupier_id == occupier_id, uses_licence())
    if besides is not None:
        query = query.where(PhoneNumber.id != besides)
    return session.scalar(query) or 0


def usage(session: Session, actor: Actor, occupier_id: int) -> Usage:
    """The operator sees every occupier's; an occupier admin its own (R3)."""
    occupier = get_occupier(session, actor, occupier_id)
    return Usage(used(session, occupier.id), occupier.voice_licences)


def all_usage(session: Session, actor: Actor) -> dict[int, Usage]:
    """Every occupier's usage in two queries (the console's occupier list)."""
    actor.require_operator()
    counts = dict(
        session.execute(
            select(PhoneNumber.occupier_id, func.count()).where(uses_licence()).group_by(PhoneNumber.occupier_id)
        ).all()
    )
    return {o.id: Usage(counts.get(o.id, 0), o.voice_licences) for o in session.scalars(select(Occupier))}


def _lock(session: Session, occupier_id: int) -> None:
    """The occupier's write lock until the unit of work ends (see the module's docstring)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(Occupier.id).where(Occupier.id == occupier_id).with_for_update())
    else:
        session.execute(
            update(Occupier)
            .where(Occupier.id == occupier_id)
            .values(voice_licences=Occupier.voice_licences)
            .execution_options(synchronize_session=False)
        )


def claim(session: Session, number: PhoneNumber) -> None:
    """R36: activating `number` or making it main needs a free voice service of its occupier."""
    _lock(session, number.occupier_id)
    session.refresh(number.occupier, ["voice_licences"])
    bought = number.occupier.voice_licences
    taken = used(session, number.occupier_id, besides=number.id)
    if taken >= bought:
        raise RuleBroken(
            "R36",
            f"{number.occupier.name} has no free voice service: {taken} of {bought} bought are in use."
            " The operator can add voice services in the console",
        )


def set_bought(session: Session, actor: Actor, occupier_id: int, count: int | str) -> Occupier:
    """R36: the operator sets how many voice services the occupier bought; never below those in use."""
    actor.require_operator()
    occupier = get_occupier(session, actor, occupier_id)
    wanted = count_of(count)
    _lock(session, occupier.id)
    in_use = used(session, occupier.id)
    if wanted < in_use:
        raise RuleBroken(
            "R36", f"{occupier.name} uses {in_use} voice services: the number bought cannot be lower than {in_use}"
        )
    before = occupier.voice_licences
    occupier.voice_licences = wanted
    audit.record(session, actor, "occupier.voice_licences", occupier_id=occupier.id, before=before, after=wanted)
    return occupier


def count_of(value: int | str) -> int:
    """A number of voice services as typed: a whole number, 0 to MAX_LICENCES."""
    text = str(value).strip()
    if not text.isdigit() or int(text) > MAX_LICENCES:
        raise InvalidInput("voice_licences", f"give a whole number from 0 to {MAX_LICENCES:,}", "Voice services")
    return int(text)
