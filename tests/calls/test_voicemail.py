"""R23, R16: voicemail on real calls: messages mailed with their audio, boxes opened by PIN only."""

from __future__ import annotations

import io
import wave

from tests.calls.store_checks import audit, opened_boxes, set_custom_pin
from tests.calls.voice import leave_message
from tests.world import OUTSIDE_CALLER

PIN = "482916"
OTHER_PIN = "739258"
HOLD_S = 2


def test_r23_a_message_left_arrives_by_email_with_its_audio(world, smtp_sink, voicemail_mailer):
    free = world.number(extension="204", occupier="Acme Ltd")
    world.set_features(free["number"], voicemail_email="front.desk@acme.example")

    result = leave_message(world.settings, free["number"], OUTSIDE_CALLER, tone_s=3)
    assert result.ok, result

    mails = smtp_sink.wait(1)
    assert len(mails) == 1
    mail = mails[0]
    assert mail["To"] == "front.desk@acme.example"
    assert smtp_sink.envelopes[0][1] == ["front.desk@acme.example"]
    assert "204" in mail["Subject"] and OUTSIDE_CALLER in mail["Subject"]
    (audio,) = [part for part in mail.iter_attachments()]
    assert audio.get_content_type() == "audio/wav"
    with wave.open(io.BytesIO(audio.get_content())) as recording:
        seconds = recording.getnframes() / recording.getframerate()
    assert 1.5 <= seconds <= 5, seconds


def test_r23_no_address_no_mail(world, smtp_sink, voicemail_mailer):
    free = world.number(extension="204", occupier="Acme Ltd")
    assert leave_message(world.settings, free["number"], OUTSIDE_CALLER, tone_s=2).ok
    assert smtp_sink.wait(1, timeout=3) == []


def test_r16_star97_opens_the_callers_own_box_after_the_pin(world, asterisk, stasis_app):
    alice = world.number(extension="201", occupier="Acme Ltd")
    set_custom_pin(world, alice["number"], PIN)
    mark = asterisk.log_mark()

    assert world.call_from_handset(alice["handset"], "*97", dtmf=f"{PIN}#", hold=HOLD_S).ok

    assert opened_boxes(asterisk, mark) == [(alice["handset"], alice["id"])]
    assert len(audit(world, "voicemail.open", alice["number"])) == 1


def test_r16_star98_opens_the_box_of_the_extension_keyed_with_its_own_pin(world, asterisk, stasis_app):
    alice = world.number(extension="201", occupier="Acme Ltd")
    bob = world.number(extension="202", occupier="Acme Ltd")
    set_custom_pin(world, alice["number"], PIN)
    set_custom_pin(world, bob["number"], OTHER_PIN)
    mark = asterisk.log_mark()

    # Bob at his desk opens Alice's box with Alice's PIN; his own PIN opens nothing of hers.
    assert world.call_from_handset(bob["handset"], "*98", dtmf=f"201#{OTHER_PIN}#", hold=HOLD_S).ok
    assert opened_boxes(asterisk, mark) == []
    assert world.call_from_handset(bob["handset"], "*98", dtmf=f"201#{PIN}#", hold=HOLD_S).ok

    assert opened_boxes(asterisk, mark) == [(bob["handset"], alice["id"])]
    assert [e["result"] for e in audit(world, "pin.attempt", alice["number"])] == ["wrong", "ok"]
    assert audit(world, "pin.attempt", bob["number"]) == []


def test_r3_star98_reaches_only_the_callers_own_occupier(world, asterisk, stasis_app):
    hank = world.number(extension="201", occupier="Globex Corporation")
    acme_bob = world.number(extension="202", occupier="Acme Ltd")
    set_custom_pin(world, acme_bob["number"], OTHER_PIN)
    mark = asterisk.log_mark()

    # Globex's 202 is meant, not Acme's Bob: Bob's PIN opens nothing and his count stays at zero.
    assert world.call_from_handset(hank["handset"], "*98", dtmf=f"202#{OTHER_PIN}#", hold=HOLD_S).ok

    assert opened_boxes(asterisk, mark) == []
    assert audit(world, "pin.attempt", acme_bob["number"]) == []
    globex_202 = world.number(extension="202", occupier="Globex Corporation")
    assert [e["result"] for e in audit(world, "pin.attempt", globex_202["number"])] == ["wrong"]
