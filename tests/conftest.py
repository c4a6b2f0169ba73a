"""Session fixtures shared by the whole suite.

`asterisk` starts the real test Asterisk once per session through the same
LocalAsterisk code as `pbx asterisk up`. When Asterisk cannot be provisioned
the tests that need it FAIL, never skip: a green run must mean the calls ran.
"""
from __future__ import annotations

import shutil

import pytest

from pbx.asterisk.local import LocalAsterisk
from pbx.settings import Settings
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
    try:
        # Fresh every session: current repo config, empty AstDB and spool, new log.
        local.down()
        for state in ("lib", "spool"):
            shutil.rmtree(local.instance_dir / state, ignore_errors=True)
        local.up()
    except Exception as error:  # provisioning or boot: fail loudly, never skip
        local.down()
        pytest.fail(f"the test Asterisk could not be started: {error}", pytrace=False)
    yield AsteriskUnderTest(local)
    sipp.kill_all()
    local.down()


@pytest.fixture(autouse=True)
def _clean_calls(request):
    """After each test: kill its sipp processes and, if it used Asterisk, hang up all channels."""
    yield
    sipp.kill_all()
    if "asterisk" in request.fixturenames:
        request.getfixturevalue("asterisk").hangup_all()
