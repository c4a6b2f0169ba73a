"""`pbx occupier policy NAME [CLASSES]` (R39) and `pbx occupier licences show|set NAME [N]` (R36), for the operator.

The same service as the operator console, so the change is audited and queued for
Asterisk the same way. Refusals reach main()'s error mapping (bad input exits 2).
"""

from __future__ import annotations

import click
from sqlalchemy import select

from pbx.cli.app import App, pass_app
from pbx.services import call_policy, licences
from pbx.services.actor import Actor
from pbx.services.errors import NotFound
from pbx.store import transaction
from pbx.store.models import Occupier

ACTOR = "cli"


@click.group("occupier")
def occupier_group() -> None:
    """An occupier's settings that only the operator changes."""


@occupier_group.command(
    "policy", epilog="Classes: " + ", ".join(call_policy.CLASSES) + " (comma-separated; 'none' allows none)."
)
@click.argument("name")
@click.argument("classes", required=False)
@pass_app
def policy(app: App, name: str, classes: str | None) -> None:
    """R39: print, or set to CLASSES, the classes of destination NAME's calls and forwards may reach."""
    actor = Actor.system(ACTOR)
    with transaction(app.factory) as session:
        occupier = session.scalar(select(Occupier).where(Occupier.name == name))
        if occupier is None:
            raise NotFound(f"There is no occupier called {name}")
        if classes is not None:
            call_policy.set_allowed_classes(session, actor, occupier.id, classes)
        shown = ",".join(call_policy.allowed_classes(occupier)) or "none"
    click.echo(f"{name}: {shown}")


def _occupier_named(session, name: str) -> Occupier:
    occupier = session.scalar(select(Occupier).where(Occupier.name == name))
    if occupier is None:
        raise NotFound(f"There is no occupier called {name}")
    return occupier


@occupier_group.group("licences")
def licences_group() -> None:
    """R36: the voice services an occupier bought, and how many it uses."""


@licences_group.command("show")
@click.argument("name")
@pass_app
def show_licences(app: App, name: str) -> None:
    """R36: NAME's voice services, used / bought."""
    with transaction(app.factory) as session:
        occupier = _occupier_named(session, name)
        shown = licences.usage(session, Actor.system(ACTOR), occupier.id).shown
    click.echo(f"{name}: {shown} voice services used / bought")


@licences_group.command("set")
@click.argument("name")
@click.argument("count")
@pass_app
def set_licences(app: App, name: str, count: str) -> None:
    """R36: NAME has bought COUNT voice services (never fewer than it uses)."""
    actor = Actor.system(ACTOR)
    with transaction(app.factory) as session:
        occupier = _occupier_named(session, name)
        licences.set_bought(session, actor, occupier.id, count)
        shown = licences.usage(session, actor, occupier.id).shown
    click.echo(f"{name}: {shown} voice services used / bought")
