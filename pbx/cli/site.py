"""`pbx site portal [set NAME NUMBER | clear NAME]`: a site's voice portal number (R42), for the operator.

The same service as the JSON API, so the change is audited and queued for Asterisk the
same way (AstDB did/<digits>, no reload). Refusals reach main()'s error mapping.
"""

from __future__ import annotations

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from pbx.cli.app import App, pass_app
from pbx.services import portal_number
from pbx.services.actor import Actor
from pbx.services.errors import NotFound
from pbx.store import transaction
from pbx.store.models import Site

ACTOR = "cli"


@click.group("site")
def site_group() -> None:
    """A site's settings that only the operator changes."""


@site_group.group("portal", invoke_without_command=True)
@click.pass_context
def portal(ctx: click.Context) -> None:
    """R42: the voice portal number of each site (no subcommand: list them)."""
    if ctx.invoked_subcommand is None:
        app = ctx.ensure_object(App)
        with transaction(app.factory) as session:
            for shown in portal_number.site_portals(session, Actor.system(ACTOR)):
                click.echo(f"{shown.site}: {shown.portal_number or 'none'}")


def _site_id(session: Session, name: str) -> int:
    site_id = session.scalar(select(Site.id).where(Site.name == name))
    if site_id is None:
        raise NotFound(f"There is no site called {name}")
    return int(site_id)


@portal.command("set")
@click.argument("name")
@click.argument("number")
@pass_app
def set_(app: App, name: str, number: str) -> None:
    """Make NUMBER (E.164) the voice portal of site NAME."""
    with transaction(app.factory) as session:
        shown = portal_number.set_portal_number(session, Actor.system(ACTOR), _site_id(session, name), number)
    click.echo(f"{shown.site}: {shown.portal_number}")


@portal.command("clear")
@click.argument("name")
@pass_app
def clear(app: App, name: str) -> None:
    """Site NAME has no voice portal number any more."""
    with transaction(app.factory) as session:
        shown = portal_number.clear_portal_number(session, Actor.system(ACTOR), _site_id(session, name))
    click.echo(f"{shown.site}: none")
