"""Settings: read once from the environment; a bad value is one clear error naming its variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from pbx.asterisk.local import LocalAsterisk, asterisk_folders
from pbx.settings import Settings, SettingsError

HOME = {"HOME": "/home/someone"}


def test_defaults_are_one_machine(tmp_path):
    settings = Settings.from_env({"PBX_STATE_DIR": str(tmp_path)})

    assert settings.asterisk_host == "127.0.0.1"
    assert (settings.ports.sip, settings.ports.ami, settings.ports.http) == (5060, 5038, 8088)
    # No fixed secret: empty, generated per installation (pbx.credentials, tests/unit/test_credentials.py).
    assert (settings.ami_user, settings.ami_secret) == ("pbx", "")
    assert (settings.ari_user, settings.ari_password) == ("pbx", "")
    assert settings.ami_permit == ()
    assert settings.database_url == f"sqlite:///{tmp_path / 'pbx.db'}"
    assert settings.secret_key == "" and settings.secure_cookies is False
    assert not settings.smtp.enabled and settings.smtp.port == 25
    local = LocalAsterisk(settings)
    assert asterisk_folders(settings).etc == local.etc_dir
    assert asterisk_folders(settings).voicemail == local.spool_dir / "voicemail" / "pbx"


def test_every_setting_comes_from_its_variable():
    settings = Settings.from_env(
        {
            "PBX_ASTERISK_HOST": "asterisk.internal",
            "PBX_AMI_PORT": "6038",
            "PBX_AMI_USER": "ctl",
            "PBX_AMI_SECRET": "s3cret",
            "PBX_ARI_USER": "stasis",
            "PBX_ARI_PASSWORD": "pw",
            "PBX_ASTERISK_ETC_DIR": "/etc/asterisk",
            "PBX_ASTERISK_SPOOL_DIR": "/var/spool/asterisk",
            "PBX_SECRET_KEY": "k",
            "PBX_WEB_SECURE_COOKIES": "1",
            "PBX_SMTP_HOST": "mail.example",
            "PBX_SMTP_PORT": "587",
            "PBX_SMTP_FROM": "vm@example.com",
            "PBX_SMTP_STARTTLS": "yes",
            "PBX_SMTP_USER": "u",
            "PBX_SMTP_PASSWORD": "p",
            "PBX_TRUNK_HOST": "192.0.2.7",
        }
    )

    assert (settings.asterisk_host, settings.ports.ami) == ("asterisk.internal", 6038)
    assert (settings.ami_user, settings.ami_secret, settings.ari_user, settings.ari_password) == (
        "ctl",
        "s3cret",
        "stasis",
        "pw",
    )
    assert asterisk_folders(settings).etc == Path("/etc/asterisk")
    assert asterisk_folders(settings).voicemail == Path("/var/spool/asterisk/voicemail/pbx")
    assert (settings.secret_key, settings.secure_cookies) == ("k", True)
    smtp = settings.smtp
    assert (smtp.host, smtp.port, smtp.sender, smtp.starttls, smtp.user, smtp.password) == (
        "mail.example",
        587,
        "vm@example.com",
        True,
        "u",
        "p",
    )
    assert settings.trunk_host == "192.0.2.7"


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("PBX_AMI_PORT", "50 38", "port number"),
        ("PBX_SIP_PORT", "abc", "port number"),
        ("PBX_HTTP_PORT", "70000", "port number"),
        ("PBX_SMTP_PORT", "-1", "port number"),
        ("PBX_ASTERISK_HOST", "127.0.0.1 evil", "host name"),
        ("PBX_ASTERISK_HOST", "host\nname", "host name"),
        ("PBX_SMTP_HOST", "mail;example", "host name"),
        ("PBX_SMTP_FROM", "Voicemail <vm@example.com>", "plain address"),
        ("PBX_SMTP_FROM", "vm@example.com\r\nBcc: x@y", "plain address"),
        ("PBX_AMI_SECRET", "a;b", "';'"),
        ("PBX_ARI_PASSWORD", "pw\n", "control characters"),
        ("PBX_ASTERISK_ETC_DIR", "etc/asterisk", "absolute path"),
        ("PBX_WEB_SECURE_COOKIES", "maybe", "1 or 0"),
        ("PBX_INSTANCE", "../dev", "a name"),
        ("PBX_SECRET_KEY", "a\x00b", "control characters"),
        ("PBX_VOICEMAIL_SPOOL", "/var/spool/asterisk/voicemail/pbx", "PBX_ASTERISK_SPOOL_DIR"),
    ],
)
def test_a_bad_value_is_refused_naming_its_variable(variable, value, says):
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({**HOME, variable: value})

    assert refused.value.variable == variable
    assert str(refused.value).startswith(variable) and says in str(refused.value)


def test_the_web_ui_takes_its_key_and_cookie_flags_from_the_settings(tmp_path):
    from pbx.store.migrate import upgrade
    from webui import create_app

    settings = Settings.from_env(
        {"PBX_STATE_DIR": str(tmp_path), "PBX_SECRET_KEY": "from-settings", "PBX_WEB_SECURE_COOKIES": "1"}
    )
    upgrade(settings.database_url)

    app = create_app(settings=settings)

    assert app.config["SECRET_KEY"] == "from-settings"
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["DATABASE_URL"] == settings.database_url


def test_the_node_name_names_this_nodes_cursor_in_the_change_log():
    assert Settings.from_env({}).node_name == "node-1"
    assert Settings.from_env({"PBX_NODE_NAME": "ast-b.2"}).node_name == "ast-b.2"
    for bad in ("two words", "-x", "x" * 101, "a;b"):
        with pytest.raises(SettingsError, match="PBX_NODE_NAME"):
            Settings.from_env({"PBX_NODE_NAME": bad})
