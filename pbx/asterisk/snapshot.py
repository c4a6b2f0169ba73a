"""A plain, read-only copy of what Asterisk needs from the store.

Rendering takes this, not live ORM objects, so it is a pure function that a test
can call with any data and a benchmark can time without a database.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from pbx.services.live import is_live
from pbx.store.models import DEFAULT_NO_ANSWER_SECONDS, Handset, Occupier, PhoneNumber, Site


@dataclass(frozen=True)
class NumberFeaturesView:
    forward_always: str = ""
    forward_busy: str = ""
    forward_no_answer: str = ""
    no_answer_seconds: int = DEFAULT_NO_ANSWER_SECONDS
    voicemail: bool = True
    voicemail_email: str = ""
    hide_caller_id: bool = False
    call_waiting: bool = True
    dnd: bool = False
    cli: str = ""  # the E.164 number shown on outgoing calls; "" for the number's own
    authorization_code: bool = False


@dataclass(frozen=True)
class NumberView:
    id: int
    e164: str
    extension: str
    occupier_id: int
    site_id: int
    live: bool  # Active or Pending: reachable by calls; Reserved numbers are not
    is_main: bool
    main_destination: str
    handset: str  # phone ID, "" when not logged in
    label: str  # what the handset and called parties see: display name, else the user's name
    features: NumberFeaturesView = field(default_factory=NumberFeaturesView)
    country: str = ""  # the site's ISO country code: national dialling (pbx/asterisk/routing.py)


@dataclass(frozen=True)
class HandsetView:
    id: int
    phone_id: str
    sip_password: str
    site_id: int
    number_id: int | None


@dataclass(frozen=True)
class SiteView:
    id: int
    country: str


@dataclass(frozen=True)
class Snapshot:
    numbers: tuple[NumberView, ...]
    handsets: tuple[HandsetView, ...]
    sites: tuple[SiteView, ...]
    # (occupier id, site id) for every occupier with voice services at each of its sites
    occupier_sites: tuple[tuple[int, int], ...]


def number_view(number: PhoneNumber) -> NumberView:
    f = number.features
    label = number.display_name or (number.user.full_name if number.user else "")
    features = NumberFeaturesView(
        forward_always=f.forward_always or "",
        forward_busy=f.forward_busy or "",
        forward_no_answer=f.forward_no_answer or "",
        no_answer_seconds=f.no_answer_seconds,
        voicemail=f.voicemail,
        voicemail_email=f.voicemail_email or "",
        hide_caller_id=f.hide_caller_id,
        call_waiting=f.call_waiting,
        dnd=f.dnd,
        cli=f.cli_number.e164 if f.cli_number is not None else "",
        authorization_code=f.authorization_code_hash is not None,
    ) if f is not None else NumberFeaturesView()
    return NumberView(
        id=number.id, e164=number.e164, extension=number.extension, occupier_id=number.occupier_id,
        site_id=number.site_id, live=is_live(number), is_main=number.is_main,
        main_destination=number.main_destination or "",
        handset=number.handset.phone_id if number.handset else "", label=label, features=features,
        country=number.site.country if number.site is not None else "",
    )


def load_snapshot(session: Session) -> Snapshot:
    numbers = session.scalars(select(PhoneNumber).options(
        selectinload(PhoneNumber.user), selectinload(PhoneNumber.handset),
        selectinload(PhoneNumber.features), selectinload(PhoneNumber.occupier),
        selectinload(PhoneNumber.site),
    ).order_by(PhoneNumber.id)).all()
    voice = {o.id: o for o in session.scalars(select(Occupier).options(selectinload(Occupier.sites)))
             if o.voice_services_active}
    return Snapshot(
        numbers=tuple(number_view(n) for n in numbers if n.occupier_id in voice),
        handsets=tuple(HandsetView(h.id, h.phone_id, h.sip_password, h.site_id, h.number_id)
                       for h in session.scalars(select(Handset).order_by(Handset.id))),
        sites=tuple(SiteView(s.id, s.country) for s in session.scalars(select(Site).order_by(Site.id))),
        occupier_sites=tuple(sorted((o.id, s.id) for o in voice.values() for s in o.sites)),
    )
