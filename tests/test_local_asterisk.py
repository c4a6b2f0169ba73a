"""The local Asterisk and the sipp harness, proved with real calls.

The dialplan here is written by the test itself (not rendered from the store): two
handsets and the carrier, through the test system's SIP edge, and a few extensions. It
shows that Asterisk boots from asterisk-conf/, that handsets register and
call, and that what a handset receives is recorded faithfully.
"""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from pbx.asterisk.ami import Ami, check_value, run_ami
from pbx.asterisk.local import LocalAsterisk
from pbx.asterisk.render import render_pjsip
from pbx.settings import AsteriskPorts
from pbx.store import Handset as StoreHandset
from pbx.store import Operator, Site, make_engine, make_session_factory, transaction
from tests.sip.call import place_call
from tests.sip.handset import Handset, OutsideWorld
from tests.world import reset_store

pytestmark = pytest.mark.asterisk

PASSWORDS = {"desk-1": "desk-1-secret", "desk-2": "desk-2-secret"}
DID = "+442070000001"
CALLER = "+447700900123"

# The node's pjsip_pbx.conf is rendered from the settings (the edge endpoints); only its
# context is this module's: handsets and the carrier come through the edge, which says
# who calls in X-PBX-Handset / X-PBX-Trunk.
DIALPLAN = """
[lt-from-edge]
exten => _[0-9+]!,1,Set(PHONE=${PJSIP_HEADER(read,X-PBX-Handset)})
 same => n,GotoIf($["${PHONE}" = ""]?trunk)
 same => n,GotoIf(${DIALPLAN_EXISTS(lt-handsets,${EXTEN},1)}?lt-handsets,${EXTEN},1)
 same => n,Hangup(1)
 same => n(trunk),GotoIf($["${PJSIP_HEADER(read,X-PBX-Trunk)}" = ""]?refuse)
 same => n,GotoIf(${DIALPLAN_EXISTS(lt-from-trunk,${EXTEN},1)}?lt-from-trunk,${EXTEN},1)
 same => n,Hangup(1)
 same => n(refuse),Hangup(21)

[lt-handsets]
; The caller ID is the node's, from the edge's identity: never what the phone sent.
exten => 201,1,Set(CALLERID(num)=20${PHONE:-1})
 same => n,Set(CALLERID(name)=Desk ${PHONE:-1})
 same => n,Dial(PJSIP/desk-2@pbx-edge-1,10)
 same => n,Hangup()
exten => 300,1,Answer()
 same => n,Read(DIGITS,,0,,1,10)
 same => n,Set(DB(lttest/digits)=${DIGITS})
 same => n,Dial(PJSIP/${DIGITS}@pbx-edge-1-trunk,10,b(pbx-edge-headers^trunk^1(@CARRIER@)))
 same => n,Hangup()
exten => _9XXXX.,1,Dial(PJSIP/${EXTEN:1}@pbx-edge-1-trunk,10,b(pbx-edge-headers^trunk^1(@CARRIER@)))
 same => n,Hangup()

[lt-from-trunk]
exten => @DID@,1,Dial(PJSIP/desk-1@pbx-edge-1,10)
 same => n,Hangup()
"""


@pytest.fixture(scope="module")
def pbx(asterisk):
    """The test Asterisk with this module's tiny config loaded."""
    s = asterisk.settings
    # The edge authenticates desk-1 and desk-2 against the session's store.
    engine = make_engine(s.database_url)
    reset_store(engine)
    factory = make_session_factory(engine)
    with transaction(factory) as session:
        site = Site(operator=Operator(name="Local test"), name="Desk room")
        session.add_all(
            [StoreHandset(phone_id=name, site=site, sip_password=password) for name, password in PASSWORDS.items()]
        )
    engine.dispose()
    pjsip = render_pjsip(None, s).replace("context=pbx-from-edge", "context=lt-from-edge")
    dialplan = DIALPLAN.replace("@DID@", DID).replace("@CARRIER@", s.trunk_name)
    # Our extensions_pbx.conf replaces the rendered one that dialplan/pbx.conf includes.
    asterisk.load_config(
        {"pjsip_pbx.conf": pjsip, "extensions_pbx.conf": dialplan}, ignore=("tries to include nonexistent context",)
    )
    return asterisk


def test_boots_without_errors_and_reports_status(asterisk):
    # Only the boot: later tests may provoke errors on purpose (calls to unregistered handsets).
    boot = asterisk.local.log_path.read_text().split("Asterisk Ready.")[0]
    assert [line for line in boot.splitlines() if "ERROR[" in line] == []
    status = asterisk.local.status()
    assert status["running"] and status["pid"]
    assert "Asterisk 22" in status["version"]
    assert status["ports"]["sip"] == asterisk.settings.ports.sip


def test_up_twice_is_idempotent(asterisk):
    pid = asterisk.local.status()["pid"]
    LocalAsterisk(asterisk.settings).up()
    assert asterisk.local.status()["pid"] == pid


