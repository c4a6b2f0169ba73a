"""R35: the pure rendering of a main number's handling into the AstDB keys [pbx-main] reads."""

from __future__ import annotations

from pbx.asterisk.main_number_keys import MainHandlingView, main_number_keys, render_closed, render_hours


def test_r35_weekly_hours_become_gotoiftime_specs_with_an_inclusive_end_minute():
    weekly = {
        "fri": (("09:00", "16:00"),),
        "mon": (("13:30", "17:00"), ("09:00", "12:30")),
        "sun": (("10:00", "24:00"),),
    }
    assert render_hours(weekly) == ("09:00-12:29,mon,*,*&13:30-16:59,mon,*,*&09:00-15:59,fri,*,*&10:00-23:59,sun,*,*")


def test_r35_no_hours_render_nothing():
    assert render_hours({}) == ""
    assert render_closed(()) == ""


def test_r35_closed_days_are_a_comma_fenced_list_of_dates():
    assert render_closed(("2027-01-01", "2026-12-25")) == ",2026-12-25,2027-01-01,"


def test_r35_main_number_keys():
    view = MainHandlingView(
        strategy="in_order",
        members=((12, 20), (15, 5)),
        out_of_hours="+447400123456",
        greeting="0123456789ab",
        timezone="Europe/London",
        weekly={"mon": (("09:00", "17:00"),)},
        closed_days=("2026-12-25",),
    )
    assert main_number_keys(7, view) == {
        "num/7/hunt": "order",
        "num/7/members": "12:20&15:5",
        "num/7/ooh": "+447400123456",
        "num/7/greet": "g7-0123456789ab",
        "num/7/tz": "Europe/London",
        "num/7/hours": "09:00-16:59,mon,*,*",
        "num/7/closed": ",2026-12-25,",
    }


def test_r35_no_members_no_hunt_and_no_zone_always_open():
    keys = main_number_keys(3, MainHandlingView(strategy="ring_all"))
    assert keys["num/3/hunt"] == "" and keys["num/3/tz"] == "" and keys["num/3/hours"] == ""
    assert keys["num/3/ooh"] == "vm" and keys["num/3/greet"] == ""
