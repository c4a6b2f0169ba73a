"""Issue 9, "Voicemail is shared", on two real Asterisks with one PostgreSQL store.

A message left through node 1 (a real call with audio, from the carrier through the edge) is in
the store's `voicemessages` and counted by node 2; its email is sent exactly once with both
nodes' mailers running; a newly activated number has its mailbox on every node with no
`voicemail reload`, and a message left in it through node 2 is counted by node 1.

The system is `pbx up --nodes 2`'s, in process: two nodes on their own addresses (same ports,
pbx.cluster), one Kamailio edge in front (the carrier sends to its trunk port from its own
address), each node's agent. Which node takes a call is steered at the edge (the other node
disabled in its dispatcher) and checked in the nodes' logs.
Addresses: PBX_TEST_VM_NET (127.0.6) .1/.2 (nodes), .101 (edge), .201 (carrier); ports
PBX_TEST_VM_PORT_BASE (41000) + 60/38/88/98 (each node), +160/+180 (edge), RTP +500..+999.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import os
import shutil
import time
import wave
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, text

from pbx import cluster, demo
from pbx.asterisk.ami import Ami
from pbx.asterisk.lamp import MessageLamp
from pbx.asterisk.local import LocalAsterisk
from pbx.asterisk.start import start_local_asterisk
from pbx.asterisk.voicemail_mail import VoicemailMailer
from pbx.edge.local import LocalEdge
from pbx.edge.system import edges_down, edges_up, wait_linked
from pbx.services import features, operator
from pbx.services.actor import Actor
from pbx.settings import AsteriskPorts, Settings, SmtpSettings
from pbx.store import PhoneNumber, make_engine, make_session_factory, transaction
from pbx.store.migrate import upgrade
from pbx.store.models import VoicemailMailJob
from tests.calls.ari_fixtures import InThread
from tests.calls.lamp_watch import LampWatch, subscribe
from tests.calls.voice import leave_message
from tests.cluster import Agent, AmiReader, wait_until
from tests.postgres_server import fresh_database
from tests.sip import sipp
from tests.sip.handset import Handset
from tests.sip.instance import settings_for_tests
from tests.world import OUTSIDE_CALLER

pytestmark = pytest.mark.asterisk
PORT_BASE = int(os.environ.get("PBX_TEST_VM_PORT_BASE", "41000"))
NET = os.environ.get("PBX_TEST_VM_NET", "127.0.6")
SYNC_TIMEOUT_S = 60
MAIL_TIMEOUT_S = 30


def vm_cluster(base: Settings, url: str, state_dir: Path) -> Settings:
    """Two nodes and one edge on NET, as pbx.cluster.plan lays them out (node-i: .for_node)."""
    return dataclasses.replace(
        base,
        state_dir=state_dir,
        database_url=url,
        instance=f"{base.instance}-vm",
        nodes=(f"{NET}.1", f"{NET}.2"),
        node_sip_host=f"{NET}.1",
        edge_hosts=(f"{NET}.101",),
        trunk_host=f"{NET}.201",
        ports=AsteriskPorts(sip=PORT_BASE + 60, ami=PORT_BASE + 38, http=PORT_BASE + 88, trunk_outbound=PORT_BASE + 98),
        edge_sip_port=PORT_BASE + 160,
        edge_trunk_port=PORT_BASE + 180,
        rtp_ports=(PORT_BASE + 500, PORT_BASE + 999),
    )


@pytest.fixture(scope="module")
def store_url(postgres_url):
    url = fresh_database(postgres_url, "pbx_voicemail_cluster")
    upgrade(url)
    engine = make_engine(url)
    with transaction(make_session_factory(engine)) as session:
        demo.seed(session)
    engine.dispose()
    return url


@dataclasses.dataclass
class VoicemailCluster:
    plan: Settings
    settings: list[Settings]  # each node's
    locals_: list[LocalAsterisk]
    agents: list[Agent]
    edge: LocalEdge

    @contextlib.contextmanager
    def through(self, index: int) -> Iterator[None]:
        """Calls from the carrier go to node `index` (0-based): the other is disabled at the edge.
        Checks that node `index`, and only it, ran VoiceMail meanwhile."""
        others = [s for i, s in enumerate(self.settings) if i != index]
        marks = [_log_size(local) for local in self.locals_]
        for other in others:
            self.edge.set_node_state(other.node_sip_host, False, other.ports.sip)
        try:
            yield
        finally:
            for other in others:
                self.edge.set_node_state(other.node_sip_host, True, other.ports.sip)
        ran = [_log_since(local, mark).count("VoiceMail(") > 0 for local, mark in zip(self.locals_, marks, strict=True)]
        assert ran == [i == index for i in range(len(self.locals_))], ran


def _log_size(local: LocalAsterisk) -> int:
    return local.log_path.stat().st_size if local.log_path.exists() else 0


def _log_since(local: LocalAsterisk, mark: int) -> str:
    with open(local.log_path, "rb") as log:
        log.seek(mark)
        return log.read().decode(errors="replace")


@pytest.fixture(scope="module")
def nodes(store_url, tmp_path_factory):
    """Two Asterisks on the PostgreSQL store behind one edge, each with its agent in service."""
    state = tmp_path_factory.mktemp("vm-cluster")
    sipp.set_work_root(tmp_path_factory.mktemp("vm-cluster-sipp"))
    plan = vm_cluster(settings_for_tests(state), store_url, state)
    settings = cluster.nodes_of(plan)
    engine = make_engine(store_url)
    factory = make_session_factory(engine)
    locals_: list[LocalAsterisk] = []
    agents: list[Agent] = []
    try:
        edges_down(plan)
        for s in settings:
            local = LocalAsterisk(s)
            local.down()
            for sub in ("lib", "spool"):
                shutil.rmtree(local.instance_dir / sub, ignore_errors=True)
            shutil.rmtree(local.spool_dir, ignore_errors=True)  # the nodes' shared spool (temp files only)
            locals_.append(start_local_asterisk(s, factory))
        (edge,) = edges_up(plan)
        agents = [Agent(s) for s in settings]
        for agent in agents:
            agent.start()
        wait_until(
            lambda: all(a.controller and a.controller.in_service for a in agents),
            SYNC_TIMEOUT_S,
            "both nodes in service",
        )
        for s, local in zip(settings, locals_, strict=True):
            wait_linked(s, local)
        yield VoicemailCluster(plan, settings, locals_, agents, edge)
    finally:
        sipp.kill_all()
        for agent in agents:
            agent.close()
        edges_down(plan)
        for local in locals_:
            local.down()
        engine.dispose()


@pytest.fixture
def store(store_url):
    engine = make_engine(store_url)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def mailers(nodes, store, smtp_sink):
    """Both nodes' voicemail mailers, sending to the sink."""
    settings = nodes.settings
    smtp = SmtpSettings(host="127.0.0.1", port=smtp_sink.port, sender="voicemail@pbx.example")
    running = [
        InThread(lambda s=s: VoicemailMailer(dataclasses.replace(s, smtp=smtp), store)).start() for s in settings
    ]
    wait_until(
        lambda: all(r.service is not None and r.service.ready.is_set() for r in running), 10, "both mailers started"
    )
    yield [r.service for r in running]
    for r in running:
        r.stop()


