"""Render a Kamailio 5.6 config for one SIP edge from an EdgeConfig.

Pure functions: no process is started and nothing is read but the template
(edge/kamailio.cfg.j2). Every value that reaches the config is checked
against a strict pattern here first (addresses are canonical IPv4, names
and paths a small alphabet), so nothing free-form is ever spliced into
Kamailio's script.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import jinja2

from pbx.edge.credentials import PASSWORD_COLUMN, USER_COLUMN, VIEW

TEMPLATE_DIR = Path(__file__).resolve().parent.parent.parent / "edge"
TEMPLATE = "kamailio.cfg.j2"
MODULE_DIRS = (
    "/usr/lib/x86_64-linux-gnu/kamailio/modules",
    "/usr/lib/aarch64-linux-gnu/kamailio/modules",
    "/usr/lib/kamailio/modules",
    "/usr/local/lib64/kamailio/modules",
)
NODE_SET = 1  # the dispatcher set of the Asterisk nodes
DISABLED = 4  # dispatcher's DS_DISABLED_DST: no calls, no probing, until set otherwise over RPC
ALGORITHMS = {"round-robin": 4, "priority": 8, "hash-callid": 0}

NAME_RE = re.compile(r"[a-z][a-z0-9-]{0,31}")
REALM_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9.-]{0,62}")
SECRET_RE = re.compile(r"[A-Za-z0-9]{16,64}")
PATH_RE = re.compile(r"/[A-Za-z0-9_./+-]{1,200}")
DB_PART_RE = re.compile(r"[A-Za-z0-9_.-]{1,63}")
DB_PASSWORD_RE = re.compile(r"[A-Za-z0-9_.~!*+=-]{1,128}")


class EdgeConfigError(ValueError):
    """An EdgeConfig value that cannot be rendered safely."""


def _ipv4(value: str, what: str) -> str:
    try:
        address = ipaddress.IPv4Address(str(value).strip())
    except ValueError:
        raise EdgeConfigError(f"{what}: {value!r} is not an IPv4 address") from None
    if address.is_unspecified or address.is_multicast:
        raise EdgeConfigError(f"{what}: {value!r} is not a unicast address")
    return str(address)


def _port(value: int, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 65535:
        raise EdgeConfigError(f"{what}: {value!r} is not a port")
    return value


def _int(value: int, what: str, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise EdgeConfigError(f"{what}: {value!r} is not an integer in {low}..{high}")
    return value


def _match(pattern: re.Pattern[str], value: str, what: str) -> str:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise EdgeConfigError(f"{what}: {value!r} does not match {pattern.pattern}")
    return value


def _path(value: Path | str, what: str) -> str:
    text = str(value)
    _match(PATH_RE, text, what)
    if "/../" in text + "/" or "//" in text:
        raise EdgeConfigError(f"{what}: {text!r} must be a plain absolute path")
    return text


@dataclass(frozen=True)
class Node:
    """An Asterisk node the edge dispatches to (and trusts by source address)."""

    address: str
    port: int = 5060


@dataclass(frozen=True)
class Carrier:
    """A trunk carrier: known by the source address of its requests to the
    trunk port; the edge sends calls for it to source:port."""

    name: str
    source: str
    port: int = 5060


@dataclass(frozen=True)
class EdgeConfig:
    """One edge. `database_url` is the store's URL (SQLAlchemy form, e.g.
    sqlite:////var/lib/pbx/pbx.db or postgresql+psycopg://u:p@host:5432/pbx)."""

    name: str
    address: str
    nodes: tuple[Node, ...]
    database_url: str
    runtime_dir: Path
    peers: tuple[str, ...] = ()
    carriers: tuple[Carrier, ...] = ()
    sip_port: int = 5060
    trunk_port: int = 5080
    realm: str = "pbx"
    algorithm: str = "round-robin"
    ping_interval: int = 2  # a restarted node waits this long for calls (503 with no other)
    # An Asterisk whose task queues are past their high-water mark drops new INVITEs and answers
    # a retransmission once they drain (res_pjsip's distributor): 2 s made such moments 408s
    # (bench/, docs/benchmarks.md). A dead node is found by the OPTIONS probe all the same.
    node_timeout_ms: int = 5000
    # R44: a handset's contact that sends nothing back (not even 100 Trying) within this
    # is dead (unplugged, crashed without unregistering): the edge answers 480 at once.
    handset_timeout_ms: int = 2000
    # In-dialog requests (a BYE, a re-INVITE) get RFC 3261's timer F, not tm's 3 s (which bounds
    # the node probes): a node slow to answer a BYE under load was a 408 to the caller (bench/).
    in_dialog_timeout_ms: int = 32000
    lamp_max_expires: int = 3600  # R41: the longest message-summary subscription granted
    max_expires: int = 3600
    dialog_timeout: int = 14400
    dmq_ping_interval: int = 30
    pike_density: int = 30
    register_limit: int = 2000  # per 10 s, all handsets together
    invite_limit: int = 1000  # per 10 s, all handsets together (and per carrier)
    children: int = 2
    log_level: int = 2
    auth_secret: str | None = None  # the same on all edges: a nonce from one is good at another
    # Each node starts disabled (no calls, no probing) until its agent, caught up with the
    # change log, enables it over RPC (pbx/edge/gate.py); False: probing alone decides.
    gate_nodes: bool = False
    module_dir: str | None = None  # found on this machine when None


