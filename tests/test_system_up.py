"""The README's run command, end to end: `pbx up`, then a handset from `pbx demo --json` calls an extension."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import urllib.request

import pytest

from pbx.settings import AsteriskPorts
from tests.sip.call import place_call
from tests.sip.handset import Handset
from tests.sip.instance import settings_env

OFFSET = 300  # its own ports, beside the session's test system (PBX_TEST_*)


def _pbx(env: dict[str, str], *args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pbx.cli", *args], env=env, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture
def system(asterisk_settings, tmp_path):
    p = asterisk_settings.ports
    ports = AsteriskPorts(
        sip=p.sip + OFFSET, ami=p.ami + OFFSET, http=p.http + OFFSET, trunk_outbound=p.trunk_outbound + OFFSET
    )
    settings = dataclasses.replace(
        asterisk_settings,
        state_dir=tmp_path,
        instance=f"{asterisk_settings.instance}-up",
        ports=ports,
        database_url=f"sqlite:///{tmp_path / 'pbx.db'}",
        web_port=asterisk_settings.web_port + OFFSET + ports.sip % 1000,
        edge_sip_port=asterisk_settings.edge_sip_port + OFFSET,
        edge_trunk_port=asterisk_settings.edge_trunk_port + OFFSET,
    )
    env = {**os.environ, **settings_env(settings), "PBX_WEB_PORT": str(settings.web_port)}
    up = _pbx(env, "up")
    try:
        assert up.returncode == 0, up.stderr
        yield settings, env
    finally:
        down = _pbx(env, "down")
        assert down.returncode == 0, down.stderr


def test_r32_pbx_up_then_a_demo_handset_calls_an_extension(system):
    settings, env = system
    data = json.loads(_pbx(env, "demo", "--json").stdout)
    # Handsets register to the edge; the carrier sends from its address to the edge's trunk port.
    assert data["sip"] == {"host": settings.edge_hosts[0], "port": settings.edge_sip_port}
    assert data["trunk"]["inbound"] == {
        "host": settings.edge_hosts[0],
        "port": settings.edge_trunk_port,
        "source": settings.trunk_host,
        "headers": {},
    }
    assert data["trunk"]["outbound"] == {"host": settings.trunk_host, "port": settings.ports.trunk_outbound}
    with urllib.request.urlopen(data["web"]["url"], timeout=10) as page:
        assert page.status == 200
    callee = next(n for n in data["numbers"] if n["handset"] and n["occupier"] == "Acme Ltd")
    caller = next(
        n for n in data["numbers"] if n["handset"] and n["occupier"] == "Acme Ltd" and n["number"] != callee["number"]
    )
    creds = {h["phone_id"]: h for h in data["handsets"]}
    callee_desk, caller_desk = creds[callee["handset"]], creds[caller["handset"]]
    with Handset(settings, callee_desk["sip_username"], callee_desk["sip_password"]) as desk:
        result = place_call(
            settings, callee["extension"], caller=caller_desk["sip_username"], password=caller_desk["sip_password"]
        )
        assert result.ok, result
        desk.wait_invites(1, 10)
    assert desk.invites[0].from_.user == caller["extension"]


def test_pbx_down_stops_everything(system):
    _settings, env = system
    assert _pbx(env, "asterisk", "status").returncode == 0
    assert _pbx(env, "down").returncode == 0
    status = _pbx(env, "asterisk", "status")
    assert status.returncode == 1 and json.loads(status.stdout)["running"] is False
