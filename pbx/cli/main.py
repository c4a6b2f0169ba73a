"""The `pbx` group, its commands added from one module per group, and main()'s error mapping.

Every command fails with one clear line and a non-zero exit, never a traceback:
bad input exits 2, a refused change or a missing service exits 1.
"""

from __future__ import annotations

import sys

import click
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from pbx.asterisk.ami import AmiError
from pbx.asterisk.local import AsteriskError
from pbx.asterisk.provision import ProvisionError
from pbx.cli import api, asterisk, edge, features, health, main_number, numbers, occupier, site, store, system
from pbx.edge.local import EdgeError
from pbx.services.errors import InvalidInput, PbxError
from pbx.services.unit_of_work import refusal_for
from pbx.store.migrate import SchemaNotCurrent


@click.group()
def cli() -> None:
    """pbx: voice and feature server on Asterisk."""


for command in (
    store.db,
    store.demo_command,
    asterisk.render_command,
    asterisk.asterisk_group,
    asterisk.sync_command,
    edge.edge_group,
    system.controller_command,
    system.web_command,
    system.up,
    system.down,
    features.features_group,
    occupier.occupier_group,
    site.site_group,
    numbers.numbers_group,
    health.health_command,
    api.token_group,
    api.webhooks_group,
):
    cli.add_command(command)
site.site_group.add_command(main_number.hours_command)  # R35
site.site_group.add_command(numbers.site_emergency)  # R22, R39
occupier.occupier_group.add_command(main_number.hunt_command)  # R35
occupier.occupier_group.add_command(main_number.greeting_group)  # R35


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
    except (PbxError, SchemaNotCurrent) as error:
        _fail(error.message, 1)
    except (ProvisionError, AsteriskError, AmiError, EdgeError, ValueError) as error:
        _fail(str(error).splitlines()[0] if str(error) else type(error).__name__, 1)
    except IntegrityError as error:  # a rule broken by a change made at the same moment
        refusal = refusal_for(error)
        _fail(refusal.message if refusal else f"the store refused the change: {str(error.orig).splitlines()[0]}", 1)
    except SQLAlchemyError as error:
        _fail(f"the store could not be used: {str(error.orig if hasattr(error, 'orig') else error).splitlines()[0]}", 1)
    except OSError as error:
        _fail(f"{error.strerror or error}: {error.filename or ''}".rstrip(": "), 1)


def _fail(message: str, code: int) -> None:
    click.echo(f"pbx: error: {message}", err=True)
    sys.exit(code)


if __name__ == "__main__":
    main()