def kamailio_db_url(database_url: str) -> tuple[str, str]:
    """The store's SQLAlchemy URL as (Kamailio db module, Kamailio db_url).

    sqlite:////abs/path.db            -> db_sqlite.so, sqlite:///abs/path.db
    postgresql[+driver]://u:p@h:5432/d -> db_postgres.so, postgres://u:p@h:5432/d
    """
    if database_url.startswith("sqlite:///"):
        path = database_url[len("sqlite:///") :]
        if not path.startswith("/"):
            raise EdgeConfigError("database_url: the SQLite path must be absolute (sqlite:////abs/path)")
        return "db_sqlite.so", "sqlite://" + _path(path, "database_url path")
    parts = urlsplit(database_url)
    if parts.scheme.split("+", 1)[0] not in ("postgresql", "postgres"):
        raise EdgeConfigError(f"database_url: only sqlite and postgresql are supported, not {parts.scheme!r}")
    if parts.query or parts.fragment:
        raise EdgeConfigError("database_url: query options cannot be passed to Kamailio")
    user = _match(DB_PART_RE, unquote(parts.username or ""), "database user")
    password = unquote(parts.password or "")
    host = parts.hostname or ""
    try:
        host = _ipv4(host, "database host")
    except EdgeConfigError:
        host = _match(DB_PART_RE, host, "database host")
    port = _port(parts.port or 5432, "database port")
    database = _match(DB_PART_RE, parts.path.lstrip("/"), "database name")
    auth = user + (":" + _match(DB_PASSWORD_RE, password, "database password") if password else "")
    return "db_postgres.so", f"postgres://{auth}@{host}:{port}/{database}"


def _module_dir(configured: str | None) -> str:
    if configured:
        return _path(configured, "module_dir")
    for candidate in MODULE_DIRS:
        if Path(candidate, "tm.so").exists():
            return candidate
    return MODULE_DIRS[0]  # `kamailio -c` then says what is missing


