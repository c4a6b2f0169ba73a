"""R44: a chroot cached before a package was added gets exactly the missing packages installed."""

from __future__ import annotations

from pbx.asterisk import provision


def test_r44_a_chroot_built_before_hold_music_gets_it_on_the_next_start(tmp_path):
    (tmp_path / provision.COMPLETE_MARKER).write_text(
        "ok\npackages:asterisk,asterisk-core-sounds-en-gsm,asterisk-modules,odbc-postgresql,unixodbc\n"
    )
    have = provision.installed_packages(tmp_path)
    assert provision.missing_packages(have) == ["asterisk-moh-opsound-gsm"]
    assert provision.missing_packages(set(provision.PACKAGES)) == []


def test_r44_hold_music_is_missing_from_a_chroot_with_only_asterisk():
    assert "asterisk-moh-opsound-gsm" in provision.missing_packages({"asterisk", "asterisk-modules"})
