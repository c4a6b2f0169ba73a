"""R35 for the operator at the command line: a site's business hours, and a main number's
hunt group, out-of-hours destination and greeting.

  pbx site hours SITE [--timezone Z] [--day mon=09:00-12:30,13:30-17:00 ...] [--closed 2026-12-25 ...] [--clear]
  pbx occupier hunt OCCUPIER SITE [--strategy ring_all|in_order] [--member 201:20 ...]
                                  [--out-of-hours voicemail|NUMBER] [--clear]
  pbx occupier greeting upload OCCUPIER SITE FILE      (WAV or MP3)
  pbx occupier greeting remove OCCUPIER SITE

The same services as the API and the console: audited, queued for Asterisk, live on the
next call. Refusals reach main()'s error mapping (bad input exits 2).
"""

from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from pbx.cli.app import App, pass_app
from pbx.services import business_hours, main_greeting, main_number_handling
from pbx.services.actor import Actor
from pbx.services.business_hours import Hours
from pbx.services.errors import InvalidInput, NotFound
from pbx.services.main_number_handling import Handling
from pbx.store import transaction
from pbx.store.models import Occupier, Site

ACTOR = "cli"


def _site(session: Session, name: str) -> Site:
    site = session.scalar(select(Site).where(Site.name == name))
    if site is None:
        raise NotFound(f"There is no site called {name}")
    return site


def _main_id(session: Session, actor: Actor, occupier_name: str, site_name: str) -> int:
    occupier = session.scalar(select(Occupier).where(Occupier.name == occupier_name))
    if occupier is None:
        raise NotFound(f"There is no occupier called {occupier_name}")
    return main_number_handling.main_number_of(session, actor, occupier.id, _site(session, site_name).id).id


def hours_lines(hours: Hours | None) -> list[str]:
    if hours is None:
        return ["hours: none (always open)"]
    lines = [f"time zone: {hours.timezone}"]
    for day in business_hours.WEEKDAYS:
        spans = hours.weekly.get(day, ())
        lines.append(f"  {day}: " + (", ".join(f"{a}-{b}" for a, b in spans) or "closed"))
    lines.append("closed days: " + (", ".join(hours.closed_days) or "none"))
    return lines


def handling_lines(shown: Handling) -> list[str]:
    members = ", ".join(f"{m.extension} ({m.ring_s} s)" for m in shown.members) or "none"
    return [
        f"main number {shown.e164}",
        f"hunt: {shown.strategy}: {members}",
        f"out of hours / no answer: {shown.out_of_hours}",
        f"greeting: {shown.greeting or 'none'}",
        *hours_lines(shown.hours),
    ]


def _parse_days(days: tuple[str, ...]) -> dict[str, list[str]]:
    weekly: dict[str, list[str]] = {}
    for item in days:
        day, sep, spans = item.partition("=")
        if not sep:
            raise InvalidInput("hours", f"{item!r}: write a day as mon=09:00-17:00[,13:00-17:00] (or mon= closed)")
        weekly[day.strip().lower()] = [s for s in spans.split(",") if s.strip()]
    return weekly


@click.command("hours")
@click.argument("site")
@click.option("--timezone", "zone", help="IANA time zone, e.g. Europe/London (needed when setting hours).")
@click.option("--day", "days", multiple=True, help="mon=09:00-12:30,13:30-17:00 (repeat per weekday).")
@click.option("--closed", "closed", multiple=True, help="A closed date, YYYY-MM-DD (repeatable).")
@click.option("--clear", is_flag=True, help="Remove the hours: always open.")
@pass_app
def hours_command(
    app: App, site: str, zone: str | None, days: tuple[str, ...], closed: tuple[str, ...], clear: bool
) -> None:
    """R35: print, set (all at once) or clear SITE's business hours."""
    actor = Actor.system(ACTOR)
    with transaction(app.factory) as session:
        row = _site(session, site)
        if clear:
            business_hours.clear_site_hours(session, actor, row.id)
        elif zone is not None or days or closed:
            business_hours.set_site_hours(session, actor, row.id, zone or "", _parse_days(days), closed)
        lines = hours_lines(business_hours.hours_of(row.hours))
    click.echo(f"{site}:")
    for line in lines:
        click.echo(f"  {line}")


@click.command("hunt")
@click.argument("occupier")
@click.argument("site")
@click.option("--strategy", type=click.Choice(main_number_handling.STRATEGIES))
@click.option("--member", "members", multiple=True, help="EXTENSION[:RING_SECONDS] in hunt order (repeatable).")
@click.option("--out-of-hours", "out_of_hours", help="'voicemail' or an extension / E.164 number to forward to.")
@click.option("--clear", is_flag=True, help="Back to the plain main number: no hunt, no greeting.")
@pass_app
def hunt_command(
    app: App,
    occupier: str,
    site: str,
    strategy: str | None,
    members: tuple[str, ...],
    out_of_hours: str | None,
    clear: bool,
) -> None:
    """R35: print or set the hunt group of OCCUPIER's main number at SITE."""
    actor = Actor.system(ACTOR)
    with transaction(app.factory) as session:
        number_id = _main_id(session, actor, occupier, site)
        if clear:
            main_number_handling.clear_handling(session, actor, number_id)
        if strategy is not None or members:
            chosen = strategy or main_number_handling.describe(session, actor, number_id).strategy
            pairs = [(m.partition(":")[0], m.partition(":")[2] or main_number_handling.DEFAULT_RING_S) for m in members]
            main_number_handling.set_hunt(session, actor, number_id, chosen, pairs)
        if out_of_hours is not None:
            main_number_handling.set_out_of_hours(session, actor, number_id, out_of_hours)
        lines = handling_lines(main_number_handling.describe(session, actor, number_id))
    for line in lines:
        click.echo(line)


@click.group("greeting")
def greeting_group() -> None:
    """R35: the greeting a main number plays before its hunt group (or out of hours)."""


@greeting_group.command("upload")
@click.argument("occupier")
@click.argument("site")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_app
def greeting_upload(app: App, occupier: str, site: str, file: Path) -> None:
    """Check FILE (WAV or MP3), convert it and make it the greeting of OCCUPIER's main number at SITE."""
    if file.stat().st_size > main_greeting.MAX_BYTES:
        raise InvalidInput("greeting", f"the file is larger than {main_greeting.MAX_BYTES // (1024 * 1024)} MB")
    actor = Actor.system(ACTOR)
    with transaction(app.factory) as session:
        digest = main_greeting.upload_greeting(
            session, actor, _main_id(session, actor, occupier, site), file.read_bytes()
        )
    click.echo(f"greeting {digest} uploaded: played from the next call")


@greeting_group.command("remove")
@click.argument("occupier")
@click.argument("site")
@pass_app
def greeting_remove(app: App, occupier: str, site: str) -> None:
    """No greeting: callers go straight to the hunt group."""
    actor = Actor.system(ACTOR)
    with transaction(app.factory) as session:
        main_greeting.remove_greeting(session, actor, _main_id(session, actor, occupier, site))
    click.echo("greeting removed")
