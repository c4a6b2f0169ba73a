"""R22, R39: a site's own emergency numbers (besides 112, 999 and 911), set by the operator.

They go out like 112: first in the dialplan, from any handset at the site whatever is
logged in to it (or nothing), never behind an authorization code, never hidden, never
refused by the call policy. The dialplan reads them per handset from AstDB
(`pbx/sos/<phone id>` = ",101,105,": pbx.asterisk.live_state), so a change queues every
handset of the site; 112, 999 and 911 stay written into the dialplan as the base that
needs no key at all.
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from pbx import validation
from pbx.services import audit, outbox
from pbx.services.actor import Actor
from pbx.services.errors import Conflict, InvalidInput, NotFound
from pbx.services.lookup import get_site
from pbx.store.models import Handset, OutboxKind, PhoneNumber, Site, occupier_site

SHORT_NUMBER_RE = re.compile(r"[0-9]{3,6}")  # pbx-trunk-out dials 3 digits or more
MAX_LOCAL = 5  # fits the column (40 characters) with room: "101,105,111,116117,999"
FIELD = "emergency_numbers"
LABEL = "Emergency numbers"


def dialplan_value(local: tuple[str, ...]) -> str:
    """The AstDB value the dialplan matches ",<EXTEN>," in: ",101,105," ("" none)."""
    return f",{','.join(local)}," if local else ""


def local_numbers(site: Site) -> tuple[str, ...]:
    """The site's own, as stored ("101,105"); 112/999/911 are not repeated here."""
    return tuple(d for d in site.local_emergency.replace(",", " ").split() if d.isdigit())


def parse(value: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Short digit strings separated by commas or spaces; 112/999/911 are always on, so they are dropped."""
    if isinstance(value, str):
        validation.no_control_characters(value, FIELD)
        parts = value.replace(",", " ").split()
    else:
        parts = [str(p).strip() for p in value]
    wrong = [p for p in parts if not SHORT_NUMBER_RE.fullmatch(p)]
    if wrong:
        raise InvalidInput(FIELD, f"{wrong[0]!r} is not a short emergency number: use 3 to 6 digits", LABEL)
    chosen = tuple(dict.fromkeys(p for p in parts if p not in validation.EMERGENCY_NUMBERS))
    if len(chosen) > MAX_LOCAL:
        raise InvalidInput(FIELD, f"give at most {MAX_LOCAL} besides 112, 999 and 911", LABEL)
    return chosen


def set_local_numbers(session: Session, actor: Actor, site_id: int, value: str | list[str]) -> Site:
    """R22, R39: the site's own emergency numbers; none may be an extension of an occupier based at
    the site (an emergency number is matched first, so that extension could never be called there)."""
    actor.require_operator()
    site = get_site(session, site_id)
    chosen = parse(value)
    if chosen:
        # Any occupier based here can dial its extensions from a handset here, wherever the number is.
        based_here = select(occupier_site.c.occupier_id).where(occupier_site.c.site_id == site.id)
        taken = session.scalars(
            select(PhoneNumber.extension).where(
                PhoneNumber.occupier_id.in_(based_here), PhoneNumber.extension.in_(chosen)
            )
        ).all()
        if taken:
            raise Conflict(
                f"{', '.join(sorted(set(taken)))} is an extension of an occupier at {site.name}: choose another number"
            )
    before = local_numbers(site)
    site.local_emergency = ",".join(chosen)
    for handset_id in session.scalars(select(Handset.id).where(Handset.site_id == site.id)):
        outbox.enqueue(session, OutboxKind.HANDSET, handset_id)
    audit.record(session, actor, "site.emergency_numbers", site=site.name, before=list(before), after=list(chosen))
    return site


def get_site_by_name(session: Session, name: str) -> Site:
    site = session.scalar(select(Site).where(Site.name == name))
    if site is None:
        raise NotFound(f"There is no site called {name}")
    return site
