"""R42: the voice portal's number, one per site, set by the operator.

One per site, not one per operator: a site is where a caller's numbers are (R4) and has its
own country (how a number keyed at the portal is read) and emergency numbers; an operator
with one site has one portal anyway. The number is an E.164 DID like a phone number's, so
it is unique among the sites' portal numbers and never one of the allocated numbers (the
trunk routes a DID to exactly one thing: AstDB `did/<digits>`, pbx/asterisk/portal_keys.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from pbx import validation
from pbx.services import audit, outbox
from pbx.services.actor import Actor
from pbx.services.errors import Conflict
from pbx.services.lookup import get_site
from pbx.store.models import OutboxKind, PhoneNumber, Site


@dataclass(frozen=True)
class SitePortal:
    site_id: int
    site: str
    portal_number: str | None


def _shown(site: Site) -> SitePortal:
    return SitePortal(site.id, site.name, site.portal_number)


def site_portals(session: Session, actor: Actor) -> list[SitePortal]:
    """Every site and its portal number (None: none), for the operator."""
    actor.require_operator()
    return [_shown(s) for s in session.scalars(select(Site).order_by(Site.name))]


def set_portal_number(session: Session, actor: Actor, site_id: int, number: str) -> SitePortal:
    """R42: the site's portal number: E.164 (phonenumbers), unique, not an allocated number."""
    actor.require_operator()
    site = get_site(session, site_id)
    e164 = validation.e164(number, "portal_number")
    other = session.scalar(select(Site).where(Site.portal_number == e164, Site.id != site.id))
    if other is not None:
        raise Conflict(f"{e164} is already the portal number of {other.name}")
    if session.scalar(select(PhoneNumber.id).where(PhoneNumber.e164 == e164)) is not None:
        raise Conflict(f"{e164} is an allocated phone number: it cannot be a portal number")
    return _change(session, actor, site, e164)


def clear_portal_number(session: Session, actor: Actor, site_id: int) -> SitePortal:
    """R42: the site has no portal number any more (the handsets' portal code still works)."""
    actor.require_operator()
    return _change(session, actor, get_site(session, site_id), None)


def _change(session: Session, actor: Actor, site: Site, e164: str | None) -> SitePortal:
    before = site.portal_number
    site.portal_number = e164
    session.flush()
    if before != e164:
        outbox.enqueue(session, OutboxKind.SITE, site.id)
        audit.record(session, actor, "site.portal_number", site=site.name, before=before, after=e164)
    return _shown(site)
