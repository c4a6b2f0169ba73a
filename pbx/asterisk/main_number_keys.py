"""R35: the AstDB keys of a main number's call handling, read by [pbx-main] in dialplan/pbx.conf. Pure.

  num/<id>/hunt     "all" | "order" | "" (no hunt group)
  num/<id>/members  "<member number id>:<ring seconds>&..." in hunt order
  num/<id>/ooh      "vm" (the main number's mailbox) | an extension or E.164 number | ""
  num/<id>/greet    the greeting's sound file name "g<id>-<digest>" (pbx.asterisk.greeting_files) | ""
  num/<id>/tz       the site's IANA time zone; "" when the site has no hours: always open
  num/<id>/hours    the open intervals as GotoIfTime specs "09:00-16:59,mon,*,*&..."
  num/<id>/closed   ",2026-12-25,2027-01-01," the closed dates, matched against the local date

Only main numbers have them. Every value is built from validated tokens (ids, digits, an
E.164 number, HH:MM, weekday names, ISO dates, a zoneinfo name): none holds a character
the dialplan would read as syntax beyond the ',' GotoIfTime is meant to split on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

HUNT_MARK = "h"  # the main_dest field of num/<id>/call when [pbx-main] handles the call
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
STRATEGY_KEYS = {"ring_all": "all", "in_order": "order"}


@dataclass(frozen=True)
class MainHandlingView:
    strategy: str = "ring_all"
    members: tuple[tuple[int, int], ...] = ()  # (number id, ring seconds), in order
    out_of_hours: str = "voicemail"
    greeting: str = ""  # digest, "" none
    timezone: str = ""  # "" the site has no hours
    weekly: Mapping[str, tuple[tuple[str, str], ...]] | None = None
    closed_days: tuple[str, ...] = ()


def _minus_a_minute(hhmm: str) -> str:
    """GotoIfTime's range includes its end minute; ours ("17:00") does not."""
    hours, mins = (int(p) for p in hhmm.split(":"))
    total = hours * 60 + mins - 1
    return f"{total // 60:02d}:{total % 60:02d}"


def render_hours(weekly: Mapping[str, tuple[tuple[str, str], ...]]) -> str:
    """The weekly open intervals as GotoIfTime time specs (times,weekdays,mdays,months), '&' between them."""
    specs = [
        f"{start}-{_minus_a_minute(end)},{day},*,*" for day in WEEKDAYS for start, end in sorted(weekly.get(day, ()))
    ]
    return "&".join(specs)


def render_closed(closed_days: tuple[str, ...]) -> str:
    return f",{','.join(sorted(closed_days))}," if closed_days else ""


def greeting_name(number_id: int, digest: str) -> str:
    return f"g{int(number_id)}-{digest}" if digest else ""


def main_number_keys(number_id: int, view: MainHandlingView) -> dict[str, str]:
    ooh = view.out_of_hours
    keys = {
        "hunt": STRATEGY_KEYS.get(view.strategy, "") if view.members else "",
        "members": "&".join(f"{int(member)}:{int(ring)}" for member, ring in view.members),
        "ooh": "vm" if ooh == "voicemail" else ooh,
        "greet": greeting_name(number_id, view.greeting),
        "tz": view.timezone,
        "hours": render_hours(view.weekly or {}) if view.timezone else "",
        "closed": render_closed(view.closed_days) if view.timezone else "",
    }
    return {f"num/{int(number_id)}/{key}": value for key, value in keys.items()}
