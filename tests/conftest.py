"""Session fixtures shared by the whole suite.

`asterisk` starts the real test system once per session through the same code as
`pbx up`: a SIP edge (Kamailio, pbx.edge.system) in front of the Asterisk node
(LocalAsterisk), the edge authenticating handsets against the session's store
(tests/world.py resets that store for each test). Handsets register and call
through the edge; the carrier calls in from its own address. When Asterisk or the
edge cannot be started the tests that need them FAIL, never skip: a green run must
mean the calls ran.
"""

from __future__ import annotations

import shutil

import pytest

from pbx.asterisk.local import LocalAsterisk
from pbx.asterisk.render import render
from pbx.asterisk.snapshot import Snapshot
from pbx.edge.system import edges_down, edges_up, local_edges, wait_linked
from pbx.settings import Settings
from pbx.store.migrate import upgrade
from tests.postgres_server import running_server
from tests.sip import sipp
from tests.sip.instance import AsteriskUnderTest, settings_for_tests


@pytest.fixture(scope="session")
def asterisk_settings(tmp_path_factory) -> Settings:
    """Settings of the test instance ("test", ports 15060/15038/18088/15098)."""
    return settings_for_tests(tmp_path_factory.mktemp("pbx-state"))


@pytest.fixture(scope="session")
def asterisk(asterisk_settings, tmp_path_factory) -> AsteriskUnderTest:
    """The running test Asterisk; stopped at the end of the session."""
    sipp.set_work_root(tmp_path_factory.mktemp("sipp"))
    local = LocalAsterisk(asterisk_settings)
    upgrade(asterisk_settings.database_url)  # the edge reads the credential view from it
    try:
        # Fresh every session: current repo config, empty AstDB and spool, new log.
        edges_down(asterisk_settings)
        local.down()
        for state in ("lib", "spool"):
            shutil.rmtree(local.instance_dir / state, ignore_errors=True)
        # The node's edge endpoints are node config, rendered from the settings alone.
        local.write_files(render(Snapshot((), (), (), ()), asterisk_settings))
        local.up()
        edges_up(asterisk_settings)
        wait_linked(asterisk_settings, local)
    except Exception as error:  # noqa: BLE001 (provisioning or boot: fail loudly, never skip)
        edges_down(asterisk_settings)
        local.down()
        pytest.fail(f"the test Asterisk or its edge could not be started: {error}", pytrace=False)
    yield AsteriskUnderTest(local, local_edges(asterisk_settings))
    sipp.kill_all()
    edges_down(asterisk_settings)
    local.down()


@pytest.fixture(autouse=True)
def _clean_calls(request):
    """After each test: kill its sipp processes and, if it used Asterisk, hang up all channels."""
    yield
    sipp.kill_all()
    if "asterisk" in request.fixturenames:
        request.getfixturevalue("asterisk").hangup_all()


@pytest.fixture(scope="session")
def postgres_url():
    """One real PostgreSQL server for the whole session; tests take a fresh database of their own on it
    (tests.postgres_server.fresh_database). Fails, never skips, without PostgreSQL."""
    with running_server() as url:
        yield url
