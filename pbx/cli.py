"""The `pbx` command: the operator's and the developer's way in.

Every command fails with one clear line and a non-zero exit, never a traceback:
bad input exits 2, a refused change or a missing service exits 1.
"""
from __future__ import annotations

import asyncio
import json
import logging
import sys
from pathlib import Path

import click
from sqlalchemy.exc import SQLAlchemyError

from pbx import demo
from pbx.asterisk.ami import AmiError
from pbx.asterisk.local import AsteriskError, LocalAsterisk
from pbx.asterisk.provision import ProvisionError
from pbx.asterisk.render import render
from pbx.asterisk.snapshot import load_snapshot
from pbx.asterisk.start import start_local_asterisk
from pbx.services.errors import InvalidInput, PbxError
from pbx.settings import Settings
from pbx.store import make_engine, make_session_factory, transaction
from pbx.store.migrate import upgrade


class App:
    """What every command needs, built lazily so `pbx --help` touches nothing."""

    def __init__(self) -> None:
        self.settings = Settings.from_env()
        self._factory = None

    @property
    def factory(self):
        if self._factory is None:
            self._factory = make_session_factory(make_engine(self.settings.database_url))
        return self._factory

    def migrate(self) -> None:
        upgrade(self.settings.database_url)


pass_app = click.make_pass_decorator(App, ensure=True)


@click.group()
def cli() -> None:
    """pbx: voice and feature server on Asterisk."""


@cli.group()
def db() -> None:
    """The number store."""


@db.command("upgrade")
@pass_app
def db_upgrade(app: App) -> None:
    """Create or migrate the store's schema to the latest version."""
    app.migrate()
    click.echo(f"store is up to date ({_redacted(app.settings.database_url)})")


@cli.command("demo")
@click.option("--json", "as_json", is_flag=True, help="Print the demo data as JSON (seeding it first if needed).")
@pass_app
def demo_command(app: App, as_json: bool) -> None:
    """Seed the demo operator, sites, occupiers, users, numbers and handsets."""
    app.migrate()
    with transaction(app.factory) as session:
        created = demo.seed(session)
    if as_json:
        with transaction(app.factory) as session:
            click.echo(json.dumps(demo.describe(session, app.settings), indent=2))
    else:
        click.echo("demo data seeded" if created else "demo data already present")


@cli.command("render")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder to write the rendered Asterisk config into.")
@pass_app
def render_command(app: App, out_dir: Path) -> None:
    """Write the Asterisk config rendered from the store."""
    from pbx.asterisk.live_state import live_state

    app.migrate()
    with transaction(app.factory) as session:
        snapshot = load_snapshot(session)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, text in render(snapshot, app.settings).items():
        (out_dir / name).write_text(text)
        click.echo(f"wrote {out_dir / name}")
    (out_dir / "astdb.json").write_text(json.dumps(live_state(snapshot), indent=1, sort_keys=True))
    click.echo(f"wrote {out_dir / 'astdb.json'} (the live state the controller puts in AstDB)")


@cli.group("asterisk")
def asterisk_group() -> None:
    """The local Asterisk (provisioned in a Debian chroot when none is installed)."""


@asterisk_group.command("up")
@pass_app
def asterisk_up(app: App) -> None:
    app.migrate()
    local = start_local_asterisk(app.settings, app.factory)
    click.echo(f"asterisk is running (pid {local.status().get('pid')}, "
               f"SIP {app.settings.asterisk_host}:{app.settings.ports.sip}, "
               f"AMI {app.settings.ports.ami}, HTTP/ARI {app.settings.ports.http})")


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


@cli.command("sync")
@pass_app
def sync_command(app: App) -> None:
    """Make the running Asterisk match the store now (files and live state)."""
    from pbx.asterisk.controller import Controller

    app.migrate()

    async def once() -> None:
        from pbx.asterisk.ami import Ami

        ami = await Ami.connect(app.settings)
        try:
            await Controller(app.settings, app.factory).full_sync(ami)
        finally:
            await ami.close()

    asyncio.run(once())
    click.echo("asterisk matches the store")


@cli.command("controller")
@pass_app
def controller_command(app: App) -> None:
    """Run the controller, the ARI Stasis app and voicemail to email (foreground).

    One event loop: changes reach Asterisk, calls where a person keys digits
    (PINs, hot desk, feature codes, authorization codes) are served, and new
    voicemail is mailed, until SIGTERM or Ctrl-C.
    """
    from pbx.asterisk.runner import run_all

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    app.migrate()
    try:
        asyncio.run(run_all(app.settings, app.factory))
    except KeyboardInterrupt:
        pass
    except RuntimeError as error:
        raise click.ClickException(str(error)) from error


@cli.command("web")
@pass_app
def web_command(app: App) -> None:
    """Run the admin web UI (foreground)."""
    from waitress import serve

    from webui import create_app

    app.migrate()
    # waitress: a production WSGI server in pure Python, not Flask's development server.
    serve(create_app(settings=app.settings), host=app.settings.web_host, port=app.settings.web_port, threads=8, ident="pbx")


def _redacted(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


from pbx import cli_system  # noqa: E402  (registers `pbx up` / `pbx down`)

cli_system.register(cli, pass_app)
from pbx import cli_features  # noqa: E402  (registers `pbx features show|set`)
cli_features.register(cli, pass_app)


def main() -> None:
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        _fail("aborted", 1)
    except click.exceptions.UsageError as error:
        _fail(f"{error.format_message()} (see pbx --help)", 2)
    except click.exceptions.ClickException as error:
        error.show()
        sys.exit(error.exit_code)
    except InvalidInput as error:
        _fail(error.message, 2)
    except PbxError as error:
        _fail(error.message, 1)
    except (ProvisionError, AsteriskError, AmiError, ValueError) as error:
        _fail(str(error).splitlines()[0] if str(error) else type(error).__name__, 1)
    except SQLAlchemyError as error:
        _fail(f"the store could not be used: {str(error.orig if hasattr(error, 'orig') else error).splitlines()[0]}", 1)
    except OSError as error:
        _fail(f"{error.strerror or error}: {error.filename or ''}".rstrip(": "), 1)


def _fail(message: str, code: int) -> None:
    click.echo(f"pbx: error: {message}", err=True)
    sys.exit(code)


if __name__ == "__main__":
    main()
