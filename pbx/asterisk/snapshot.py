"""A plain, read-only copy of what Asterisk needs from the store.

Rendering takes this, not live ORM objects, so it is a pure function that a test
can call with any data and a benchmark can time without a database.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from pbx.asterisk.main_number_keys import MainHandlingView
from pbx.services.emergency import local_numbers
from pbx.services.feature_input import shown_values
from pbx.services.live import is_live
from pbx.store.models import Handset, Occupier, PhoneNumber, Site


def default_features() -> Mapping[str, Any]:
    return MappingProxyType(shown_values(None))


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
    # Every feature by its key in pbx.feature_table, as shown: "" off, a CLI as its E.164 number.
    features: Mapping[str, Any] = field(default_factory=default_features)
    country: str = ""  # the site's ISO country code: national dialling (pbx/asterisk/routing.py)
    allowed_classes: str = "national,mobile"  # R39: its occupier's call policy (call_policy_keys.py)
    handling: MainHandlingView | None = None  # R35: a main number's hunt, hours, greeting (main_number_keys.py)
    conference: bool = False  # R44: its occupier's conference number: calls join the bridge


@dataclass(frozen=True)
class HandsetView:
    id: int
    phone_id: str
    sip_password: str
    site_id: int
    number_id: int | None
    emergency: tuple[str, ...] = ()  # R22: its site's own emergency numbers (pbx.services.emergency)


def handset_view(handset: Handset) -> HandsetView:
    return HandsetView(
        handset.id,
        handset.phone_id,
        handset.sip_password,
        handset.site_id,
        handset.number_id,
        local_numbers(handset.site),
    )


@dataclass(frozen=True)
class SiteView:
    id: int
    country: str
    portal_number: str | None = None  # R42: the site's voice portal DID


@dataclass(frozen=True)
class Snapshot:
    numbers: tuple[NumberView, ...]
    handsets: tuple[HandsetView, ...]
    sites: tuple[SiteView, ...]
    # (occupier id, site id) for every occupier with voice services at each of its sites
    occupier_sites: tuple[tuple[int, int], ...]


def number_view(number: PhoneNumber) -> NumberView:
    label = number.display_name or (number.user.full_name if number.user else "")
    features = MappingProxyType(shown_values(number.features))
    return NumberView(
        id=number.id,
        e164=number.e164,
        extension=number.extension,
        occupier_id=number.occupier_id,
        site_id=number.site_id,
        live=is_live(number),
        is_main=number.is_main,
        main_destination=number.main_destination or "",
        handset=number.handset.phone_id if number.handset else "",
        label=label,
        features=features,
        country=number.site.country if number.site is not None else "",
        allowed_classes=number.occupier.allowed_classes,
        conference=number.conference is not None,
        handling=main_handling_view(number),
    )


def main_handling_view(number: PhoneNumber) -> MainHandlingView | None:
    """R35: a main number's call handling with its site's hours; None when it has neither.

    Read only for main numbers (a few per site), so loading it lazily costs the call path nothing."""
    if not number.is_main:
        return None
    row, hours = number.handling, number.site.hours if number.site is not None else None
    if row is None and hours is None:
        return None
    weekly = {d: tuple((a, b) for a, b in spans) for d, spans in json.loads(hours.weekly).items()} if hours else {}
    return MainHandlingView(
        strategy=row.strategy if row else "ring_all",
        members=tuple((int(m), int(r)) for m, r in json.loads(row.members)) if row else (),
        out_of_hours=row.out_of_hours if row else "voicemail",
        greeting=row.greeting if row else "",
        timezone=hours.timezone if hours else "",
        weekly=weekly,
        closed_days=tuple(json.loads(hours.closed_days)) if hours else (),
    )


def load_snapshot(session: Session) -> Snapshot:
    numbers = session.scalars(
        select(PhoneNumber)
        .options(
            selectinload(PhoneNumber.user),
            selectinload(PhoneNumber.handset),
            selectinload(PhoneNumber.features),
            selectinload(PhoneNumber.occupier),
            selectinload(PhoneNumber.site),
            selectinload(PhoneNumber.conference),
        )
        .order_by(PhoneNumber.id)
    ).all()
    voice = {
        o.id: o
        for o in session.scalars(select(Occupier).options(selectinload(Occupier.sites)))
        if o.voice_services_active
    }
    return Snapshot(
        numbers=tuple(number_view(n) for n in numbers if n.occupier_id in voice),
        handsets=tuple(
            handset_view(h)
            for h in session.scalars(select(Handset).options(selectinload(Handset.site)).order_by(Handset.id))
        ),
        sites=tuple(
            SiteView(s.id, s.country, s.portal_number) for s in session.scalars(select(Site).order_by(Site.id))
        ),
        occupier_sites=tuple(sorted((o.id, s.id) for o in voice.values() for s in o.sites)),
    )
