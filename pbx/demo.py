"""The demo world: a small operator that every command, test and benchmark can start from.

It is seeded through pbx.services, like any operator's data, so the demo also
exercises the rules. Numbers are in Ofcom's drama ranges (020 7946 0xxx,
0161 496 0xxx), which no real subscriber holds.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pbx.services import assignment, handsets
from pbx.services import operator as ops
from pbx.services.actor import Actor
from pbx.settings import Settings
from pbx.store.models import Handset, NumberStatus, Occupier, Operator, PhoneNumber, Role, User

OPERATOR = "Flexspace Operator"
SITES = [("London - Old Street", "GB"), ("London - King's Cross", "GB"), ("Manchester - Spinningfields", "GB")]
# name, sites, voice services, voice services bought (R36: Acme uses 8, Globex 3, Initech none)
OCCUPIERS = [
    ("Acme Ltd", ["London - Old Street", "London - King's Cross"], True, 12),
    ("Globex Corporation", ["London - Old Street"], True, 5),
    ("Initech", ["Manchester - Spinningfields"], False, 2),
]
PASSWORD = "demo-password"
# email, first, last, role, occupier
USERS = [
    ("operator@flexspace.example", "Olivia", "Operator", Role.OPERATOR_ADMIN, None),
    ("admin@acme.example", "Adam", "Admin", Role.OCCUPIER_ADMIN, "Acme Ltd"),
    ("alice@acme.example", "Alice", "Archer", Role.USER, "Acme Ltd"),
    ("bob@acme.example", "Bob", "Baker", Role.USER, "Acme Ltd"),
    ("carol@acme.example", "Carol", "Cooper", Role.USER, "Acme Ltd"),
    ("dave@acme.example", "Dave", "Dawson", Role.USER, "Acme Ltd"),
    ("admin@globex.example", "Grace", "Gordon", Role.OCCUPIER_ADMIN, "Globex Corporation"),
    ("hank@globex.example", "Hank", "Hill", Role.USER, "Globex Corporation"),
    ("admin@initech.example", "Ian", "Ingram", Role.OCCUPIER_ADMIN, "Initech"),
]
HANDSETS = [
    ("desk-os-1", "London - Old Street"),
    ("desk-os-2", "London - Old Street"),
    ("desk-os-3", "London - Old Street"),
    ("desk-os-4", "London - Old Street"),
    ("desk-os-5", "London - Old Street"),
    ("desk-os-6", "London - Old Street"),
    ("desk-kx-1", "London - King's Cross"),
    ("desk-kx-2", "London - King's Cross"),
    ("desk-kx-3", "London - King's Cross"),
    ("desk-mc-1", "Manchester - Spinningfields"),
    ("desk-mc-2", "Manchester - Spinningfields"),
]
# e164, extension, occupier, site, default PIN, what to do: active/reserved/main:<dest>,
# then user email, display name (first, second), handset
NUMBERS = [
    ("+442079460100", "100", "Acme Ltd", "London - Old Street", "730152", "main:201", None, None, None),
    (
        "+442079460201",
        "201",
        "Acme Ltd",
        "London - Old Street",
        "184629",
        "active",
        "alice@acme.example",
        None,
        "desk-os-1",
    ),
    (
        "+442079460202",
        "202",
        "Acme Ltd",
        "London - Old Street",
        "590318",
        "active",
        "bob@acme.example",
        None,
        "desk-os-2",
    ),
    (
        "+442079460203",
        "203",
        "Acme Ltd",
        "London - Old Street",
        "267405",
        "active",
        None,
        ("Meeting", "Room 1"),
        "desk-os-3",
    ),
    ("+442079460204", "204", "Acme Ltd", "London - Old Street", "851736", "active", None, None, None),
    ("+442079460205", "205", "Acme Ltd", "London - Old Street", "318264", "reserved", None, None, None),
    ("+442079460300", "300", "Acme Ltd", "London - King's Cross", "472958", "main:301", None, None, None),
    (
        "+442079460301",
        "301",
        "Acme Ltd",
        "London - King's Cross",
        "639027",
        "active",
        "carol@acme.example",
        ("Carol", "Reception"),
        "desk-kx-1",
    ),
    ("+442079460302", "302", "Acme Ltd", "London - King's Cross", "205817", "active", None, None, None),
    ("+442079460303", "303", "Acme Ltd", "London - King's Cross", "946371", "reserved", None, None, None),
    ("+442079460500", "500", "Globex Corporation", "London - Old Street", "728401", "main:201", None, None, None),
    (
        "+442079460501",
        "201",
        "Globex Corporation",
        "London - Old Street",
        "503926",
        "active",
        "hank@globex.example",
        None,
        "desk-os-4",
    ),
    (
        "+442079460502",
        "202",
        "Globex Corporation",
        "London - Old Street",
        "617283",
        "active",
        None,
        ("Globex", "Sales"),
        None,
    ),
    ("+442079460503", "203", "Globex Corporation", "London - Old Street", "394857", "reserved", None, None, None),
    ("+441614960100", "100", "Initech", "Manchester - Spinningfields", "275194", "reserved", None, None, None),
]


def sip_password(phone_id: str) -> str:
    return f"demo-sip-{phone_id}"


def is_seeded(session: Session) -> bool:
    return session.scalar(select(Operator).where(Operator.name == OPERATOR)) is not None


def seed(session: Session) -> bool:
    """Create the demo world once; returns False when it was already there."""
    if is_seeded(session):
        return False
    actor = Actor.system("demo")
    operator = ops.create_operator(session, actor, OPERATOR)
    sites = {name: ops.create_site(session, actor, operator, name, country) for name, country in SITES}
    occupiers = {
        name: ops.create_occupier(session, actor, operator, name, [sites[s] for s in site_names], voice, bought)
        for name, site_names, voice, bought in OCCUPIERS
    }
    users = {
        email: ops.create_user(
            session, actor, operator, occupiers[occ] if occ else None, first, last, email, PASSWORD, role
        )
        for email, first, last, role, occ in USERS
    }
    for desk, site in HANDSETS:
        ops.register_handset(session, actor, sites[site].id, desk, sip_password(desk))
    for e164, ext, occ, site, pin, state, user, label, phone_id in NUMBERS:
        number = ops.allocate_number(session, actor, occupiers[occ].id, sites[site].id, e164, ext, pin)
        if state == "reserved":
            continue
        ops.activate_number(session, actor, number.id)
        _settle(number)
        if state.startswith("main:"):
            ops.set_main_number(session, actor, number.id, state.removeprefix("main:"))
            _settle(number)
            continue
        if user:
            assignment.assign_user(session, actor, number.id, users[user].id)
            _settle(number)
        if label:
            assignment.set_display_name(session, actor, number.id, *label)
            _settle(number)
        if phone_id:
            handsets.log_in_handset(session, actor, number.id, phone_id)
        _settle(number)
    session.flush()
    return True


def _settle(number: PhoneNumber) -> None:
    # Seeding queues every change for Asterisk; the demo script goes on acting on the
    # number as an admin would after the short delay (R15), and the controller's first
    # full sync applies it all.
    if number.status is NumberStatus.PENDING:
        number.status = NumberStatus.ACTIVE


def describe(session: Session, settings: Settings) -> dict[str, Any]:
    """The JSON that scripts, tests and benchmarks read instead of hard-coding values."""
    # Handsets and the carrier talk to the SIP edge, never to Asterisk (docs/edge.md).
    sip = {"host": settings.edge_hosts[0], "port": settings.edge_sip_port}
    # Every edge: a handset registers to one and fails over to the next (they share registrations).
    edges = [
        {"host": host, "port": settings.edge_sip_port, "trunk_port": settings.edge_trunk_port}
        for host in settings.edge_hosts
    ]
    logins = [
        {
            "email": u.email,
            "password": PASSWORD,
            "role": u.role.value,
            "occupier": u.occupier.name if u.occupier else None,
            "name": u.full_name,
            "number": u.number.e164 if u.number else None,
        }
        for u in session.scalars(select(User).order_by(User.id))
        if u.email in {e for e, *_ in USERS}
    ]
    numbers = [
        {
            "number": n.e164,
            "extension": n.extension,
            "site": n.site.name,
            "occupier": n.occupier.name,
            "status": n.status.value,
            "main": n.is_main,
            "default_pin": n.default_pin,
            "handset": n.handset.phone_id if n.handset else None,
            "user": n.user.email if n.user else None,
            "display_name": n.display_name,
            "main_destination": n.main_destination,
            "id": n.id,
        }
        for n in session.scalars(select(PhoneNumber).order_by(PhoneNumber.id))
    ]
    handset_list = [
        {
            "phone_id": h.phone_id,
            "site": h.site.name,
            "sip_username": h.sip_username,
            "sip_password": h.sip_password,
            "number": h.number.e164 if h.number else None,
        }
        for h in session.scalars(select(Handset).order_by(Handset.id))
    ]
    occupiers = [
        {"name": o.name, "voice_services": o.voice_services_active, "sites": [s.name for s in o.sites]}
        for o in session.scalars(select(Occupier).order_by(Occupier.id))
    ]
    return {
        "web": {"url": f"http://{settings.web_host}:{settings.web_port}"},
        "sip": sip,
        "edges": edges,
        "trunk": {
            # Send from `source` (the edge knows the carrier by it) to the edge's trunk port.
            "inbound": {
                "host": settings.edge_hosts[0],
                "port": settings.edge_trunk_port,
                "source": settings.trunk_host,
                "headers": {},
            },
            # Where the edge sends our outgoing calls (from its trunk port).
            "outbound": {"host": settings.trunk_host, "port": settings.ports.trunk_outbound},
        },
        "ami": {"host": settings.asterisk_host, "port": settings.ports.ami},
        "ari": {"url": f"http://{settings.asterisk_host}:{settings.ports.http}/ari"},
        "occupiers": occupiers,
        "logins": logins,
        "numbers": numbers,
        "handsets": handset_list,
    }
