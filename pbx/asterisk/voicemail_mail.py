"""R23: voicemail to email. Each new message is mailed, audio attached, to its number's address.

Asterisk cannot do it here (no sendmail in its chroot, and its mailbox line must
hold no user string), so pbx does, once across every node (issue 9):

1. Find: AMI's MessageWaiting event names the box that changed; a full scan runs on
   every AMI (re)connect and every minute, so a message left while we were away is
   mailed late, not lost. Each message found becomes a row of `voicemail_mail_job`,
   keyed by its msg_id (unique; `ON CONFLICT DO NOTHING`): every node's mailer may
   find the same message, the store keeps one job.
   Store on SQLite: messages are read from this node's spool (INBOX/msgNNNN.txt).
   Store on PostgreSQL: messages are rows of `voicemessages` (app_voicemail_odbc).
2. Claim: a due job is claimed (PostgreSQL `SELECT ... FOR UPDATE SKIP LOCKED`; SQLite
   has one writer at a time, so a conditional UPDATE is the claim) by moving its next_at
   a lease ahead and counting the attempt; the attempt number is the claim's token.
3. Send, then mark it done. A failed send is retried with a doubling back-off. A worker
   that dies between sending and marking leaves the job to come due again when the lease
   ends: that message is mailed a second time, at most once per such crash.

The store gives the address, smtplib sends. Headers are built with the email.message
API (which refuses CR/LF) from a validated address and sanitised text only.
"""

from __future__ import annotations

import asyncio
import configparser
import json
import logging
import re
import smtplib
import threading
import time
import unicodedata
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import and_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from pbx.asterisk.ami import Ami, AmiError
from pbx.asterisk.local import asterisk_folders
from pbx.asterisk.reconnect import Backoff
from pbx.asterisk.voicemail_storage import MESSAGES_TABLE, shared_voicemail
from pbx.feature_table import VOICEMAIL_EMAIL
from pbx.services import events
from pbx.services.live import is_live
from pbx.settings import Settings
from pbx.store.db import transaction
from pbx.store.models import PhoneNumber, VoicemailMailJob

log = logging.getLogger("pbx.voicemail_mail")
BOX = re.compile(r"n([0-9]+)")
MSG_ID = re.compile(r"[0-9A-Za-z-]{1,64}")
RESCAN_S = 60.0
CHECK_S = 1.0  # how soon a lost AMI connection is noticed
RETRY_S = 1.0
BACKOFF_MAX_S = 5.0
CALLER_MAX = 80
LEASE_S = 120.0  # a claimed job comes due again after this (its worker died): at most one re-send
RETRY_FIRST_S = 5.0  # a failed send waits this, doubling per attempt, up to RETRY_LAST_S
RETRY_LAST_S = 600.0
WORK_S = 5.0  # how often due jobs (retries, or found by another node) are looked for
LEGACY_STATE = "voicemail-mailed.json"  # before jobs: msg_ids mailed by this node


@dataclass(frozen=True)
class Message:
    box: str
    msg_id: str
    caller: str
    origtime: int
    duration: int
    audio: Path | bytes  # the spool's file (SQLite store) or the recording (voicemessages)


@dataclass(frozen=True)
class Recipient:
    address: str
    extension: str
    e164: str


def clean_text(value: str, limit: int = CALLER_MAX) -> str:
    """Caller-controlled text (caller ID) made safe for a header: printable, one line, short."""
    text = "".join(ch for ch in value if unicodedata.category(ch)[0] != "C")
    return text.strip()[:limit] or "unknown"


def read_message(txt: Path) -> Message | None:
    """A message Asterisk has finished writing (metadata with duration, and audio), else None."""
    info = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        info.read_string(txt.read_text(errors="replace"))
        meta = info["message"]
        msg_id, duration = meta.get("msg_id", ""), meta.get("duration", "")
    except (OSError, configparser.Error, KeyError):
        return None
    # PCM .wav plays everywhere; .WAV (GSM in WAV) is the fallback.
    audio = next((p for p in (txt.with_suffix(".wav"), txt.with_suffix(".WAV")) if p.exists()), None)
    if not MSG_ID.fullmatch(msg_id) or not duration.isdigit() or audio is None:
        return None
    origtime = meta.get("origtime", "0")
    return Message(
        txt.parent.parent.name,
        msg_id,
        clean_text(meta.get("callerid", "")),
        int(origtime) if origtime.isdigit() else 0,
        int(duration),
        audio,
    )


