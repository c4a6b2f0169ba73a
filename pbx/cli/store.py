"""`pbx db upgrade` and `pbx demo`: the store's schema, and the demo world in it."""

from __future__ import annotations

import json

import click

from pbx import cluster, demo
from pbx.cli.app import App, pass_app
from pbx.store import transaction


@click.group("db")
def db() -> None:
    """The number store."""


@db.command("upgrade")
@pass_app
def db_upgrade(app: App) -> None:
    """Create or migrate the store's schema to the latest version."""
    app.migrate()
    click.echo(f"store is up to date ({_redacted(app.settings.database_url)})")


@click.command("demo")
@click.option("--json", "as_json", is_flag=True, help="Print the demo data as JSON (seeding it first if needed).")
@pass_app
def demo_command(app: App, as_json: bool) -> None:
    """Seed the demo operator, sites, occupiers, users, numbers and handsets."""
    # No migration here: `pbx demo --json` also reads a deployed store, which only
    # `pbx db upgrade` (or `pbx up`) may change the schema of.
    with transaction(app.factory) as session:
        created = demo.seed(session)
    if as_json:
        with transaction(app.factory) as session:
            # The edges `pbx up` runs (two with --nodes), not only those of the settings.
            click.echo(json.dumps(demo.describe(session, cluster.running(app.settings)), indent=2))
    else:
        click.echo("demo data seeded" if created else "demo data already present")


def _redacted(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url
