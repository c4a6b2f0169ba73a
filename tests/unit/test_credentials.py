"""Issue 10 item 1: the AMI and ARI secrets are never a fixed default (docs/security.md §1)."""

from __future__ import annotations

import dataclasses
import stat

from pbx import credentials
from pbx.asterisk.local import AMI_READ, AMI_WRITE, LocalAsterisk
from pbx.settings import Settings


def settings_in(state_dir, **env: str) -> Settings:
    return Settings.from_env({"PBX_STATE_DIR": str(state_dir), **env})


def test_secrets_are_generated_per_installation_into_files_of_mode_0600(tmp_path):
    one, two = settings_in(tmp_path / "one"), settings_in(tmp_path / "two")

    first = (credentials.ami_secret(one), credentials.ari_password(one))
    second = (credentials.ami_secret(two), credentials.ari_password(two))

    for state_dir, values in ((tmp_path / "one", first), (tmp_path / "two", second)):
        for name, value in zip((credentials.AMI_SECRET_FILE, credentials.ARI_PASSWORD_FILE), values, strict=True):
            path = state_dir / name
            assert stat.S_IMODE(path.stat().st_mode) == 0o600
            assert path.read_text().strip() == value and len(value) >= 32
    assert first[0] != first[1]
    assert set(first).isdisjoint(second)  # two installations, two sets of secrets
    assert (credentials.ami_secret(one), credentials.ari_password(one)) == first  # read back, not regenerated
    assert not any(p.name.startswith(".") for p in (tmp_path / "one").iterdir())  # no temporary file left


def test_a_secret_set_in_the_settings_wins_and_nothing_is_generated(tmp_path):
    settings = settings_in(tmp_path, PBX_AMI_SECRET="amiFromSettings1", PBX_ARI_PASSWORD="ariFromSettings1")

    assert credentials.ami_secret(settings) == "amiFromSettings1"
    assert credentials.ari_password(settings) == "ariFromSettings1"
    assert not (tmp_path / credentials.AMI_SECRET_FILE).exists()


def test_a_secret_file_left_readable_by_others_is_closed(tmp_path):
    (tmp_path / credentials.AMI_SECRET_FILE).write_text("abc123\n")
    (tmp_path / credentials.AMI_SECRET_FILE).chmod(0o644)

    assert credentials.ami_secret(settings_in(tmp_path)) == "abc123"
    assert stat.S_IMODE((tmp_path / credentials.AMI_SECRET_FILE).stat().st_mode) == 0o600


def test_asterisk_is_configured_with_the_generated_secrets_least_privilege_and_the_permit_list(tmp_path):
    settings = dataclasses.replace(settings_in(tmp_path), ami_permit=("10.0.0.7",), asterisk_host="127.0.0.1")

    fragments = LocalAsterisk(settings)._instance_fragments()

    manager = fragments["manager_instance.conf"]
    assert f"secret = {credentials.ami_secret(settings)}\n" in manager
    assert f"password = {credentials.ari_password(settings)}\n" in fragments["ari_instance.conf"]
    assert "pbx-ami-secret" not in manager and "pbx-ari-secret" not in fragments["ari_instance.conf"]
    assert f"read = {AMI_READ}\nwrite = {AMI_WRITE}\n" in manager
    assert not {"all", "command", "config", "originate"} & set(AMI_READ.split(",") + AMI_WRITE.split(","))
    permits = [line for line in manager.splitlines() if line.startswith(("permit", "deny"))]
    assert permits == [
        "deny = 0.0.0.0/0.0.0.0",
        "permit = 127.0.0.1/255.255.255.255",
        "permit = 10.0.0.7/255.255.255.255",
    ]


def test_the_ami_permit_list_is_read_from_the_settings(tmp_path):
    assert settings_in(tmp_path, PBX_AMI_PERMIT="10.0.0.7, 10.0.0.8").ami_permit == ("10.0.0.7", "10.0.0.8")