def inbox(spool: Path, box: str) -> list[Message]:
    found = (read_message(txt) for txt in sorted((spool / box / "INBOX").glob("msg*.txt")))
    return [m for m in found if m is not None]


def build_email(message: Message, to: Recipient, sender: str) -> EmailMessage:
    email = EmailMessage()
    email["From"] = sender
    email["To"] = to.address
    email["Subject"] = f"New voicemail for {to.extension} from {message.caller}"
    email["Date"] = formatdate(message.origtime or None, localtime=False)
    email["Message-ID"] = make_msgid("voicemail")
    email.set_content(
        "You have a new voicemail message.\n\n"
        f"For: {to.extension} ({to.e164})\nFrom: {message.caller}\n"
        f"Received: {formatdate(message.origtime or None)}\nLength: {message.duration} seconds\n\n"
        "The recording is attached.\n"
    )
    audio = message.audio if isinstance(message.audio, bytes) else message.audio.read_bytes()
    email.add_attachment(audio, maintype="audio", subtype="wav", filename=f"voicemail-{message.msg_id}.wav")
    return email


def find_recipient(factory: sessionmaker[Session], number_id: int) -> Recipient | None:
    with transaction(factory) as session:
        number = session.get(PhoneNumber, number_id)
        if number is None or not is_live(number) or number.features is None:
            return None
        raw = getattr(number.features, VOICEMAIL_EMAIL.column)
        if not raw:
            return None
        try:  # validated when saved; checked again, since it becomes a header
            address = validate_email(raw, check_deliverability=False).normalized
        except EmailNotValidError:
            return None
        return Recipient(address, number.extension, number.e164)


def stored_message(session: Session, msg_id: str) -> Message | None:
    """A message of ours as app_voicemail_odbc stored it (PostgreSQL), or None if it is gone."""
    row = session.execute(
        text(
            f"SELECT mailboxuser, callerid, origtime, duration, recording FROM {MESSAGES_TABLE} "
            "WHERE msg_id = :msg_id AND mailboxcontext = 'pbx' AND recording IS NOT NULL "
            "ORDER BY dir LIMIT 1"
        ),
        {"msg_id": msg_id},
    ).first()
    if row is None or not BOX.fullmatch(row.mailboxuser or ""):
        return None
    return Message(
        row.mailboxuser,
        msg_id,
        clean_text(row.callerid or ""),
        int(row.origtime or 0),
        int(row.duration or 0),
        bytes(row.recording),
    )


def retry_after(attempts: int) -> float:
    return float(min(RETRY_LAST_S, RETRY_FIRST_S * 2 ** max(0, attempts - 1)))


