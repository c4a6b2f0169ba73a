"""`pbx health`: the store, Asterisk's AMI and ARI, and the controller's lag, one line each (R46).

Exit 0 when all are there, 1 naming what is down: a monitoring script needs no parsing.
"""

from __future__ import annotations

import json
import sys

import click

from pbx import health
from pbx.cli.app import App, pass_app


@click.command("health")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@pass_app
def health_command(app: App, as_json: bool) -> None:
    """Say whether the store, Asterisk (AMI, ARI) and the controller are there; exit 1 if one is not."""
    report = health.check(app.settings)
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2))
    else:
        for c in report.checks:
            click.echo(f"{c.name}: {'up' if c.ok else 'DOWN'}: {c.detail}")
    if not report.ok:
        click.echo(f"pbx: error: down: {', '.join(report.down)}", err=True)
        sys.exit(1)
