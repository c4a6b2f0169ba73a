"""R23: voicemail to email reads the spool safely and can never be made to add a header."""

from __future__ import annotations

import io
import wave
from pathlib import Path

from sqlalchemy import select

from pbx.asterisk.render import render_voicemail
from pbx.asterisk.snapshot import load_snapshot
from pbx.asterisk.voicemail_mail import Recipient, build_email, clean_text, find_recipient, inbox, read_message
from pbx.store import PhoneNumber, transaction

EVIL_CALLER = '"Eve\r\nBcc: everyone@example.com" <+447700900123>'


def write_message(box_dir: Path, index: int, callerid: str = "+447700900123", duration: str = "3") -> Path:
    inbox_dir = box_dir / "INBOX"
    inbox_dir.mkdir(parents=True, exist_ok=True)
    txt = inbox_dir / f"msg{index:04d}.txt"
    txt.write_text(
        f"[message]\norigmailbox={box_dir.name}\ncallerid={callerid}\norigtime=1700000000\n"
        f"msg_id=1700000000-{index:08d}\nduration={duration}\n"
    )
    with wave.open(str(txt.with_suffix(".wav")), "wb") as audio:
        audio.setnchannels(1)
        audio.setsampwidth(2)
        audio.setframerate(8000)
        audio.writeframes(b"\0\0" * 8000)
    return txt


def test_r23_a_message_still_being_written_is_left_for_later(tmp_path):
    box = tmp_path / "n5"
    write_message(box, 0)
    write_message(box, 1, duration="")
    assert [m.msg_id for m in inbox(tmp_path, "n5")] == ["1700000000-00000000"]


def test_r23_the_caller_id_cannot_add_a_header(tmp_path):
    message = read_message(write_message(tmp_path / "n5", 0))
    message = message.__class__(**{**message.__dict__, "caller": clean_text(EVIL_CALLER)})

    email = build_email(message, Recipient("alice@acme.example", "201", "+442079460201"), "voicemail@pbx.example")

    raw = email.as_bytes()
    assert b"\nBcc:" not in raw and b"\r\nBcc:" not in raw
    assert email["To"] == "alice@acme.example"
    (audio,) = email.iter_attachments()
    with wave.open(io.BytesIO(audio.get_content())) as recording:
        assert recording.getnframes() == 8000


def test_r23_an_address_that_was_never_validated_is_not_used(demo_store):
    factory = demo_store
    with transaction(factory) as session:
        number = session.scalar(select(PhoneNumber).where(PhoneNumber.extension == "204"))
        number.features.voicemail_email = "a@example.com\r\nBcc: everyone@example.com"  # written around the services
        number_id = number.id
    assert find_recipient(factory, number_id) is None


def test_r23_mailbox_lines_hold_no_user_string(demo_store):
    with transaction(demo_store) as session:
        text = render_voicemail(load_snapshot(session))
    boxes = [line for line in text.splitlines() if "=>" in line]
    assert boxes and all(line.split(" => ") == [line.split(" => ")[0], "-"] for line in boxes)
    assert all(line.split(" => ")[0][1:].isdigit() for line in boxes)


def _mailer(factory, tmp_path: Path, node: str, sent: list[str], fail: list[bool]):
    import dataclasses

    from pbx.asterisk.voicemail_mail import VoicemailMailer
    from pbx.settings import Settings, SmtpSettings

    settings = dataclasses.replace(
        Settings.from_env(),
        database_url="sqlite://",
        node_name=node,
        asterisk_spool_dir=tmp_path,
        smtp=SmtpSettings(host="127.0.0.1", port=1),
    )
    mailer = VoicemailMailer(settings, factory)

    def send(message, to):
        if fail and fail.pop(0):
            return "refused"
        sent.append(message.msg_id)
        return None

    mailer._send = send
    return mailer


def _with_address(factory) -> int:
    with transaction(factory) as session:
        number = session.scalar(select(PhoneNumber).where(PhoneNumber.extension == "204"))
        number.features.voicemail_email = "front.desk@acme.example"
        return number.id


def test_r23_a_message_found_twice_is_one_job_mailed_once(demo_store, tmp_path):
    box_id = _with_address(demo_store)
    write_message(tmp_path / "voicemail" / "pbx" / f"n{box_id}", 0)
    sent: list[str] = []
    mailer = _mailer(demo_store, tmp_path, "node-1", sent, [])
    mailer.scan(None)
    mailer.scan(f"n{box_id}")  # MessageWaiting after the full scan: the same message again
    assert mailer.work() == 1
    mailer.scan(None)
    assert mailer.work() == 0
    assert sent == ["1700000000-00000000"]


def test_r23_a_failed_send_is_retried_with_back_off(demo_store, tmp_path):
    import time as clock

    from pbx.asterisk import voicemail_mail
    from pbx.store.models import VoicemailMailJob

    box_id = _with_address(demo_store)
    write_message(tmp_path / "voicemail" / "pbx" / f"n{box_id}", 0)
    sent: list[str] = []
    mailer = _mailer(demo_store, tmp_path, "node-1", sent, [True])
    mailer.scan(None)
    assert mailer.work() == 1 and sent == []
    with transaction(demo_store) as session:
        job = session.scalar(select(VoicemailMailJob))
        assert job.attempts == 1 and job.done_at is None and job.last_error == "refused"
        assert job.next_at - clock.time() > voicemail_mail.RETRY_FIRST_S - 1  # not due yet
        job.next_at = 0  # the back-off has passed
    assert mailer.work() == 1 and sent == ["1700000000-00000000"]


def test_r23_a_worker_lost_between_claim_and_mark_leaves_the_job_to_another_after_the_lease(demo_store, tmp_path):
    from pbx.store.models import VoicemailMailJob

    box_id = _with_address(demo_store)
    write_message(tmp_path / "voicemail" / "pbx" / f"n{box_id}", 0)
    sent: list[str] = []
    mailer = _mailer(demo_store, tmp_path, "node-1", sent, [])
    mailer.scan(None)
    assert mailer.claim() is not None  # claimed, then the worker dies (sent or not)
    assert mailer.claim() is None and mailer.work() == 0  # leased: nobody else takes it
    with transaction(demo_store) as session:
        session.scalar(select(VoicemailMailJob)).next_at = 0  # the lease ran out
    assert mailer.work() == 1 and sent == ["1700000000-00000000"]
    with transaction(demo_store) as session:
        assert session.scalar(select(VoicemailMailJob)).attempts == 2


def test_r45_a_new_message_publishes_voicemail_left_once(demo_store, tmp_path):
    """The node that first records the message's job publishes it, in the same transaction."""
    from pbx.services import events

    box_id = _with_address(demo_store)
    with transaction(demo_store) as session:
        start = events.head(session)
    write_message(tmp_path / "voicemail" / "pbx" / f"n{box_id}", 0)
    mailer = _mailer(demo_store, tmp_path, "node-1", [], [])
    mailer.scan(None)
    mailer.scan(f"n{box_id}")  # found again: no second event
    _mailer(demo_store, tmp_path, "node-2", [], []).scan(None)  # another node finds it too
    with transaction(demo_store) as session:
        found = [events.Published.of(e) for e in events.after(session, start, None)]
    assert [(e.kind, e.number_id, e.data["detail"]["msg_id"]) for e in found] == [
        ("voicemail.left", box_id, "1700000000-00000000")
    ]
