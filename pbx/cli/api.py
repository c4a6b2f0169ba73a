"""`pbx token create/list/revoke` (API tokens for scripts) and `pbx webhooks run` (R45's dispatcher)."""

from __future__ import annotations

import logging
import signal
import threading

import click
from sqlalchemy import select

from pbx.cli.app import App, pass_app
from pbx.services import api_tokens, webhooks
from pbx.services.actor import Actor
from pbx.services.errors import NotFound
from pbx.store import transaction
from pbx.store.models import User


@click.group("token")
def token_group() -> None:
    """API tokens: a token acts as its user (`Authorization: Bearer <token>` on /api/v1/)."""


def _user_id(session, email: str) -> int:
    found = session.scalar(select(User.id).where(User.email == email.strip().lower()))
    if found is None:
        raise NotFound(f"There is no user {email}")
    return found


@token_group.command("create")
@click.option("--user", "email", required=True, help="The e-mail address of the token's user.")
@click.option("--name", required=True, help="What the token is for, e.g. 'nightly export'.")
@click.option("--scope", type=click.Choice(api_tokens.SCOPES), default="write", show_default=True)
@click.option("--expires-in-days", type=int, default=None, help="Expire after this many days (default: never).")
@pass_app
def token_create(app: App, email: str, name: str, scope: str, expires_in_days: int | None) -> None:
    """Create a token and print it: it is shown this once only."""
    with transaction(app.factory) as session:
        made = api_tokens.create_token(
            session, Actor.system("cli"), name, scope, user_id=_user_id(session, email), expires_in_days=expires_in_days
        )
        click.echo(f"token {made.token.id} ({scope}) for {email}:")
        click.echo(made.secret)


@token_group.command("list")
@click.option("--user", "email", required=True, help="The e-mail address of the tokens' user.")
@pass_app
def token_list(app: App, email: str) -> None:
    with transaction(app.factory) as session:
        for t in api_tokens.list_tokens(session, Actor.system("cli"), user_id=_user_id(session, email)):
            state = "revoked" if t.revoked_at else ("usable" if api_tokens.is_usable(t) else "expired")
            used = t.last_used_at.isoformat(timespec="seconds") if t.last_used_at else "never"
            click.echo(f"{t.id}\t{t.name}\t{t.scope}\t{state}\tcreated {t.created_at:%Y-%m-%d}\tlast used {used}")


@token_group.command("revoke")
@click.argument("token_id", type=int)
@pass_app
def token_revoke(app: App, token_id: int) -> None:
    with transaction(app.factory) as session:
        api_tokens.revoke_token(session, Actor.system("cli"), token_id)
    click.echo(f"token {token_id}: revoked")


@click.group("webhooks")
def webhooks_group() -> None:
    """R45: webhooks (operator's: every occupier's events) and their dispatcher."""


@webhooks_group.command("add")
@click.argument("url")
@pass_app
def webhooks_add(app: App, url: str) -> None:
    """Register an operator webhook (every occupier's events); prints its id and signing secret."""
    with transaction(app.factory) as session:
        hook = webhooks.create_webhook(session, Actor.system("cli"), url)
        click.echo(f"webhook {hook.id}: {hook.url}")
        click.echo(f"secret: {hook.secret}")


@webhooks_group.command("list")
@pass_app
def webhooks_list(app: App) -> None:
    with transaction(app.factory) as session:
        for hook in webhooks.list_webhooks(session, Actor.system("cli")):
            owner = f"occupier {hook.occupier_id}" if hook.occupier_id else "operator"
            click.echo(f"{hook.id}\t{owner}\t{hook.url}")


@webhooks_group.command("delete")
@click.argument("webhook_id", type=int)
@pass_app
def webhooks_delete(app: App, webhook_id: int) -> None:
    with transaction(app.factory) as session:
        webhooks.delete_webhook(session, Actor.system("cli"), webhook_id)
    click.echo(f"webhook {webhook_id}: deleted")


@webhooks_group.command("run")
@pass_app
def webhooks_run(app: App) -> None:
    """Deliver events to webhooks (foreground, until SIGTERM or Ctrl-C); `pbx up` starts it."""
    from pbx.webhooks.dispatcher import Dispatcher

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    dispatcher = Dispatcher(app.settings, app.factory)
    try:
        dispatcher.run(stop)
    except KeyboardInterrupt:
        pass
    finally:
        dispatcher.close()
