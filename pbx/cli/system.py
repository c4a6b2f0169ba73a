"""`pbx controller`, `pbx web`, and `pbx up` / `pbx down`: the whole system on this machine, with the demo data."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import Callable

import click

from pbx import cluster, demo
from pbx.asterisk.local import LocalAsterisk
from pbx.asterisk.start import start_local_asterisk
from pbx.cli.app import App, pass_app
from pbx.edge.system import edges_down, edges_up, wait_linked
from pbx.processes import Background
from pbx.settings import Settings
from pbx.store import transaction

WEB_START_TIMEOUT_S = 20
SYNC_STALL_S = 60.0  # `pbx up` fails when the first sync makes no progress this long...
SYNC_BOUND_S = 3600.0  # ...or takes longer than this in all


@click.command("controller")
@pass_app
def controller_command(app: App) -> None:
    """Run the controller, the ARI Stasis app and voicemail to email (foreground).

    One event loop: changes reach Asterisk, calls where a person keys digits
    (PINs, hot desk, feature codes, authorization codes) are served, and new
    voicemail is mailed, until SIGTERM or Ctrl-C.
    """
    from pbx.asterisk.runner import run_all

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    factory = app.factory
    try:
        asyncio.run(run_all(app.settings, factory))
    except KeyboardInterrupt:
        pass
    except RuntimeError as error:
        raise click.ClickException(str(error)) from error


@click.command("web")
@pass_app
def web_command(app: App) -> None:
    """Run the admin web UI (foreground)."""
    from waitress import serve

    from webui import create_app
    from webui.api_events import MAX_STREAMS

    app.check_schema()
    # waitress: a production WSGI server in pure Python, not Flask's development server.
    serve(
        create_app(settings=app.settings),
        host=app.settings.web_host,
        port=app.settings.web_port,
        threads=8 + MAX_STREAMS,  # an open event stream (R45) holds a thread
        ident="pbx",
    )


@click.command("up")
@click.option("--no-demo", is_flag=True, help="Do not seed the demo data into an empty store.")
@click.option(
    "--nodes",
    "count",
    type=click.IntRange(1, cluster.MAX_NODES),
    default=None,
    help="Run this many Asterisk nodes, each with its agent, behind two edges (default: PBX_NODES, else one).",
)
@pass_app
def up(app: App, no_demo: bool, count: int | None) -> None:
    """Start the Asterisk nodes, the SIP edges, each node's agent and the web UI (with the demo data).

    One node and one edge by default; --nodes N runs N nodes and two edges on loopback
    addresses (pbx/cluster.py). Each edge gives a node calls only once its agent has caught up."""
    plan = cluster.plan(app.settings, count)
    nodes = cluster.nodes_of(plan)
    if len(nodes) > 1 and plan.database_url.startswith("sqlite"):
        click.echo(
            "warning: the store is SQLite: the nodes share the change log, but each keeps its own "
            "voicemail (shared voicemail needs PBX_DATABASE_URL on PostgreSQL)",
            err=True,
        )
    app.migrate()
    if not no_demo:
        with transaction(app.factory) as session:
            if demo.seed(session):
                click.echo("seeded the demo data")
    cluster.save(plan)
    locals_ = []
    for node in nodes:
        locals_.append(start_local_asterisk(node, app.factory))
        click.echo(f"asterisk {node.node_name}: running, node SIP {node.node_sip_host}:{node.ports.sip}")
    for edge in edges_up(plan):
        click.echo(
            f"edge {edge.config.name}: running, handsets register to "
            f"{edge.config.address}:{edge.config.sip_port}, carrier in on :{edge.config.trunk_port}"
        )
    run_dir = cluster.run_dir(plan)
    for node in nodes:
        Background(run_dir, _agent(node)).start(["controller"], env=cluster.env(plan, node.node_name))
    for node, local in zip(nodes, locals_, strict=True):
        _wait_until_synced(app, node.node_name)
        wait_linked(node, local)  # its agent has enabled it at every edge, and it reaches them
        click.echo(f"agent {node.node_name}: running, asterisk matches the store, given calls")
    Background(run_dir, "web").start(["web"], env=cluster.env(plan))
    Background(run_dir, "webhooks").start(["webhooks", "run"], env=cluster.env(plan))  # R45
    _wait_for_port(app.settings.web_host, app.settings.web_port)
    click.echo(f"web UI: http://{app.settings.web_host}:{app.settings.web_port}")
    click.echo("demo logins and numbers: pbx demo --json")


@click.command("down")
@pass_app
def down(app: App) -> None:
    """Stop what `pbx up` started."""
    plan = cluster.running(app.settings)
    run_dir = cluster.run_dir(plan)
    for name in ["web", "webhooks", *sorted(p.stem for p in run_dir.glob("controller*.pid"))]:
        if Background(run_dir, name).stop():
            click.echo(f"{name}: stopped")
    edges_down(plan)
    click.echo("edges: stopped")
    for node in cluster.nodes_of(plan):
        LocalAsterisk(node).down()
        click.echo(f"asterisk {node.node_name}: stopped")
    cluster.forget(plan)


def _agent(node: Settings) -> str:
    """The agent's pid and log file name: controller (one node), controller-node-i."""
    return f"controller-{node.node_name}" if node.nodes else "controller"


def _wait_until_synced(
    app: App,
    name: str | None = None,
    stall: float = SYNC_STALL_S,
    bound: float = SYNC_BOUND_S,
    echo: Callable[[str], None] = click.echo,
) -> None:
    """Until this node's agent is in service with nothing waiting. A first sync of a big store
    takes a while: it is waited for as long as it moves (its progress, its cursor), and is a
    failure only after `stall` seconds without a step, or beyond `bound` in all."""
    from pbx.asterisk.outbox import cursor_of, has_pending
    from pbx.store.models import Node, NodeState

    name = name or app.settings.node_name
    started = last_step = time.monotonic()
    seen: tuple[object, ...] | None = None
    while time.monotonic() - started < bound:
        with transaction(app.factory) as session:
            node = session.get(Node, name)
            if node is not None and node.state is NodeState.IN_SERVICE and not has_pending(session, node.name):
                return
            now = (node.state, node.progress, cursor_of(node)) if node is not None else None
        if now != seen:
            if now is not None and now[1] and (seen is None or now[1] != seen[1]):
                echo(f"controller: {now[1]}")
            seen, last_step = now, time.monotonic()
        elif time.monotonic() - last_step > stall:
            log = app.settings.state_dir / "run" / "controller*.log"
            raise click.ClickException(
                f"the agent of {name} made no progress applying the store to Asterisk for {stall:.0f}s; see {log}"
            )
        time.sleep(0.2)
    raise click.ClickException(f"the agent of {name} did not apply the store to Asterisk in {bound:.0f}s")


def _wait_for_port(host: str, port: int) -> None:
    deadline = time.monotonic() + WEB_START_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise click.ClickException(f"the web UI did not start on {host}:{port}")
