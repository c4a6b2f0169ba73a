"""`pbx edge up|down|status`: the local SIP edges (Kamailio) in front of the Asterisk node."""

from __future__ import annotations

import json
import os
import sys

import click

from pbx.cli.app import App, pass_app
from pbx.edge.local import kamailio_binary
from pbx.edge.system import edges_down, edges_up, local_edges


@click.group("edge")
def edge_group() -> None:
    """The local SIP edges: one per PBX_EDGE_HOSTS address (docs/edge.md)."""


@edge_group.command("up")
@pass_app
def edge_up(app: App) -> None:
    """Start the edges (the store's schema must be current: they read its credential view)."""
    app.check_schema()
    for edge in edges_up(app.settings):
        click.echo(
            f"edge {edge.config.name}: running, handsets {edge.config.address}:{edge.config.sip_port}, "
            f"trunk {edge.config.address}:{edge.config.trunk_port}"
        )


@edge_group.command("down")
@pass_app
def edge_down(app: App) -> None:
    edges_down(app.settings)
    click.echo("edges: stopped")


@edge_group.command("status")
@pass_app
def edge_status(app: App) -> None:
    states = [edge.status() for edge in local_edges(app.settings)]
    click.echo(json.dumps(states, indent=2, default=str))
    if not all(state.get("running") for state in states):
        sys.exit(1)


@edge_group.command("run")
@click.option("--index", type=click.IntRange(1, 9), default=1, help="Which edge of PBX_EDGE_HOSTS (1: the first).")
@pass_app
def edge_run(app: App, index: int) -> None:
    """Render edge INDEX's config and run Kamailio in the foreground (a container's command)."""
    app.check_schema()
    edges = local_edges(app.settings)
    if index > len(edges):
        raise click.ClickException(f"PBX_EDGE_HOSTS lists {len(edges)} edges, not {index}")
    edge = edges[index - 1]
    edge.check()
    os.execv(kamailio_binary(), edge.argv("-DD", "-E"))
