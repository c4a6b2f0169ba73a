"""R23: voicemail to email. Each new message is mailed, audio attached, to its number's address.

Asterisk cannot do it here (no sendmail in its chroot, and its mailbox line must
hold no user string), so pbx does: AMI's MessageWaiting event names the box that
changed, the box's INBOX in the spool gives the message and its audio, the store
gives the address, smtplib sends. A full scan runs on every AMI (re)connect and
now and then, so a message left while we were away is mailed late, not lost; the
msg_ids already mailed are kept in a small state file, so none is mailed twice.
Headers are built with the email.message API (which refuses CR/LF) from a
validated address and sanitised text only.
"""
from __future__ import annotations

import asyncio
import configparser
import json
import logging
import os
import re
import smtplib
import time
import unicodedata
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from email_validator import EmailNotValidError, validate_email
from sqlalchemy.orm import Session, sessionmaker

from pbx.asterisk.ami import Ami, AmiError
from pbx.asterisk.local import asterisk_folders
from pbx.asterisk.reconnect import Backoff
from pbx.settings import Settings
from pbx.store.db import transaction
from pbx.feature_table import VOICEMAIL_EMAIL
from pbx.services.live import is_live
from pbx.store.models import PhoneNumber

log = logging.getLogger("pbx.voicemail_mail")
BOX = re.compile(r"n([0-9]+)")
MSG_ID = re.compile(r"[0-9A-Za-z-]{1,64}")
RESCAN_S = 60.0
CHECK_S = 1.0  # how soon a lost AMI connection is noticed
RETRY_S = 1.0
BACKOFF_MAX_S = 5.0
CALLER_MAX = 80


@dataclass(frozen=True)
class Message:
    box: str
    msg_id: str
    caller: str
    origtime: int
    duration: int
    audio: Path


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
    return Message(txt.parent.parent.name, msg_id, clean_text(meta.get("callerid", "")),
                   int(origtime) if origtime.isdigit() else 0, int(duration), audio)


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
        "The recording is attached.\n")
    email.add_attachment(message.audio.read_bytes(), maintype="audio", subtype="wav",
                         filename=f"voicemail-{message.msg_id}.wav")
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


class VoicemailMailer:
    def __init__(self, settings: Settings, factory: sessionmaker[Session], state_path: Path) -> None:
        self.settings = settings
        self.factory = factory
        self.mail = settings.smtp
        self.spool = asterisk_folders(settings).voicemail
        self.state_path = state_path
        self.mailed: dict[str, set[str]] | None = None
        self._boxes: asyncio.Queue[str | None] = asyncio.Queue()  # None: every box

    async def run(self, stop: asyncio.Event) -> None:
        if not self.mail.enabled:
            log.info("voicemail to email is off: set PBX_SMTP_HOST to turn it on")
            return
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
        last_full = time.monotonic()
        while not stop.is_set() and ami.connected:
            getting, stopping = asyncio.ensure_future(self._boxes.get()), asyncio.ensure_future(stop.wait())
            done, pending = await asyncio.wait({getting, stopping}, timeout=CHECK_S,
                                               return_when=asyncio.FIRST_COMPLETED)
            for task in pending:
                task.cancel()
            if stop.is_set():
                return
            if getting in done:
                box = getting.result()
            elif time.monotonic() - last_full >= RESCAN_S:
                box = None
            else:
                continue
            if box is None:
                last_full = time.monotonic()
            if await asyncio.to_thread(self.scan, box):
                await asyncio.sleep(RETRY_S)  # a message still being written: look again shortly
                self._boxes.put_nowait(box)

    def scan(self, box: str | None) -> bool:
        """Mail every message not mailed yet in one box (None: all); True if one was incomplete."""
        first_run = self.mailed is None and not self.state_path.exists()
        mailed = self._load()
        boxes = [box] if box else sorted(p.name for p in self.spool.glob("n*") if BOX.fullmatch(p.name))
        incomplete = False
        for name in boxes:
            present = inbox(self.spool, name)
            txts = len(list((self.spool / name / "INBOX").glob("msg*.txt")))
            incomplete |= txts > len(present)
            done = mailed.setdefault(name, set())
            done &= {m.msg_id for m in present}  # forget what left the INBOX
            for message in present:
                if message.msg_id in done:
                    continue
                # The first run ever only learns what is there, so old messages are not re-sent.
                if first_run or self._send(message):
                    done.add(message.msg_id)
        self._save()
        return incomplete

    def _send(self, message: Message) -> bool:
        """True when mailed, or when the number wants no mail; False to try again later."""
        box = BOX.fullmatch(message.box)
        if box is None:  # not a box of ours (n<id>): nobody to mail
            return True
        to = find_recipient(self.factory, int(box.group(1)))
        if to is None:
            return True
        try:
            with smtplib.SMTP(self.mail.host, self.mail.port, timeout=self.mail.timeout) as smtp:
                if self.mail.starttls:
                    smtp.starttls()
                if self.mail.user:
                    smtp.login(self.mail.user, self.mail.password)
                smtp.send_message(build_email(message, to, self.mail.sender))
        except (OSError, smtplib.SMTPException) as error:
            log.warning("voicemail %s for %s not mailed yet: %r", message.msg_id, to.extension, error)
            return False
        log.info("voicemail %s mailed for %s", message.msg_id, to.extension)
        return True

    def _load(self) -> dict[str, set[str]]:
        if self.mailed is None:
            try:
                raw = json.loads(self.state_path.read_text())
                self.mailed = {box: set(ids) for box, ids in raw.items()}
            except (OSError, ValueError, AttributeError):
                self.mailed = {}
        return self.mailed

    def _save(self) -> None:
        self.state_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.state_path.with_name(f".{self.state_path.name}.tmp")
        tmp.write_text(json.dumps({box: sorted(ids) for box, ids in (self.mailed or {}).items() if ids}))
        os.replace(tmp, self.state_path)

