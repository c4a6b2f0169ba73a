"""What tests read back after a call: the store (as the web UI would show it) and what Asterisk did."""

from __future__ import annotations

import json
import re
import time

from sqlalchemy import select

from pbx.services import pins
from pbx.services.actor import Actor
from pbx.store import AuditEntry, PhoneNumber, User, transaction

# Every call comes through the edge: the channel is PJSIP/pbx-edge-<n>-..., and the
# handset is what pbx-from-edge set PBX_PHONE to (the edge's X-PBX-Handset).
_PHONE = re.compile(r'Set\("(?P<channel>[^"]+)", "PBX_PHONE=(?P<phone>[^"]*)"\)')
_VOICEMAIL_MAIN = re.compile(r'VoiceMailMain\("(?P<channel>[^"]+)", "n(?P<box>\d+)@pbx,s"\)')


def number_row(world, number: str) -> PhoneNumber:
    """The number, its features and handset loaded: a detached copy to assert on."""
    with transaction(world.factory) as session:
        row = session.get(PhoneNumber, world.number_id(number))
        _ = row.features, row.handset
        return row


def set_custom_pin(world, number: str, pin: str) -> None:
    """As if the number's user had already chosen a custom PIN (R17)."""
    with transaction(world.factory) as session:
        pins.set_custom_pin(session, Actor.system("test"), session.get(PhoneNumber, world.number_id(number)), pin)


def reset_pin_as_admin(world, number: str, admin_email: str = "admin@acme.example") -> None:
    """R14, as the occupier admin's Reset PIN does it."""
    with transaction(world.factory) as session:
        admin = session.scalar(select(User).where(User.email == admin_email))
        pins.reset_pin(session, Actor.of(admin), world.number_id(number))


def audit(world, action: str, number: str | None = None) -> list[dict]:
    with transaction(world.factory) as session:
        query = select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        if number is not None:
            query = query.where(AuditEntry.number_id == world.number_id(number))
        return [{"actor": e.actor, **json.loads(e.detail)} for e in session.scalars(query)]


def opened_boxes(asterisk, mark: int, settle_s: float = 1.0) -> list[tuple[str, int]]:
    """(phone id, number id) of every VoiceMailMain run since mark: the boxes really opened."""
    time.sleep(settle_s)  # Asterisk's logger writes asynchronously
    log = asterisk.log_since(mark)
    phones = {m.group("channel"): m.group("phone") for m in _PHONE.finditer(log) if m.group("phone")}
    return [(phones.get(m.group("channel"), ""), int(m.group("box"))) for m in _VOICEMAIL_MAIN.finditer(log)]