def test_down_stops_and_up_starts_again(asterisk, tmp_path):
    """A second instance on other ports runs beside the session one."""
    ports = AsteriskPorts(sip=15160, ami=15138, http=18188, trunk_outbound=15198)
    settings = dataclasses.replace(asterisk.settings, instance="test-lifecycle", ports=ports, state_dir=tmp_path)
    local = LocalAsterisk(settings)
    try:
        local.up()
        first = local.status()
        assert first["running"]
        local.down()
        assert not local.is_running() and local.status()["pid"] is None
        local.down()  # no-op when stopped
        local.up()
        assert local.status()["pid"] != first["pid"]
        assert asterisk.local.is_running()
    finally:
        local.down()
    assert not local.is_running()


def test_handset_calls_handset_and_the_invite_is_recorded(pbx):
    with Handset(pbx.settings, "desk-2", PASSWORDS["desk-2"], hold=5) as desk2:
        result = place_call(
            pbx.settings, "201", caller="desk-1", password=PASSWORDS["desk-1"], caller_name="Typed By Caller", hold=0.5
        )
        assert result.ok, result
        assert desk2.wait(10) == 0
    [invite] = desk2.invites
    assert invite.request_user == "desk-2"
    assert invite.from_.display == "Desk 1"  # the endpoint's caller ID, not what the phone sent
    assert invite.from_.user == "201"
    assert invite.to.user == "desk-2"


def test_trunk_call_rings_the_handset(pbx):
    with Handset(pbx.settings, "desk-1", PASSWORDS["desk-1"], hold=0.5) as desk1:
        result = place_call(pbx.settings, DID, caller=CALLER, trunk=True, hold=5)
        assert result.ok, result
        assert desk1.wait(10) == 0
    [invite] = desk1.invites
    assert invite.from_.user == CALLER


def test_only_the_carriers_address_is_a_trunk(pbx):
    """The edge knows the carrier by its source address: from anywhere else, no call."""
    result = place_call(
        pbx.settings,
        DID,
        caller=CALLER,
        trunk=True,
        expect=403,
        source="127.0.0.1",
        headers={"X-PBX-Trunk": pbx.settings.trunk_name},
        timeout=10,
    )
    assert result.status == 403, result


def test_unknown_number_gets_404(pbx):
    result = place_call(pbx.settings, "555", caller="desk-1", password=PASSWORDS["desk-1"], expect=404)
    assert result.ok, result


def test_busy_handset_gives_486(pbx):
    with Handset(pbx.settings, "desk-2", PASSWORDS["desk-2"], mode="busy") as desk2:
        result = place_call(pbx.settings, "201", caller="desk-1", password=PASSWORDS["desk-1"], expect=486)
        assert result.ok, result
        assert desk2.wait(10) == 0
    assert len(desk2.invites) == 1


def test_outside_world_receives_an_outgoing_call(pbx):
    with OutsideWorld(pbx.settings, hold=5) as world:
        result = place_call(pbx.settings, "902079460000", caller="desk-1", password=PASSWORDS["desk-1"])
        assert result.ok, result
        assert world.wait(10) == 0
    [invite] = world.invites
    assert invite.request_user == "02079460000"


def test_repeated_dtmf_digits_arrive_intact(pbx):
    """The dialplan reads the digits, keeps them in AstDB (read over AMI) and dials them out.
    (AstDB, not a UserEvent: pbx's AMI user hears no `user` events, docs/security.md §1.)"""

    async def call_and_read(ami: Ami):
        await ami.db_deltree("lttest")
        result = await asyncio.to_thread(
            place_call, pbx.settings, "300", caller="desk-1", password=PASSWORDS["desk-1"], dtmf="1123#", hold=1
        )
        return result, await ami.db_get("lttest", "digits")

    with OutsideWorld(pbx.settings, hold=5) as world:
        result, digits = run_ami(pbx.settings, call_and_read)
        assert result.ok, result
        world.wait(10)
    assert digits == "1123"
    assert [i.request_user for i in world.invites] == ["1123"]


def test_ami_refuses_cr_lf_and_round_trips_astdb(pbx):
    with pytest.raises(ValueError):
        check_value("x\r\nAction: Command")

    async def astdb(ami: Ami):
        with pytest.raises(ValueError):
            await ami.db_put("pbxtest", "key", "value\nAction: Originate")
        with pytest.raises(ValueError):
            await ami.db_put("pbxtest", "k\rey", "value")
        await ami.db_put("pbxtest", "a/b", "one two")
        await ami.db_put("pbxtest", "c", "x: y ")
        got, tree = await ami.db_get("pbxtest", "a/b"), await ami.db_get_tree("pbxtest")
        await ami.db_deltree("pbxtest")
        return got, tree, await ami.db_get("pbxtest", "a/b"), await ami.db_get_tree("pbxtest")

    value, tree, after, emptied = run_ami(pbx.settings, astdb)
    assert value == "one two" and after is None
    assert tree == {"a/b": "one two", "c": "x: y "}
    assert emptied == {}
