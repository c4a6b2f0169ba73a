"""`pbx numbers export|import|activate` and `pbx site emergency`: the operator's number commands.

The same services as the console and the JSON API (R36, R37, R22): the same rules,
audit and change log whoever acts. Refusals reach main()'s error mapping (bad input
exits 2, a refused change 1); a refused file prints every wrong row first.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from pbx.cli.app import App, pass_app
from pbx.services import bulk_allocation, emergency, licences, number_csv, number_list
from pbx.services import operator as ops
from pbx.services.actor import Actor
from pbx.services.lookup import get_number_by_e164, get_occupier_by_name
from pbx.store import transaction
from pbx.store.models import NumberStatus

ACTOR = "cli"


@click.group("numbers")
def numbers_group() -> None:
    """The operator's numbers: list as CSV, allocate from CSV, activate."""


@numbers_group.command("export")
@click.option("--csv", "as_csv", is_flag=True, required=True, help="Write CSV (the only format).")
@click.option("--status", type=click.Choice([s.value for s in NumberStatus]), help="Only numbers with this status.")
@click.option("--site", "site_name", help="Only numbers at this site (its name).")
@click.option("--occupier", "occupier_name", help="Only numbers of this occupier (its name).")
@click.option("--assignment", type=click.Choice(number_list.ASSIGNMENTS), help="Assigned to a user, or not, or main.")
@click.option("--login", type=click.Choice(number_list.LOGINS), help="Logged in to a handset, or not.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write here, not to stdout.")
@pass_app
def export(
    app: App,
    as_csv: bool,
    status: str | None,
    site_name: str | None,
    occupier_name: str | None,
    assignment: str | None,
    login: str | None,
    output: Path | None,
) -> None:
    """R37: the numbers as CSV (formula-safe), streamed row by row."""
    actor = Actor.system(ACTOR)
    out = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
    try:
        with transaction(app.factory) as session:
            chosen = number_list.parse_filter(
                {
                    "status": status,
                    "site": str(emergency.get_site_by_name(session, site_name).id) if site_name else None,
                    "occupier": str(get_occupier_by_name(session, actor, occupier_name).id) if occupier_name else None,
                    "assignment": assignment,
                    "login": login,
                }
            )
            for line in number_csv.csv_lines(number_list.stream_rows(session, actor, chosen)):
                out.write(line)
    finally:
        if output:
            out.close()


@numbers_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--apply", "apply_", is_flag=True, help="Allocate the numbers (without it: a preview only).")
@pass_app
def import_(app: App, file: Path, apply_: bool) -> None:
    """R37: allocate the numbers of a CSV file (number,extension,occupier,site): all or none."""
    actor = Actor.system(ACTOR)
    data = file.read_bytes()
    with transaction(app.factory) as session:
        plan = bulk_allocation.plan(session, actor, data)
        for message in plan.errors.values():
            click.echo(message, err=True)
        if plan.errors:
            raise click.ClickException(f"{len(plan.errors)} rows are wrong: nothing was allocated")
        for row in plan.rows:
            click.echo(f"row {row.row}: {row.number} ext. {row.extension} -> {row.occupier} at {row.site}")
        if not apply_:
            click.echo(f"preview: {len(plan.rows)} numbers would be allocated (Reserved); add --apply to allocate")
            return
        added = bulk_allocation.allocate(session, actor, data)
    click.echo(f"{len(added)} numbers allocated (Reserved)")


@numbers_group.command("activate")
@click.argument("number")
@pass_app
def activate(app: App, number: str) -> None:
    """R4, R36: activate a Reserved NUMBER (E.164), using a free voice service of its occupier."""
    actor = Actor.system(ACTOR)
    with transaction(app.factory) as session:
        found = ops.activate_number(session, actor, get_number_by_e164(session, actor, number).id)
        shown = licences.usage(session, actor, found.occupier_id).shown
        click.echo(f"{found.e164} is activated ({found.occupier.name}: {shown} voice services used / bought)")


@click.command("emergency")
@click.argument("name")
@click.argument("numbers", required=False)
@pass_app
def site_emergency(app: App, name: str, numbers: str | None) -> None:
    """R22, R39: print, or set to NUMBERS ("101,105"; "none" clears), the site's own emergency numbers."""
    actor = Actor.system(ACTOR)
    with transaction(app.factory) as session:
        site = emergency.get_site_by_name(session, name)
        if numbers is not None:
            emergency.set_local_numbers(session, actor, site.id, "" if numbers.strip() == "none" else numbers)
        shown = ",".join(("112", "999", "911", *emergency.local_numbers(site)))
    click.echo(f"{name}: {shown}")
