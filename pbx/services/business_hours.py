"""R35: a site's business hours: time zone, weekly open intervals, closed days.

The operator sets them; every main number at the site follows them. "Open or closed now"
is never decided here: the schedule is rendered into AstDB (pbx.asterisk.main_number_keys)
and the dialplan evaluates it on each call ([pbx-main-hours]: GotoIfTime in the site's time
zone, closed days against STRFTIME's local date), so a change is live on the next call
with no reload and no Python per call.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from itertools import pairwise
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlalchemy import select
from sqlalchemy.orm import Session

from pbx.services import audit, outbox
from pbx.services.actor import Actor
from pbx.services.errors import InvalidInput
from pbx.services.lookup import get_site
from pbx.store.models import NumberStatus, PhoneNumber, SiteHours
from pbx.validation import FieldChecks

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_INTERVALS_PER_DAY = 4  # the dialplan tries each interval in turn: a short, bounded loop
MAX_CLOSED_DAYS = 100
INTERVAL_RE = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])-(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$")
# An IANA name as AstDB and GotoIfTime receive it: letters, digits, _ + - and /.
ZONE_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_+/-]{0,63}$")

Interval = tuple[str, str]  # ("09:00", "17:00"): the end minute is not open


@dataclass(frozen=True)
class Hours:
    timezone: str
    weekly: Mapping[str, tuple[Interval, ...]]
    closed_days: tuple[str, ...]


def minutes(hhmm: str) -> int:
    hours, mins = hhmm.split(":")
    return int(hours) * 60 + int(mins)


def check_timezone(value: str) -> str:
    """An IANA time zone zoneinfo knows ("Europe/London"), refused otherwise."""
    zone = (value or "").strip()
    if not ZONE_RE.fullmatch(zone) or zone not in available_timezones():
        raise InvalidInput("timezone", f"{value!r} is not a known time zone (use an IANA name such as Europe/London)")
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise InvalidInput("timezone", f"{value!r} is not a usable time zone") from error
    return zone


def check_day(day: str, intervals: Iterable[str]) -> tuple[Interval, ...]:
    """One weekday's open intervals "HH:MM-HH:MM", each ending after it starts, none overlapping."""
    field = f"hours_{day}"
    parsed: list[Interval] = []
    for raw in intervals:
        text = raw.strip().replace(" ", "")
        if not INTERVAL_RE.fullmatch(text):
            raise InvalidInput(field, f"{raw!r} is not an interval such as 09:00-17:30")
        start, end = text.split("-")
        if minutes(end) <= minutes(start):
            raise InvalidInput(field, f"{text} ends before it starts (an interval cannot cross midnight)")
        parsed.append((start, end))
    if len(parsed) > MAX_INTERVALS_PER_DAY:
        raise InvalidInput(field, f"at most {MAX_INTERVALS_PER_DAY} open intervals a day")
    parsed.sort(key=lambda i: minutes(i[0]))
    for before, after in pairwise(parsed):
        if minutes(after[0]) < minutes(before[1]):
            raise InvalidInput(field, f"{before[0]}-{before[1]} and {after[0]}-{after[1]} overlap")
    return tuple(parsed)


def check_weekly(weekly: Mapping[str, Iterable[str]]) -> dict[str, tuple[Interval, ...]]:
    unknown = [d for d in weekly if d not in WEEKDAYS]
    if unknown:
        raise InvalidInput("hours", f"unknown weekday {unknown[0]!r}: use {', '.join(WEEKDAYS)}")
    return {day: check_day(day, weekly[day]) for day in WEEKDAYS if day in weekly and list(weekly[day])}


def check_closed_days(days: Iterable[str]) -> tuple[str, ...]:
    """Dates the site is closed all day, YYYY-MM-DD."""
    clean = set()
    for raw in days:
        try:
            clean.add(date.fromisoformat(raw.strip()).isoformat())
        except ValueError as error:
            raise InvalidInput("closed_days", f"{raw!r} is not a date such as 2026-12-25") from error
    if len(clean) > MAX_CLOSED_DAYS:
        raise InvalidInput("closed_days", f"at most {MAX_CLOSED_DAYS} closed days")
    return tuple(sorted(clean))


def check_hours(timezone: str, weekly: Mapping[str, Iterable[str]], closed_days: Iterable[str]) -> Hours:
    """Every field checked, every refusal reported at once (FieldErrors)."""
    checks = FieldChecks()
    zone = checks.run(check_timezone, timezone)
    week = checks.run(check_weekly, weekly)
    closed = checks.run(check_closed_days, closed_days)
    checks.done()
    assert zone is not None and week is not None and closed is not None
    return Hours(zone, week, closed)


def hours_of(row: SiteHours | None) -> Hours | None:
    if row is None:
        return None
    weekly = {day: tuple((s, e) for s, e in spans) for day, spans in json.loads(row.weekly or "{}").items()}
    return Hours(row.timezone, weekly, tuple(json.loads(row.closed_days or "[]")))


def set_site_hours(
    session: Session,
    actor: Actor,
    site_id: int,
    timezone: str,
    weekly: Mapping[str, Iterable[str]],
    closed_days: Iterable[str] = (),
) -> Hours:
    """R35: the operator sets a site's business hours; its main numbers follow on their next call."""
    actor.require_operator()
    site = get_site(session, site_id)
    hours = check_hours(timezone, weekly, closed_days)
    row = site.hours or SiteHours(site_id=site.id)
    row.timezone = hours.timezone
    row.weekly = json.dumps({d: [list(i) for i in spans] for d, spans in hours.weekly.items()})
    row.closed_days = json.dumps(list(hours.closed_days))
    site.hours = row
    _queue_main_numbers(session, site.id)
    audit.record(session, actor, "site.hours", site=site.name, timezone=hours.timezone, closed=list(hours.closed_days))
    return hours


def clear_site_hours(session: Session, actor: Actor, site_id: int) -> None:
    """R35: no business hours: the site's main numbers are always open."""
    actor.require_operator()
    site = get_site(session, site_id)
    if site.hours is not None:
        site.hours = None
        _queue_main_numbers(session, site.id)
        audit.record(session, actor, "site.hours_cleared", site=site.name)


def _queue_main_numbers(session: Session, site_id: int) -> None:
    session.flush()
    for number in session.scalars(select(PhoneNumber).where(PhoneNumber.site_id == site_id, PhoneNumber.is_main)):
        if number.status is not NumberStatus.RESERVED:
            outbox.number_changed(session, number)