def number_id(factory, e164: str) -> int:
    with transaction(factory) as session:
        return session.scalar(select(PhoneNumber.id).where(PhoneNumber.e164 == e164))


def mailbox_count(settings: Settings, box: str) -> tuple[int, int]:
    """(new, old) messages of `box` as this node sees them (AMI MailboxCount: it reads, never writes;
    the console's `voicemail show mailbox` gives each message a new msg_id in the store)."""

    async def count(ami: Ami) -> tuple[int, int]:
        reply = await ami.action("MailboxCount", Mailbox=f"{box}@pbx")
        first = reply[0] if isinstance(reply, list) else reply
        return int(first.get("NewMessages", -1)), int(first.get("OldMessages", -1))

    reader = AmiReader([settings])
    try:
        return reader.run(count(reader.amis[0]))
    finally:
        reader.close()


def test_a_message_left_through_node_1_is_heard_through_node_2_and_mailed_once(nodes, store, smtp_sink, mailers):
    settings, locals_ = nodes.settings, nodes.locals_
    box_id = number_id(store, "+442079460204")
    with transaction(store) as session:
        features.update_features(session, Actor.system("test"), box_id, {"voicemail_email": "front.desk@acme.example"})

    with nodes.through(0):
        result = leave_message(settings[0], "+442079460204", OUTSIDE_CALLER, tone_s=3)
        assert result.ok, result

    # The message and its audio are in the store's table, not only in node 1's spool.
    with transaction(store) as session:
        rows = session.execute(
            text("SELECT dir, msg_id, mailboxuser, mailboxcontext, length(recording) AS size FROM voicemessages")
        ).all()
    assert len(rows) == 1, rows
    (row,) = rows
    assert (row.mailboxuser, row.mailboxcontext) == (f"n{box_id}", "pbx") and row.dir.endswith("/INBOX")
    assert row.size > 16000  # ~3 s of 8 kHz 16-bit PCM
    # Node 2 sees it (its own AMI), and plays it from the store: VM_INFO on node 2 counts it too.
    assert mailbox_count(settings[1], f"n{box_id}") == (1, 0)
    assert mailbox_count(settings[0], f"n{box_id}") == (1, 0)

    # Exactly one email, with both mailers running and each scanning everything again.
    mails = smtp_sink.wait(1, timeout=MAIL_TIMEOUT_S)
    assert len(mails) == 1
    for mailer in mailers:
        mailer.scan(None)
        mailer.work()
    time.sleep(2)
    assert len(smtp_sink.messages) == 1
    (audio,) = list(smtp_sink.messages[0].iter_attachments())
    with wave.open(io.BytesIO(audio.get_content())) as recording:
        assert 1.5 <= recording.getnframes() / recording.getframerate() <= 5
    with transaction(store) as session:
        jobs = session.scalars(select(VoicemailMailJob)).all()
        assert [(j.msg_id, j.outcome, j.attempts) for j in jobs] == [(row.msg_id, "sent", 1)]
    for local in locals_:
        problems = [
            line
            for line in local.log_path.read_text(errors="replace").splitlines()
            if "odbc" in line.lower() and ("ERROR" in line or "WARNING" in line)
        ]
        assert problems == [], problems


