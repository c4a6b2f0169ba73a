"""R44 on real calls: an occupier's meet-me conference, entered with its PIN.

Three people join, two from the occupier's handsets (*88) and one from outside (the
conference number the operator assigned); each talks in a tone of its own (the test's
RTP legs, tests/calls/media.py) and hears the other two, not itself. A wrong PIN stays
out; a handset of another occupier never reaches this occupier's bridge.
"""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import select

from pbx.services import conference
from pbx.services.actor import Actor
from pbx.store import AuditEntry, Occupier, User, transaction
from tests.calls.audio import tone_power
from tests.calls.media import RtpLeg, start_media_call
from tests.world import OUTSIDE_CALLER

pytestmark = [pytest.mark.asterisk, pytest.mark.usefixtures("stasis_app")]
ACME_PIN = "4821"
GLOBEX_PIN = "7305"
CONFERENCE_NUMBER = "+442079460204"  # Acme's: activated, nobody's
TONES = {"desk-os-1": 450.0, "desk-os-2": 750.0, "outside": 1250.0}
HEARD = 1000  # a participant's tone arrives at about its level, 6000
NOT_HEARD = 400
IN_CALL_S = 16.0
WAIT_S = 30.0


def _occupier_id(world, name: str) -> int:
    with transaction(world.factory) as session:
        return session.scalar(select(Occupier.id).where(Occupier.name == name))


def _as_admin(world, email: str, fn, *args):
    with transaction(world.factory) as session:
        admin = session.scalar(select(User).where(User.email == email))
        return fn(session, Actor.of(admin), *args)


def _acme_conference(world) -> int:
    acme = _occupier_id(world, "Acme Ltd")
    _as_admin(world, "admin@acme.example", conference.set_conference_pin, acme, ACME_PIN)
    with transaction(world.factory) as session:
        conference.set_conference_number(session, Actor.system("test"), acme, world.number_id(CONFERENCE_NUMBER))
    world.apply()
    return acme


def _credentials(world, phone_id: str) -> tuple[str, str]:
    h = next(h for h in world.data["handsets"] if h["phone_id"] == phone_id)
    return h["sip_username"], h["sip_password"]


def _members(world, room: str) -> int:
    out = world.asterisk.command(f"confbridge list {room}")
    return sum(1 for line in out.splitlines() if line.startswith("PJSIP/"))


def _attempts(world, occupier_id: int) -> list[str]:
    with transaction(world.factory) as session:
        rows = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "conference.attempt", AuditEntry.occupier_id == occupier_id)
        )
        return [json.loads(row.detail)["result"] for row in rows]


def test_r44_three_people_in_the_conference_each_hear_the_other_two(world):
    acme = _acme_conference(world)
    legs = {name: RtpLeg(lead_in_s=1.0, digits=ACME_PIN + "#", tone_hz=hz) for name, hz in TONES.items()}
    legs["outside"] = RtpLeg(
        ip=world.settings.trunk_host, lead_in_s=1.0, digits=ACME_PIN + "#", tone_hz=TONES["outside"]
    )
    for leg in legs.values():
        leg.start()
    try:
        calls = []
        for phone_id in ("desk-os-1", "desk-os-2"):
            user, password = _credentials(world, phone_id)
            calls.append(
                start_media_call(world.settings, "*88", legs[phone_id], caller=user, password=password, hold=IN_CALL_S)
            )
        calls.append(
            start_media_call(world.settings, CONFERENCE_NUMBER, legs["outside"], caller=OUTSIDE_CALLER, hold=IN_CALL_S)
        )
        deadline = time.monotonic() + WAIT_S
        while _members(world, f"occ{acme}") < len(legs) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _members(world, f"occ{acme}") == len(legs), world.asterisk.command(f"confbridge list occ{acme}")
        all_in = time.monotonic()
        time.sleep(4.0)
        window = (all_in + 0.5, all_in + 3.5)
        for call in calls:
            result = call.wait()
            assert result.ok, result
    finally:
        for leg in legs.values():
            leg.stop()
    for name, leg in legs.items():
        heard = leg.heard(*window)
        assert len(heard) > 16000, f"{name} received only {len(heard)} samples"
        for other, hz in TONES.items():
            power = tone_power(heard, hz)
            if other == name:
                assert power < NOT_HEARD, f"{name} hears itself ({hz} Hz at {power:.0f})"
            else:
                assert power > HEARD, f"{name} does not hear {other} ({hz} Hz at {power:.0f})"
    assert _attempts(world, acme) == ["ok", "ok", "ok"]


def test_r44_a_wrong_pin_stays_out_of_the_conference(world):
    acme = _acme_conference(world)
    user, password = _credentials(world, "desk-os-1")
    with RtpLeg(lead_in_s=1.0, digits="1357#", tone_hz=450) as leg:
        call = start_media_call(world.settings, "*88", leg, caller=user, password=password, hold=12)
        seen = 0
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline:
            seen = max(seen, _members(world, f"occ{acme}"))
            time.sleep(0.3)
        result = call.wait()
    assert result.ok, result
    assert seen == 0
    assert _attempts(world, acme)[:1] == ["wrong"]


def test_r44_another_occupiers_handset_never_reaches_this_bridge(world):
    acme = _acme_conference(world)
    globex = _occupier_id(world, "Globex Corporation")
    _as_admin(world, "admin@globex.example", conference.set_conference_pin, globex, GLOBEX_PIN)
    hank = world.number(extension="201", occupier="Globex Corporation")
    user, password = _credentials(world, hank["handset"])
    with RtpLeg(lead_in_s=1.0, digits=ACME_PIN + "#", tone_hz=450) as leg:
        call = start_media_call(world.settings, "*88", leg, caller=user, password=password, hold=10)
        seen = 0
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline:
            seen = max(seen, _members(world, f"occ{acme}"))
            time.sleep(0.3)
        result = call.wait()
    assert result.ok, result
    assert seen == 0
    assert _attempts(world, acme) == []  # *88 asked for Globex's own bridge's PIN
    assert _attempts(world, globex)[:1] == ["wrong"]
