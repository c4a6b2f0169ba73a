"""`pbx features show|set NUMBER`: a number's features (R20-R27) for operators and scripts.

The same service functions and key names as the web UI and the JSON API, so a change
made here is checked by the same rules and queued for Asterisk the same way (the
number is Pending until the controller has applied it). Refusals reach main()'s error
mapping: bad input exits 2, a broken rule exits 1, each with the rule's one-line message.
"""

from __future__ import annotations

import json

import click

from pbx import validation
from pbx.cli.app import App, pass_app
from pbx.services import code_lock, features
from pbx.services.actor import Actor
from pbx.services.feature_input import FEATURE_KEYS, parse_assignments
from pbx.services.lookup import get_number_by_e164
from pbx.store import transaction

ACTOR = "cli"  # the audit log's name for changes made with this command


@click.group("features")
def features_group() -> None:
    """A number's call features: forwarding, DND, call waiting, CLI, hide caller ID, ..."""


@features_group.command("show")
@click.argument("number")
@pass_app
def show(app: App, number: str) -> None:
    """Print NUMBER's features as JSON (NUMBER in E.164, e.g. +442079460201)."""
    e164 = validation.e164(number, "number")
    with transaction(app.factory) as session:
        found = get_number_by_e164(session, Actor.system(ACTOR), e164)
        shown = features.show_features(session, Actor.system(ACTOR), found.id)
    click.echo(json.dumps(shown, indent=2))


@features_group.command(
    "set",
    epilog="Keys: " + ", ".join(FEATURE_KEYS) + ". "
    "Flags take on/off; targets an extension or an E.164 number, empty to turn off.",
)
@click.argument("number")
@click.argument("assignments", nargs=-1, required=True)
@pass_app
def set_(app: App, number: str, assignments: tuple[str, ...]) -> None:
    """Change NUMBER's features: key=value ..., all or nothing; prints the result as JSON."""
    e164 = validation.e164(number, "number")
    changes = parse_assignments(list(assignments))
    actor = Actor.system(ACTOR)
    with transaction(app.factory) as session:
        found = get_number_by_e164(session, actor, e164)
        features.update_features(session, actor, found.id, changes)
        session.flush()
        shown = features.features_dict(found)
    click.echo(json.dumps(shown, indent=2))  # only once committed


@features_group.command("reset-code")
@click.argument("number")
@pass_app
def reset_code(app: App, number: str) -> None:
    """R40: unlock NUMBER's authorization code after three wrong codes (the code itself is unchanged)."""
    e164 = validation.e164(number, "number")
    actor = Actor.system(ACTOR)
    with transaction(app.factory) as session:
        found = get_number_by_e164(session, actor, e164)
        code_lock.unlock_code(session, actor, found.id)
    click.echo(f"the authorization code of {e164} is unlocked")
