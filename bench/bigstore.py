"""(c) A store of 10,000 numbers, added through pbx.services like any operator's.

Numbers come from Ofcom's drama ranges (01xx 496 0xxx: 1,000 each), which no real
subscriber holds; all belong to one occupier at one extra site, extensions 10000 up.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from pbx.services import licences
from pbx.services import operator as ops
from pbx.services.actor import Actor
from pbx.store import transaction
from pbx.store.models import Operator, PhoneNumber

DRAMA_RANGES = (
    "+44113496",
    "+44114496",
    "+44115496",
    "+44116496",
    "+44117496",
    "+44118496",
    "+44121496",
    "+44131496",
    "+44141496",
    "+44151496",
)
PER_RANGE = 1000
CHUNK = 500  # numbers per transaction
OCCUPIER, SITE = "Bench Ltd", "Leeds - Bench"


def e164_numbers(count: int) -> list[str]:
    if count > len(DRAMA_RANGES) * PER_RANGE:
        raise ValueError(f"at most {len(DRAMA_RANGES) * PER_RANGE} benchmark numbers")
    return [f"{DRAMA_RANGES[i // PER_RANGE]}{i % PER_RANGE:04d}" for i in range(count)]


def number_count(factory: sessionmaker[Session]) -> int:
    with transaction(factory) as session:
        return session.scalar(select(func.count()).select_from(PhoneNumber))


def add_numbers(factory: sessionmaker[Session], total: int) -> int:
    """Grow the store to `total` numbers (allocated and activated); returns how many were added."""
    missing = total - number_count(factory)
    if missing <= 0:
        return 0
    actor = Actor.system("bench")
    with transaction(factory) as session:
        operator = session.scalars(select(Operator)).first()
        site = ops.create_site(session, actor, operator, SITE, "GB")
        occupier = ops.create_occupier(session, actor, operator, OCCUPIER, [site], True, licences.MAX_LICENCES)
        site_id, occupier_id = site.id, occupier.id
    wanted = e164_numbers(missing)
    for start in range(0, missing, CHUNK):
        with transaction(factory) as session:
            for offset, e164 in enumerate(wanted[start : start + CHUNK], start=start):
                number = ops.allocate_number(session, actor, occupier_id, site_id, e164, str(10000 + offset))
                ops.activate_number(session, actor, number.id)
    return missing
