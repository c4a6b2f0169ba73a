"""R35: a main number's greeting, uploaded by the operator as a WAV or MP3 file.

The upload is checked (a real audio file sox can read, at most MAX_BYTES and MAX_SECONDS)
and converted here, once, with sox into 8 kHz and 16 kHz mono 16-bit WAV. The converted
audio is kept in the store (MainGreeting), so every node's agent can write the same sound
file when the change log reaches it (pbx.asterisk.greeting_files): no node needs the
upload, and no reload is needed for a sound file. The AstDB key names the file by its
digest, so a new greeting is a new file, never one half written under a call.
"""

from __future__ import annotations

import hashlib
import subprocess
import tempfile
from pathlib import Path

from sqlalchemy.orm import Session

from pbx.services import audit, outbox
from pbx.services.actor import Actor
from pbx.services.errors import InvalidInput
from pbx.services.main_number_handling import handling_row, the_main_number
from pbx.store.models import MainGreeting

MAX_BYTES = 5 * 1024 * 1024
MAX_SECONDS = 120.0
MIN_SECONDS = 0.2
SOX_TIMEOUT_S = 30
FIELD = "greeting"


class GreetingAudio:
    """The converted greeting: 8 kHz and 16 kHz mono WAV, and the digest naming its files."""

    def __init__(self, audio_8k: bytes, audio_16k: bytes) -> None:
        self.audio_8k = audio_8k
        self.audio_16k = audio_16k
        self.digest = hashlib.sha256(audio_8k).hexdigest()[:12]


def _kind(data: bytes) -> str:
    """The container by its first bytes: only WAV and MP3 are taken."""
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "wav"
    if data[:3] == b"ID3" or (len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0):
        return "mp3"
    raise InvalidInput(FIELD, "the file is not a WAV or MP3 audio file")


def _sox(*args: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(["sox", *args], capture_output=True, text=True, timeout=SOX_TIMEOUT_S, check=False)
    except FileNotFoundError as error:
        raise RuntimeError("sox is not installed (scripts/install.sh installs it)") from error
    except subprocess.TimeoutExpired as error:
        raise InvalidInput(FIELD, "the audio file took too long to read") from error


def convert(data: bytes) -> GreetingAudio:
    """R35: check an uploaded file is real audio of a sensible length, and convert it. Pure but for sox."""
    if not data:
        raise InvalidInput(FIELD, "the file is empty")
    if len(data) > MAX_BYTES:
        raise InvalidInput(FIELD, f"the file is larger than {MAX_BYTES // (1024 * 1024)} MB")
    kind = _kind(data)
    with tempfile.TemporaryDirectory(prefix="pbx-greeting-") as tmp:
        source = Path(tmp) / f"upload.{kind}"
        source.write_bytes(data)
        info = _sox("--i", "-D", str(source))
        try:
            seconds = float(info.stdout.strip())
        except ValueError:
            seconds = -1.0
        if info.returncode != 0 or seconds < 0:
            raise InvalidInput(FIELD, f"the file is not readable {kind.upper()} audio")
        if seconds < MIN_SECONDS or seconds > MAX_SECONDS:
            raise InvalidInput(FIELD, f"a greeting lasts {MIN_SECONDS:g} to {MAX_SECONDS:g} seconds ({seconds:.1f} s)")
        out = {}
        for rate in (8000, 16000):
            target = Path(tmp) / f"out{rate}.wav"
            done = _sox(str(source), "-r", str(rate), "-c", "1", "-b", "16", "-e", "signed-integer", str(target))
            if done.returncode != 0 or not target.exists():
                raise InvalidInput(FIELD, f"the {kind.upper()} audio could not be converted")
            out[rate] = target.read_bytes()
    return GreetingAudio(out[8000], out[16000])


def upload_greeting(session: Session, actor: Actor, number_id: int, data: bytes) -> str:
    """R35: the operator uploads a main number's greeting; played on the next call. Returns its digest."""
    main = the_main_number(session, actor, number_id)
    audio = convert(data)
    stored = session.get(MainGreeting, main.id) or MainGreeting(number_id=main.id)
    stored.digest, stored.audio_8k, stored.audio_16k = audio.digest, audio.audio_8k, audio.audio_16k
    session.add(stored)
    handling_row(main).greeting = audio.digest
    outbox.number_changed(session, main)
    audit.record(session, actor, "main.greeting", number=main, digest=audio.digest, bytes=len(data))
    return audio.digest


def remove_greeting(session: Session, actor: Actor, number_id: int) -> None:
    """R35: no greeting: callers go straight to the hunt."""
    main = the_main_number(session, actor, number_id)
    stored = session.get(MainGreeting, main.id)
    if stored is not None:
        session.delete(stored)
    if main.handling is not None and main.handling.greeting:
        main.handling.greeting = ""
        outbox.number_changed(session, main)
        audit.record(session, actor, "main.greeting_removed", number=main)