def test_a_new_number_has_its_mailbox_on_every_node_with_no_voicemail_reload(nodes, store, monkeypatch):
    settings, locals_, agents = nodes.settings, nodes.locals_, nodes.agents
    commands: Counter[str] = Counter()
    original = Ami.command

    async def recording(self: Ami, cmd: str) -> str:
        commands[cmd] += 1
        return await original(self, cmd)

    monkeypatch.setattr(Ami, "command", recording)
    new_id = number_id(store, "+442079460205")  # reserved in the demo
    before = locals_[1].command("voicemail show users for pbx")
    assert f"n{new_id} " not in before
    started = time.monotonic()
    with transaction(store) as session:
        operator.activate_number(session, Actor.system("test"), new_id)

    def has_box() -> bool:
        return all(f"n{new_id}" in local.command("voicemail show users for pbx") for local in locals_)

    wait_until(has_box, 10, "the new mailbox on both nodes")
    elapsed = time.monotonic() - started
    wait_until(lambda: all(a.controller.in_service for a in agents), SYNC_TIMEOUT_S, "agents caught up")
    assert not [c for c in commands if "voicemail" in c], commands
    assert not any(
        "voicemail" in c
        for local in locals_
        for c in local.log_path.read_text(errors="replace").splitlines()
        if "reload" in c.lower()
    )
    print(f"new mailbox visible on both nodes after {elapsed * 1000:.0f} ms")
    # And a message can be left in it, through node 2.
    with nodes.through(1):
        result = leave_message(settings[1], "+442079460205", OUTSIDE_CALLER, tone_s=2)
        assert result.ok, result
    assert mailbox_count(settings[0], f"n{new_id}") == (1, 0)


def test_r41_the_lamp_follows_a_box_whatever_node_takes_the_message(nodes, store):
    """R41 in the cluster: a message left through node 2 lights the lamp (node 2's agent sees
    MessageWaiting); a SUBSCRIBE answered by whichever node reads the count from the store."""
    settings = nodes.settings
    alice_id = number_id(store, "+442079460201")
    with transaction(store) as session:
        features.update_features(session, Actor.system("test"), alice_id, {"dnd": True})
        handset = session.get(PhoneNumber, alice_id).handset
        phone_id, password = handset.sip_username, handset.sip_password
    wait_until(lambda: all(a.controller.in_service for a in nodes.agents), SYNC_TIMEOUT_S, "agents caught up")
    time.sleep(1)  # both agents applied the DND change (in service: nothing after their cursors)
    lamps = [InThread(lambda s=s: MessageLamp(s, store)).start() for s in settings]
    wait_until(lambda: all(r.service is not None and r.service.listening.is_set() for r in lamps), 10, "lamps up")
    phone = Handset(settings[0], phone_id, password)
    phone.register()
    watch = LampWatch(phone.port)
    try:
        with nodes.through(1):
            assert leave_message(settings[1], "+442079460201", OUTSIDE_CALLER, tone_s=2).ok
        on = watch.wait_for("yes")
        assert on is not None, [m.body for m in watch.notifies]
        assert "Voice-Message: 1/0 (0/0)" in on.body
        assert [lamp.service.sent for lamp in lamps] == [0, 1]  # driven by the node that had the event
        watch.close()
        code, received, diagnostics = subscribe(settings[0], phone_id, password, phone.port)
        assert code == 0, diagnostics
        (notify,) = [m for m in received if m.method == "NOTIFY"]
        assert "Messages-Waiting: yes" in notify.body and "Voice-Message: 1/0 (0/0)" in notify.body
    finally:
        watch.close()
        phone.register(expires=0)
        for lamp in lamps:
            lamp.stop()
