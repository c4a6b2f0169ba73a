"""`pbx render`, `pbx asterisk up|down|status` and `pbx sync`: Asterisk and what the store makes of it."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import click

from pbx.asterisk.local import LocalAsterisk
from pbx.asterisk.render import render
from pbx.asterisk.snapshot import load_snapshot
from pbx.asterisk.start import start_local_asterisk
from pbx.cli.app import App, pass_app
from pbx.store import transaction


@click.command("render")
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write the rendered Asterisk config into.",
)
@pass_app
def render_command(app: App, out_dir: Path) -> None:
    """Write the Asterisk config rendered from the store."""
    from pbx.asterisk.live_state import live_state

    with transaction(app.factory) as session:
        snapshot = load_snapshot(session)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, text in render(snapshot, app.settings).items():
        (out_dir / name).write_text(text)
        click.echo(f"wrote {out_dir / name}")
    (out_dir / "astdb.json").write_text(json.dumps(live_state(snapshot), indent=1, sort_keys=True))
    click.echo(f"wrote {out_dir / 'astdb.json'} (the live state the controller puts in AstDB)")


@click.group("asterisk")
def asterisk_group() -> None:
    """The local Asterisk (provisioned in a Debian chroot when none is installed)."""


@asterisk_group.command("up")
@pass_app
def asterisk_up(app: App) -> None:
    local = start_local_asterisk(app.settings, app.factory)
    click.echo(
        f"asterisk is running (pid {local.status().get('pid')}, "
        f"SIP {app.settings.asterisk_host}:{app.settings.ports.sip}, "
        f"AMI {app.settings.ports.ami}, HTTP/ARI {app.settings.ports.http})"
    )


@asterisk_group.command("down")
@pass_app
def asterisk_down(app: App) -> None:
    LocalAsterisk(app.settings).down()
    click.echo("asterisk is stopped")


@asterisk_group.command("status")
@pass_app
def asterisk_status(app: App) -> None:
    status = LocalAsterisk(app.settings).status()
    click.echo(json.dumps(status, indent=2, default=str))
    if not status.get("running"):
        sys.exit(1)


@click.command("sync")
@pass_app
def sync_command(app: App) -> None:
    """Make the running Asterisk match the store now (files and live state)."""
    from pbx.asterisk.controller import Controller

    factory = app.factory

    async def once() -> None:
        from pbx.asterisk.ami import Ami

        ami = await Ami.connect(app.settings)
        try:
            await Controller(app.settings, factory).full_sync(ami)
        finally:
            await ami.close()

    asyncio.run(once())
    click.echo("asterisk matches the store")