class VoicemailMailer:
    def __init__(self, settings: Settings, factory: sessionmaker[Session]) -> None:
        self.settings = settings
        self.factory = factory
        self.mail = settings.smtp
        self.node = settings.node_name
        self.shared = shared_voicemail(settings)  # messages in the store's PostgreSQL
        self.spool = asterisk_folders(settings).voicemail
        self.ready = threading.Event()  # set once the first scan has run (tests wait for it)
        self._boxes: asyncio.Queue[str | None] = asyncio.Queue()  # None: every box

    async def run(self, stop: asyncio.Event) -> None:
        if not self.mail.enabled:
            log.info("voicemail to email is off: set PBX_SMTP_HOST to turn it on")
            return
        await asyncio.to_thread(self.import_legacy_state)
        backoff = Backoff(RETRY_S, BACKOFF_MAX_S)
        while not stop.is_set():
            try:
                ami = await Ami.connect(self.settings)
            except AmiError as error:
                log.info("voicemail mailer: Asterisk not reachable (%s)", error)
                await backoff.wait(stop)
                continue
            backoff.reset()
            ami.on_event("MessageWaiting", lambda _m, event: self._changed(event.get("Mailbox", "")))
            try:
                await self._serve(ami, stop)
            finally:
                await ami.close()

    def _changed(self, mailbox: str) -> None:
        box, _, context = mailbox.partition("@")
        if context == "pbx" and BOX.fullmatch(box):
            self._boxes.put_nowait(box)

    async def _serve(self, ami: Ami, stop: asyncio.Event) -> None:
        await asyncio.to_thread(self.scan, None)
        self.ready.set()
        await asyncio.to_thread(self.work)
        last_full = last_work = time.monotonic()
        while not stop.is_set() and ami.connected:
            getting, stopping = asyncio.ensure_future(self._boxes.get()), asyncio.ensure_future(stop.wait())
            done, pending = await asyncio.wait(
                {getting, stopping}, timeout=CHECK_S, return_when=asyncio.FIRST_COMPLETED
            )
            for task in pending:
                task.cancel()
            if stop.is_set():
                return
            box: str | None = None
            if getting in done:
                box = getting.result()
            elif time.monotonic() - last_full >= RESCAN_S:
                box = None
            else:
                if time.monotonic() - last_work >= WORK_S:
                    last_work = time.monotonic()
                    await asyncio.to_thread(self.work)
                continue
            if box is None:
                last_full = time.monotonic()
            incomplete = await asyncio.to_thread(self.scan, box)
            last_work = time.monotonic()
            await asyncio.to_thread(self.work)
            if incomplete:
                await asyncio.sleep(RETRY_S)  # a message still being written: look again shortly
                self._boxes.put_nowait(box)

    # -- 1. find -------------------------------------------------------------
    def scan(self, box: str | None) -> bool:
        """Add a job for every message of one box (None: all) not seen before; True if one was incomplete."""
        if self.shared:
            self._scan_table(box)
            return False
        boxes = [box] if box else sorted(p.name for p in self.spool.glob("n*") if BOX.fullmatch(p.name))
        incomplete = False
        found: list[tuple[str, int]] = []
        for name in boxes:
            present = inbox(self.spool, name)
            txts = len(list((self.spool / name / "INBOX").glob("msg*.txt")))
            incomplete |= txts > len(present)
            found.extend((m.msg_id, int(name[1:])) for m in present)
        self.add_jobs(found)
        return incomplete

    def _scan_table(self, box: str | None) -> None:
        """PostgreSQL: one statement turns every INBOX message without a job into one."""
        now = time.time()
        where = "mailboxuser = :box" if box else "mailboxuser ~ '^n[0-9]{1,18}$'"
        with transaction(self.factory) as session:
            session.execute(
                text(
                    "INSERT INTO voicemail_mail_job (msg_id, number_id, node, created_at, next_at, attempts) "
                    "SELECT DISTINCT msg_id, CAST(substr(mailboxuser, 2) AS integer), :node, :now, :now, 0 "
                    f"FROM {MESSAGES_TABLE} WHERE mailboxcontext = 'pbx' AND {where} "
                    "AND dir LIKE '%/INBOX' AND msg_id ~ '^[0-9A-Za-z-]{1,64}$' "
                    "ON CONFLICT (msg_id) DO NOTHING"
                ),
                {"node": self.node, "now": now, "box": box},
            )

    def add_jobs(self, found: list[tuple[str, int]]) -> None:
        """Insert (msg_id, number id) jobs; a msg_id already there (any node's) is left alone."""
        if not found:
            return
        now = time.time()
        rows = [
            {"msg_id": m, "number_id": n, "node": self.node, "created_at": now, "next_at": now, "attempts": 0}
            for m, n in found
        ]
        insert = postgresql.insert if self.factory.kw["bind"].dialect.name == "postgresql" else sqlite.insert
        with transaction(self.factory) as session:
            added = session.execute(
                insert(VoicemailMailJob)
                .values(rows)
                .on_conflict_do_nothing(index_elements=["msg_id"])
                .returning(VoicemailMailJob.msg_id, VoicemailMailJob.number_id)
            ).all()
            # R45: the first node to find a message publishes it, in the job's own transaction.
            for msg_id, number_id in added:
                number = session.get(PhoneNumber, number_id)
                if number is not None:
                    events.publish(
                        session, events.VOICEMAIL_LEFT, occupier_id=number.occupier_id, number=number, msg_id=msg_id
                    )

    def import_legacy_state(self) -> None:
        """The msg_ids this node mailed before jobs existed become done jobs, so none is re-sent."""
        path = self.settings.state_dir / LEGACY_STATE
        try:
            raw = json.loads(path.read_text())
            found = [
                (str(m), int(box[1:]))
                for box, ids in raw.items()
                if BOX.fullmatch(box)
                for m in ids
                if MSG_ID.fullmatch(str(m))
            ]
        except (OSError, ValueError, AttributeError):
            return
        self.add_jobs(found)
        with transaction(self.factory) as session:
            session.execute(
                update(VoicemailMailJob)
                .where(VoicemailMailJob.msg_id.in_([m for m, _ in found]), VoicemailMailJob.done_at.is_(None))
                .values(done_at=time.time(), outcome="legacy")
            )
        path.rename(path.with_name(path.name + ".imported"))

    # -- 2. claim, 3. send ---------------------------------------------------
    def work(self, limit: int = 100) -> int:
        """Claim and send due jobs until none is left (at most `limit`); returns how many were handled."""
        handled = 0
        while handled < limit:
            claimed = self.claim()
            if claimed is None:
                break
            self._handle(*claimed)
            handled += 1
        return handled

    def claim(self) -> tuple[int, int, str, int] | None:
        """(job id, attempt, msg_id, number id) of one due job, now this worker's for LEASE_S."""
        now = time.time()
        due = and_(VoicemailMailJob.done_at.is_(None), VoicemailMailJob.next_at <= now)
        if not self.shared:
            due = and_(due, VoicemailMailJob.node == self.node)  # only this node's spool has the audio
        with transaction(self.factory) as session:
            job = session.execute(
                select(
                    VoicemailMailJob.id, VoicemailMailJob.attempts, VoicemailMailJob.msg_id, VoicemailMailJob.number_id
                )
                .where(due)
                .order_by(VoicemailMailJob.next_at)
                .limit(1)
                .with_for_update(skip_locked=True)
            ).first()
            if job is None:
                return None
            attempt = job.attempts + 1
            # The condition repeats the due test: on SQLite it is the claim (one writer at a time).
            claimed = session.execute(
                update(VoicemailMailJob)
                .where(VoicemailMailJob.id == job.id, due)
                .values(attempts=attempt, next_at=now + LEASE_S, claimed_by=self.node)
            )
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                return None
        return job.id, attempt, job.msg_id, job.number_id

    def _handle(self, job_id: int, attempt: int, msg_id: str, number_id: int) -> None:
        message = self._message(msg_id, number_id)
        if message is None:
            self._finish(job_id, attempt, "gone")  # deleted, or moved out of the INBOX, before mailing
            return
        to = find_recipient(self.factory, number_id)
        if to is None:
            self._finish(job_id, attempt, "no-address")
            return
        error = self._send(message, to)
        if error is None:
            self._finish(job_id, attempt, "sent")
            return
        log.warning("voicemail %s for %s not mailed yet (attempt %d): %s", msg_id, to.extension, attempt, error)
        with transaction(self.factory) as session:
            session.execute(
                update(VoicemailMailJob)
                .where(VoicemailMailJob.id == job_id, VoicemailMailJob.attempts == attempt)
                .values(next_at=time.time() + retry_after(attempt), last_error=error[:500])
            )

    def _finish(self, job_id: int, attempt: int, outcome: str) -> None:
        with transaction(self.factory) as session:
            session.execute(
                update(VoicemailMailJob)
                .where(VoicemailMailJob.id == job_id, VoicemailMailJob.attempts == attempt)
                .values(done_at=time.time(), outcome=outcome)
            )

    def _message(self, msg_id: str, number_id: int) -> Message | None:
        if self.shared:
            with transaction(self.factory) as session:
                return stored_message(session, msg_id)
        return next((m for m in inbox(self.spool, f"n{number_id}") if m.msg_id == msg_id), None)

    def _send(self, message: Message, to: Recipient) -> str | None:
        """None when mailed; else why not (the job is retried later)."""
        try:
            with smtplib.SMTP(self.mail.host, self.mail.port, timeout=self.mail.timeout) as smtp:
                if self.mail.starttls:
                    smtp.starttls()
                if self.mail.user:
                    smtp.login(self.mail.user, self.mail.password)
                smtp.send_message(build_email(message, to, self.mail.sender))
        except (OSError, smtplib.SMTPException) as error:
            return repr(error)
        log.info("voicemail %s mailed for %s", message.msg_id, to.extension)
        return None
