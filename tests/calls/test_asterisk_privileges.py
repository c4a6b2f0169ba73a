"""Issue 10 item 1: what pbx's AMI login may do, and who Asterisk runs as (docs/security.md §1).

Against the real test Asterisk, with the settings pbx itself uses.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pbx.asterisk.ami import Ami, AmiError, run_ami
from pbx.asterisk.local import RUN_AS, SECRET_FILES

# Files holding a secret: the AMI and ARI logins (and, on PostgreSQL, the store's password).
SECRET_CONFIG = ("pjsip_pbx.conf", "manager_instance.conf", "ari_instance.conf", "res_odbc.conf", "pjsip.conf")


def refusal(settings, action: str, **fields: str) -> str:
    async def send(ami: Ami) -> str:
        with pytest.raises(AmiError) as refused:
            await ami.action(action, **fields)
        return str(refused.value)

    return run_ami(settings, send)


@pytest.mark.parametrize("filename", SECRET_CONFIG)
def test_ami_getconfig_is_refused_for_every_config_file(asterisk, filename):
    assert "escalated privileges" in refusal(asterisk.settings, "GetConfig", Filename=filename)
    assert "escalated privileges" in refusal(asterisk.settings, "GetConfigJSON", Filename=filename)


def test_ami_cli_commands_and_config_changes_are_refused(asterisk):
    assert "Permission denied" in refusal(asterisk.settings, "Command", Command="core show version")
    assert "Permission denied" in refusal(
        asterisk.settings,
        "UpdateConfig",
        SrcFilename="extensions.conf",
        DstFilename="extensions.conf",
        **{"Action-000000": "NewCat", "Cat-000000": "owned"},
    )
    assert "Permission denied" in refusal(asterisk.settings, "Originate", Channel="Local/1@pbx-from-edge")


def test_ami_still_does_what_pbx_needs(asterisk):
    async def astdb(ami: Ami):
        await ami.wait_fully_booted(5)
        await ami.db_put("pbxprivtest", "a", "1")
        tree = await ami.db_get_tree("pbxprivtest")
        await ami.db_deltree("pbxprivtest")
        return tree, await ami.reload_module("pbx_config.so")

    assert run_ami(asterisk.settings, astdb) == ({"a": "1"}, "pbx_config.so")


def test_asterisk_runs_as_an_unprivileged_user(asterisk):
    pid = asterisk.local._read_pid()
    assert pid is not None
    status = Path(f"/proc/{pid}/status").read_text()
    uids = next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1:]
    gids = next(line for line in status.splitlines() if line.startswith("Gid:")).split()[1:]
    assert all(int(uid) != 0 for uid in uids), status
    assert all(int(gid) != 0 for gid in gids), status
    assert "-U" in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    passwd = (asterisk.local.install.root or Path("/")) / "etc/passwd"
    run_as = next(line.split(":") for line in passwd.read_text().splitlines() if line.startswith(f"{RUN_AS}:"))
    assert int(uids[0]) == int(run_as[2])


def test_the_instances_secret_files_are_not_world_readable(asterisk):
    for name in SECRET_FILES:
        path = asterisk.local.etc_dir / name
        if path.exists():
            assert path.stat().st_mode & 0o007 == 0, name
