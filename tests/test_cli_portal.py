"""R42: `pbx site portal [set NAME NUMBER | clear NAME]`, the operator's voice portal number per site."""

from __future__ import annotations

from tests.test_cli import assert_one_line_error, demo_db, run_pbx, state  # noqa: F401 (fixtures)

OLD_STREET = "London - Old Street"


def test_r42_site_portal_lists_sets_refuses_and_clears(state):  # noqa: F811
    listed = run_pbx(["site", "portal"], state)
    assert listed.returncode == 0 and f"{OLD_STREET}: none" in listed.stdout.splitlines(), listed.stderr

    done = run_pbx(["site", "portal", "set", OLD_STREET, "+44 20 7946 0999"], state)
    assert done.returncode == 0 and done.stdout.strip() == f"{OLD_STREET}: +442079460999", done.stderr
    taken = run_pbx(["site", "portal", "set", "London - King's Cross", "+442079460999"], state)
    assert "already the portal number of London - Old Street" in assert_one_line_error(taken, 1)
    allocated = run_pbx(["site", "portal", "set", "London - King's Cross", "+442079460201"], state)
    assert "allocated phone number" in assert_one_line_error(allocated, 1)
    assert "not a phone number" in assert_one_line_error(run_pbx(["site", "portal", "set", OLD_STREET, "12"], state), 2)
    assert "no site called" in assert_one_line_error(run_pbx(["site", "portal", "clear", "Nowhere"], state), 1)

    cleared = run_pbx(["site", "portal", "clear", OLD_STREET], state)
    assert cleared.returncode == 0 and cleared.stdout.strip() == f"{OLD_STREET}: none", cleared.stderr
