"""`pbx occupier policy NAME [CLASSES]` (R39) and `pbx occupier licences show|set NAME [N]` (R36), for the operator.
`pbx occupier conference NAME [--number E164 | --no-number] [--set-pin]`: its meet-me conference (R44).

The same service as the operator console, so the change is audited and queued for
Asterisk the same way. Refusals reach main()'s error mapping (bad input exits 2).
"""

from __future__ import annotations

import click

from pbx.cli.app import App, pass_app
from pbx.services import call_policy, conference, licences
from pbx.services.actor import Actor
from pbx.services.lookup import get_number_by_e164, get_occupier_by_name
from pbx.store import transaction

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
        occupier = get_occupier_by_name(session, actor, name)
        if classes is not None:
            call_policy.set_allowed_classes(session, actor, occupier.id, classes)
        shown = ",".join(call_policy.allowed_classes(occupier)) or "none"
    click.echo(f"{name}: {shown}")


@occupier_group.group("licences")
def licences_group() -> None:
    """R36: the voice services an occupier bought, and how many it uses."""


@licences_group.command("show")
@click.argument("name")
@pass_app
def show_licences(app: App, name: str) -> None:
    """R36: NAME's voice services, used / bought."""
    actor = Actor.system(ACTOR)
    with transaction(app.factory) as session:
        occupier = get_occupier_by_name(session, actor, name)
        shown = licences.usage(session, actor, occupier.id).shown
    click.echo(f"{name}: {shown} voice services used / bought")


@licences_group.command("set")
@click.argument("name")
@click.argument("count")
@pass_app
def set_licences(app: App, name: str, count: str) -> None:
    """R36: NAME has bought COUNT voice services (never fewer than it uses)."""
    actor = Actor.system(ACTOR)
    with transaction(app.factory) as session:
        occupier = get_occupier_by_name(session, actor, name)
        licences.set_bought(session, actor, occupier.id, count)
        shown = licences.usage(session, actor, occupier.id).shown
    click.echo(f"{name}: {shown} voice services used / bought")


@occupier_group.command("conference")
@click.argument("name")
@click.option("--number", "e164", help="Mark this number of the occupier (E.164) as its conference number.")
@click.option("--no-number", is_flag=True, help="The conference has no number from outside any more.")
@click.option("--set-pin", is_flag=True, help="Ask for a new PIN (4 to 8 digits, typed twice, never echoed).")
@pass_app
def conference_command(app: App, name: str, e164: str | None, no_number: bool, set_pin: bool) -> None:
    """R44: print NAME's meet-me conference (feature code, number, PIN set or not); change its number or PIN."""
    if e164 and no_number:
        raise click.UsageError("--number and --no-number exclude each other")
    pin = click.prompt("New conference PIN", hide_input=True, confirmation_prompt=True) if set_pin else None
    actor = Actor.system(ACTOR)
    with transaction(app.factory) as session:
        occupier = get_occupier_by_name(session, actor, name)
        if e164 or no_number:
            number_id = get_number_by_e164(session, actor, e164).id if e164 else None
            conference.set_conference_number(session, actor, occupier.id, number_id)
        if pin is not None:
            conference.set_conference_pin(session, actor, occupier.id, pin)
        shown = conference.get_conference(session, actor, occupier.id)
    pin_state = "locked (set a new PIN)" if shown.locked else ("set" if shown.pin_set else "not set")
    click.echo(f"{name}: feature code {shown.feature_code}, number {shown.number or 'none'}, PIN {pin_state}")
