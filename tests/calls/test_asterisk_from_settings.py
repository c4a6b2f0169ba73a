"""The Asterisk pbx drives is the one its settings name: host, config folder, spool folder.

A second real Asterisk is started bound to 127.0.0.2 only (nothing answers on
127.0.0.1), and pbx is pointed at it by Settings alone: PBX_ASTERISK_HOST, and
PBX_ASTERISK_ETC_DIR / PBX_ASTERISK_SPOOL_DIR set to that Asterisk's folders under an
instance name whose own folders are elsewhere, so a fallback to "the local instance"
would write and read in the wrong place. An admin changes a feature in the web UI;
the controller writes the config into the configured folder and puts the change
into that Asterisk's AstDB; the mailer mails a message found in the configured spool.
"""

from __future__ import annotations

import asyncio
import dataclasses
import socket
import threading
import time
import wave
from pathlib import Path

import pytest

from pbx import demo
from pbx.asterisk.ami import Ami, probe
from pbx.asterisk.controller import Controller
from pbx.asterisk.local import LocalAsterisk, asterisk_folders
from pbx.asterisk.voicemail_mail import VoicemailMailer
from pbx.services import features
from pbx.services.actor import Actor
from pbx.settings import AsteriskPorts, Settings, SmtpSettings
from pbx.store import make_engine, make_session_factory, transaction
from pbx.store.migrate import upgrade
from tests.web.conftest import ACME_ADMIN, Signed
from webui import create_app

HOST = "127.0.0.2"
TIMEOUT_S = 15.0
ALICE = "201"  # Acme Ltd's extension 201 in the demo world


def free_port(kind: int) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def elsewhere(asterisk_settings: Settings):
    """An Asterisk on 127.0.0.2 with ports of its own; stopped after the module."""
    ports = AsteriskPorts(
        sip=free_port(socket.SOCK_DGRAM),
        ami=free_port(socket.SOCK_STREAM),
        http=free_port(socket.SOCK_STREAM),
        trunk_outbound=free_port(socket.SOCK_DGRAM),
    )
    settings = dataclasses.replace(
        asterisk_settings, instance=f"{asterisk_settings.instance}-host", asterisk_host=HOST, ports=ports
    )
    local = LocalAsterisk(settings)
    try:
        local.down()
        local.up()
    except Exception as error:  # noqa: BLE001 (provisioning or boot: fail loudly, never skip)
        local.down()
        pytest.fail(f"the Asterisk on {HOST} could not be started: {error}", pytrace=False)
    yield local
    local.down()


@pytest.fixture
def pbx_settings(elsewhere: LocalAsterisk, tmp_path: Path, smtp_sink) -> Settings:
    url = f"sqlite:///{tmp_path / 'pbx.db'}"
    upgrade(url)
    return dataclasses.replace(
        elsewhere.settings,
        instance="not-this-machine",
        database_url=url,
        state_dir=tmp_path / "state",
        asterisk_etc_dir=elsewhere.etc_dir,
        asterisk_spool_dir=elsewhere.spool_dir,
        secret_key="key-from-settings",
        secure_cookies=True,
        smtp=SmtpSettings(host="127.0.0.1", port=smtp_sink.port, sender="voicemail@pbx.example"),
    )


def test_controller_mailer_and_web_ui_use_the_asterisk_the_settings_name(elsewhere, pbx_settings, smtp_sink):
    local_default = LocalAsterisk(pbx_settings)
    assert local_default.etc_dir != elsewhere.etc_dir  # a fallback would be caught
    assert asterisk_folders(pbx_settings).etc == elsewhere.etc_dir
    assert probe(pbx_settings)
    assert not probe(dataclasses.replace(pbx_settings, asterisk_host="127.0.0.1")), "bound to 127.0.0.2 only"

    factory = make_session_factory(make_engine(pbx_settings.database_url))
    with transaction(factory) as session:
        demo.seed(session)
        alice = demo.describe(session, pbx_settings)
    alice = next(n for n in alice["numbers"] if n["extension"] == ALICE and n["occupier"] == "Acme Ltd")
    # What the instance starts with, so only the controller can have written the mailboxes in.
    (elsewhere.etc_dir / "voicemail_pbx.conf").write_text("; rendered from the store\n")

    app = create_app(settings=pbx_settings)
    assert app.config["SECRET_KEY"] == "key-from-settings"
    assert app.config["SESSION_COOKIE_SECURE"] is True
    admin = Signed(app.test_client(), ACME_ADMIN)

    with running(lambda: Controller(pbx_settings, factory)) as controller:
        wait_for(controller.synced.is_set, "the controller's first full sync")
        assert f"n{alice['id']} => -" in (elsewhere.etc_dir / "voicemail_pbx.conf").read_text()
        answer = admin.write("PATCH", f"/api/v1/numbers/{alice['id']}/features", {"dnd": True})
        assert answer.status_code == 200, answer.get_data(as_text=True)
        wait_for(
            lambda: astdb(pbx_settings, f"num/{alice['id']}/dnd") == "1",
            "do not disturb live in the Asterisk on 127.0.0.2",
        )

    with transaction(factory) as session:
        features.update_features(session, Actor.system("test"), alice["id"], {"voicemail_email": "alice@acme.example"})
    write_message(elsewhere.spool_dir / "voicemail" / "pbx" / f"n{alice['id']}")
    with running(lambda: VoicemailMailer(pbx_settings, factory)):
        mails = smtp_sink.wait(1, timeout=TIMEOUT_S)
    assert [mail["To"] for mail in mails] == ["alice@acme.example"]


def astdb(settings: Settings, key: str) -> str:
    async def get() -> str:
        ami = await Ami.connect(settings)
        try:
            return await ami.db_get("pbx", key) or ""
        finally:
            await ami.close()

    return asyncio.run(get())


def wait_for(condition, what: str) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


class running:
    """service.run(stop) in a thread with its own loop, for the length of a with block."""

    def __init__(self, make) -> None:
        self.make, self.service = make, None
        self.loop = asyncio.new_event_loop()
        self.stop: asyncio.Event | None = None
        self.thread = threading.Thread(target=lambda: self.loop.run_until_complete(self._run()), daemon=True)

    async def _run(self) -> None:
        self.stop = asyncio.Event()
        self.service = self.make()
        await self.service.run(self.stop)

    def __enter__(self):
        self.thread.start()
        wait_for(lambda: self.service is not None, "the service to start")
        return self.service

    def __exit__(self, *_exc) -> None:
        self.loop.call_soon_threadsafe(self.stop.set)
        self.thread.join(TIMEOUT_S)
        assert not self.thread.is_alive(), "the service did not stop"
        self.loop.close()


def write_message(box_dir: Path) -> None:
    inbox = box_dir / "INBOX"
    inbox.mkdir(parents=True, exist_ok=True)
    (inbox / "msg0000.txt").write_text(
        "[message]\ncallerid=+447700900123\norigtime=1700000000\nmsg_id=1700000000-00000001\nduration=2\n"
    )
    with wave.open(str(inbox / "msg0000.wav"), "wb") as audio:
        audio.setnchannels(1)
        audio.setsampwidth(2)
        audio.setframerate(8000)
        audio.writeframes(b"\0\0" * 8000)