def _values(config: EdgeConfig) -> dict[str, Any]:
    address = _ipv4(config.address, "address")
    sip_port = _port(config.sip_port, "sip_port")
    trunk_port = _port(config.trunk_port, "trunk_port")
    if sip_port == trunk_port:
        raise EdgeConfigError("sip_port and trunk_port must differ")
    if not config.nodes:
        raise EdgeConfigError("nodes: at least one Asterisk node")
    nodes = [(_ipv4(n.address, "node address"), _port(n.port, "node port")) for n in config.nodes]
    if len(set(nodes)) != len(nodes):
        raise EdgeConfigError("nodes: duplicate node")
    peers = [_ipv4(p, "peer") for p in config.peers]
    if address in peers or len(set(peers)) != len(peers):
        raise EdgeConfigError("peers: list each other edge once, not this one")
    carriers = []
    for carrier in config.carriers:
        carriers.append(
            {
                "name": _match(NAME_RE, carrier.name, "carrier name"),
                "source": _ipv4(carrier.source, "carrier source"),
                "port": _port(carrier.port, "carrier port"),
            }
        )
    for key in ("name", "source"):
        if len({c[key] for c in carriers}) != len(carriers):
            raise EdgeConfigError(f"carriers: duplicate {key}")
    node_addresses = {a for a, _ in nodes}
    if node_addresses & ({address} | set(peers) | {c["source"] for c in carriers}):
        raise EdgeConfigError("a node address is also an edge or a carrier: trust would be ambiguous")
    if config.algorithm not in ALGORITHMS:
        raise EdgeConfigError(f"algorithm: one of {sorted(ALGORITHMS)}")
    db_module, db_url = kamailio_db_url(config.database_url)
    return {
        "name": _match(NAME_RE, config.name, "name"),
        "address": address,
        "sip_port": sip_port,
        "trunk_port": trunk_port,
        "nodes": nodes,
        "node_set": NODE_SET,
        "peers": peers,
        "carriers": carriers,
        "db_module": db_module,
        "db_url": db_url,
        "credential_table": VIEW,
        "user_column": USER_COLUMN,
        "password_column": PASSWORD_COLUMN,
        "runtime_dir": _path(config.runtime_dir, "runtime_dir"),
        "module_dir": _module_dir(config.module_dir),
        "realm": _match(REALM_RE, config.realm, "realm"),
        "algorithm": ALGORITHMS[config.algorithm],
        "ping_interval": _int(config.ping_interval, "ping_interval", 1, 3600),
        "node_timeout_ms": _int(config.node_timeout_ms, "node_timeout_ms", 200, 60000),
        "handset_timeout_ms": _int(config.handset_timeout_ms, "handset_timeout_ms", 200, 60000),
        "in_dialog_timeout_ms": _int(config.in_dialog_timeout_ms, "in_dialog_timeout_ms", 1000, 64000),
        "lamp_max_expires": _int(config.lamp_max_expires, "lamp_max_expires", 60, 86400),
        "max_expires": _int(config.max_expires, "max_expires", 60, 86400),
        "dialog_timeout": _int(config.dialog_timeout, "dialog_timeout", 60, 86400),
        "dmq_ping_interval": _int(config.dmq_ping_interval, "dmq_ping_interval", 1, 3600),
        "pike_density": _int(config.pike_density, "pike_density", 1, 100000),
        "register_limit": _int(config.register_limit, "register_limit", 1, 10_000_000),
        "invite_limit": _int(config.invite_limit, "invite_limit", 1, 10_000_000),
        "children": _int(config.children, "children", 1, 64),
        "log_level": _int(config.log_level, "log_level", -5, 3),
        "auth_secret": _match(SECRET_RE, config.auth_secret, "auth_secret") if config.auth_secret else None,
    }


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
    )


def render_edge_config(config: EdgeConfig) -> str:
    """kamailio.cfg for this edge."""
    return _environment().get_template(TEMPLATE).render(**_values(config))


def render_dispatcher_list(config: EdgeConfig) -> str:
    """dispatcher.list: the nodes in set NODE_SET, first node first (highest priority),
    probed and reached from the edge's main socket."""
    values = _values(config)
    lines = ["# Rendered by pbx/edge/render.py: setid uri flags priority attrs"]
    count = len(values["nodes"])
    flags = DISABLED if config.gate_nodes else 0
    for index, (address, port) in enumerate(values["nodes"]):
        lines.append(
            f"{NODE_SET} sip:{address}:{port} {flags} {count - index} "
            f"socket=udp:{values['address']}:{values['sip_port']}"
        )
    return "\n".join(lines) + "\n"


def render_edge_files(config: EdgeConfig) -> dict[str, str]:
    """Every file the edge reads from its runtime dir, by name."""
    return {"kamailio.cfg": render_edge_config(config), "dispatcher.list": render_dispatcher_list(config)}
