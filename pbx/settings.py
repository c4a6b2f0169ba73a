"""Every setting of pbx, read once from the environment and validated, then passed down.

This is the only module that reads `os.environ`: `Settings.from_env()` is called at
the edge (the `pbx` command, `webui.create_app()`, Alembic) and the object travels
from there. A bad value stops the start with one line naming the variable, rather
than a failure later, deep in a connection. The defaults are one machine: Asterisk
on 127.0.0.1, its config and spool folders those of the local instance
(`pbx.asterisk.local.asterisk_folders`), so a developer's `pbx up`, the test suite
and a benchmark can each run their own Asterisk side by side. Every variable, its
default and meaning: docs/settings.md.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
LOCALHOST = "127.0.0.1"
# One machine: the edge on 127.0.0.1 (where handsets register), the node on 127.0.1.1 and
# the carrier on 127.0.0.3 -- three addresses, so the edge can tell them apart by source.
DEFAULT_NODE_SIP_HOST = "127.0.1.1"
DEFAULT_CARRIER = "127.0.0.3"
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4 = re.compile(rf"(?:{_OCTET}\.){{3}}{_OCTET}")
_NAME = re.compile(r"[a-z][a-z0-9-]{0,31}")
_EDGE_SECRET = re.compile(r"[A-Za-z0-9]{16,64}")
DEFAULT_SMTP_PORT = 25
DEFAULT_SENDER = "voicemail@localhost"
SMTP_TIMEOUT_S = 10.0
_TRUE, _FALSE = ("1", "yes", "true", "on"), ("", "0", "no", "false", "off")
# A host name or an IPv4 address: it is written into Asterisk's config files as is.
_HOST = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?")
_INSTANCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_NODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
_CLUSTER_NODE = re.compile(r"node-([1-9][0-9]{0,2})")
_RTP = re.compile(r"([0-9]{1,5})-([0-9]{1,5})")
DEFAULT_RTP_PORTS = (20000, 29999)
MIN_RTP_PORTS = 20  # a node's share of PBX_RTP_PORTS: at least 10 calls' worth
# The operator's own setting, but it becomes a header: a plain address only.
_SENDER = re.compile(r"[^\s<>\"',;]+@[^\s<>\"',;]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class SettingsError(ValueError):
    """A setting has a value pbx cannot use; the message names the variable."""

    def __init__(self, variable: str, message: str) -> None:
        super().__init__(f"{variable} {message}")
        self.variable = variable


@dataclass(frozen=True)
class AsteriskPorts:
    sip: int = 5060
    ami: int = 5038
    http: int = 8088  # ARI and the HTTP server share it
    trunk_outbound: int = 5098  # where the outside world listens for our outgoing calls


@dataclass(frozen=True)
class SmtpSettings:
    """R23: where voicemail to email is sent from. No host: voicemail to email is off."""

    host: str = ""
    port: int = DEFAULT_SMTP_PORT
    sender: str = DEFAULT_SENDER
    starttls: bool = False
    user: str = ""
    password: str = ""
    timeout: float = SMTP_TIMEOUT_S

    @property
    def enabled(self) -> bool:
        return bool(self.host)


@dataclass(frozen=True)
class Settings:
    state_dir: Path
    cache_dir: Path
    database_url: str
    instance: str
    ports: AsteriskPorts
    web_host: str = LOCALHOST
    web_port: int = 8000
    ami_user: str = "pbx"
    # Empty: generated once into state_dir (pbx.credentials), never a fixed default.
    ami_secret: str = ""
    ari_user: str = "pbx"
    ari_password: str = ""
    # Besides 127.0.0.1 and asterisk_host, the addresses AMI takes a login from (pbx's hosts).
    ami_permit: tuple[str, ...] = ()
    # The carrier (the outside world): the edge knows it by this source address on its
    # trunk port, and sends our outgoing calls to trunk_host:ports.trunk_outbound.
    trunk_name: str = "carrier"
    trunk_host: str = DEFAULT_CARRIER
    # The SIP edges (Kamailio) in front of the node: handsets register to edge_sip_port,
    # carriers send to edge_trunk_port. The node sends calls for handsets and carriers to
    # the first edge that answers its OPTIONS, and trusts calls only from these addresses.
    edge_hosts: tuple[str, ...] = (LOCALHOST,)
    edge_sip_port: int = 5060
    edge_trunk_port: int = 5080
    edge_runtime_dir: Path | None = None  # the local edges' folders; None: state_dir/edge
    edge_secret: str = ""  # the edges' shared nonce secret; empty: each edge its own
    # This Asterisk node's own SIP address (port ports.sip): not an edge's, a handset's or
    # the carrier's, since the edge trusts a node by its source address.
    node_sip_host: str = DEFAULT_NODE_SIP_HOST
    conf_dir: Path = field(default=REPO_ROOT / "asterisk-conf")
    dialplan_dir: Path = field(default=REPO_ROOT / "dialplan")
    # Where Asterisk listens (SIP, AMI, HTTP/ARI) and where pbx reaches it.
    asterisk_host: str = LOCALHOST
    # Asterisk's config folder (rendered files go there) and spool folder (voicemail is
    # read from it); None: the local instance's (pbx.asterisk.local.asterisk_folders).
    asterisk_etc_dir: Path | None = None
    asterisk_spool_dir: Path | None = None
    # Signs session cookies and CSRF tokens; empty: generated once into state_dir.
    secret_key: str = ""
    secure_cookies: bool = False  # behind HTTPS: cookies are sent over HTTPS only
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    # This Asterisk node's name: its agent's cursor in the change log (store table `node`).
    node_name: str = "node-1"
    # The cluster's nodes (PBX_NODES): their SIP addresses, node-1 first; the edges dispatch
    # calls over them. Empty: one node, node_sip_host. See Settings.for_node.
    nodes: tuple[str, ...] = ()
    # The RTP ports this node's Asterisk takes its media ports from (rtp.conf).
    rtp_ports: tuple[int, int] = DEFAULT_RTP_PORTS
    # The edges give a node calls only once its agent has caught up (it starts disabled
    # there, and the agent enables it); off: a node is given calls once it answers OPTIONS.
    edge_gate_nodes: bool = False
    # Webhooks (R45, pbx.webhooks): a failed delivery is retried after base * 2^(attempts-1)
    # seconds, at most max seconds.
    webhook_retry_base_s: float = 5.0
    webhook_retry_max_s: float = 3600.0
    # Set by for_node: the cluster's settings this node's were derived from.
    cluster: Settings | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        own = {self.node_sip_host} | set(self.edge_hosts)
        if len(own) != len(self.edge_hosts) + 1 or self.trunk_host in own:
            raise SettingsError(
                "PBX_NODE_SIP_HOST",
                "PBX_EDGE_HOSTS and PBX_TRUNK_HOST must all differ: "
                "the edge tells a node, an edge and the carrier apart by source address",
            )
        if set(self.nodes) & (set(self.edge_hosts) | {self.trunk_host}) or len(set(self.nodes)) != len(self.nodes):
            raise SettingsError(
                "PBX_NODES", "must be distinct addresses, none an edge's (PBX_EDGE_HOSTS) or the carrier's"
            )
        if self.edge_sip_port == self.edge_trunk_port:
            raise SettingsError("PBX_EDGE_TRUNK_PORT", "must differ from PBX_EDGE_SIP_PORT")
        start, end = self.rtp_ports
        if not 1024 <= start < end <= 65535 or end - start + 1 < MIN_RTP_PORTS:
            raise SettingsError("PBX_RTP_PORTS", f"must be a range like 20000-29999 of at least {MIN_RTP_PORTS} ports")

    @property
    def cluster_name(self) -> str:
        """The cluster's name (the local edges' folders): the instance, before for_node."""
        return self.cluster.instance if self.cluster else self.instance

    @property
    def node_hosts(self) -> tuple[str, ...]:
        """Every node's SIP address (port ports.sip), node-1 first: what the edges dispatch over."""
        return self.nodes or (self.node_sip_host,)

    @property
    def node_names(self) -> tuple[str, ...]:
        return tuple(f"node-{i}" for i in range(1, len(self.nodes) + 1)) if self.nodes else (self.node_name,)

    def for_node(self, name: str) -> Settings:
        """The settings of cluster node `name` (node-i, the i-th of PBX_NODES): its agent's name,
        its SIP address, its Asterisk there (AMI, ARI and SIP on that address, the same ports on
        every node), its local instance `<instance>-node-i`, its share of the RTP ports. The
        edges' folders stay the cluster's. With no PBX_NODES: these settings as they are."""
        if not self.nodes:
            return self
        match = _CLUSTER_NODE.fullmatch(name)
        if match is None or not 1 <= int(match.group(1)) <= len(self.nodes):
            raise SettingsError(
                "PBX_NODE_NAME", f"must be node-1 .. node-{len(self.nodes)} with PBX_NODES, not {name!r}"
            )
        if self.cluster is not None:  # already one node's
            return self if name == self.node_name else self.cluster.for_node(name)
        index, count = int(match.group(1)), len(self.nodes)
        start, end = self.rtp_ports
        share = (end - start + 1) // count
        if share < MIN_RTP_PORTS:
            raise SettingsError("PBX_RTP_PORTS", f"gives each of {count} nodes fewer than {MIN_RTP_PORTS} ports")
        first = start + (index - 1) * share
        address = self.nodes[index - 1]
        return replace(
            self,
            node_name=name,
            node_sip_host=address,
            asterisk_host=address,
            instance=self.instance if count == 1 else f"{self.instance}-{name}",
            cluster=self,
            rtp_ports=(first, first + share - 1),
        )

    @property
    def edge_dir(self) -> Path:
        return self.edge_runtime_dir or self.state_dir / "edge"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """The settings the environment (or `env`) gives; SettingsError names a bad one."""
        read = _Reader(os.environ if env is None else env)
        if read.text("PBX_TRUNK_SECRET"):
            raise SettingsError(
                "PBX_TRUNK_SECRET",
                "is gone: the SIP edge knows the carrier by its source address (PBX_TRUNK_HOST); unset it",
            )
        if read.text("PBX_VOICEMAIL_SPOOL"):
            raise SettingsError(
                "PBX_VOICEMAIL_SPOOL",
                "is replaced by PBX_ASTERISK_SPOOL_DIR: Asterisk's "
                "spool folder (the one holding voicemail/), not its voicemail/pbx folder",
            )
        state_dir = read.path("PBX_STATE_DIR", Path.home() / ".local/state/pbx")
        settings = cls(
            state_dir=state_dir,
            cache_dir=read.path("PBX_CACHE_DIR", Path.home() / ".cache/pbx"),
            database_url=read.text("PBX_DATABASE_URL") or f"sqlite:///{state_dir / 'pbx.db'}",
            instance=read.matching("PBX_INSTANCE", "dev", _INSTANCE, "a name of letters, digits, '.', '_', '-'"),
            node_name=read.matching(
                "PBX_NODE_NAME", "node-1", _NODE, "a name of letters, digits, '.', '_', '-' (at most 100)"
            ),
            ports=AsteriskPorts(
                sip=read.port("PBX_SIP_PORT", 5060),
                ami=read.port("PBX_AMI_PORT", 5038),
                http=read.port("PBX_HTTP_PORT", 8088),
                trunk_outbound=read.port("PBX_TRUNK_OUTBOUND_PORT", 5098),
            ),
            web_host=read.host("PBX_WEB_HOST", LOCALHOST),
            web_port=read.port("PBX_WEB_PORT", 8000),
            ami_user=read.credential("PBX_AMI_USER", "pbx"),
            ami_secret=read.credential("PBX_AMI_SECRET", ""),
            ami_permit=read.ipv4_list("PBX_AMI_PERMIT", ()),
            ari_user=read.credential("PBX_ARI_USER", "pbx"),
            ari_password=read.credential("PBX_ARI_PASSWORD", ""),
            trunk_name=read.matching(
                "PBX_TRUNK_NAME", "carrier", _NAME, "a name of lower-case letters, digits and '-'"
            ),
            trunk_host=read.ipv4("PBX_TRUNK_HOST", DEFAULT_CARRIER),
            edge_hosts=read.ipv4_list("PBX_EDGE_HOSTS", (LOCALHOST,)),
            edge_sip_port=read.port("PBX_EDGE_SIP_PORT", 5060),
            edge_trunk_port=read.port("PBX_EDGE_TRUNK_PORT", 5080),
            edge_runtime_dir=read.folder("PBX_EDGE_RUNTIME_DIR"),
            edge_secret=read.matching("PBX_EDGE_SECRET", "", _EDGE_SECRET, "16 to 64 letters and digits")
            if read.text("PBX_EDGE_SECRET")
            else "",
            node_sip_host=read.ipv4("PBX_NODE_SIP_HOST", DEFAULT_NODE_SIP_HOST),
            asterisk_host=read.host("PBX_ASTERISK_HOST", LOCALHOST),
            asterisk_etc_dir=read.folder("PBX_ASTERISK_ETC_DIR"),
            asterisk_spool_dir=read.folder("PBX_ASTERISK_SPOOL_DIR"),
            secret_key=read.single_line("PBX_SECRET_KEY"),
            secure_cookies=read.flag("PBX_WEB_SECURE_COOKIES"),
            smtp=SmtpSettings(
                host=read.host("PBX_SMTP_HOST", ""),
                port=read.port("PBX_SMTP_PORT", DEFAULT_SMTP_PORT),
                sender=read.matching(
                    "PBX_SMTP_FROM", DEFAULT_SENDER, _SENDER, "a plain address like voicemail@example.com"
                ),
                starttls=read.flag("PBX_SMTP_STARTTLS"),
                user=read.single_line("PBX_SMTP_USER"),
                password=read.single_line("PBX_SMTP_PASSWORD"),
            ),
            nodes=read.ipv4_list("PBX_NODES", ()),
            rtp_ports=read.port_range("PBX_RTP_PORTS", DEFAULT_RTP_PORTS),
            edge_gate_nodes=read.flag("PBX_EDGE_GATE_NODES"),
            webhook_retry_base_s=read.seconds("PBX_WEBHOOK_RETRY_BASE_S", 5.0),
            webhook_retry_max_s=read.seconds("PBX_WEBHOOK_RETRY_MAX_S", 3600.0),
        )
        return settings.for_node(settings.node_name)


def process_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment a pbx subprocess starts with: ours (so it reads the same settings), plus extra."""
    return {**os.environ, **(extra or {})}


class _Reader:
    """Reads one variable at a time; every refusal is a SettingsError naming it."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env

    def text(self, name: str) -> str:
        return self.env.get(name, "").strip()

    def single_line(self, name: str) -> str:
        value = self.text(name)
        if _CONTROL.search(value):
            raise SettingsError(name, "must be one line without control characters")
        return value

    def matching(self, name: str, default: str, pattern: re.Pattern[str], what: str) -> str:
        value = self.text(name) or default
        if not pattern.fullmatch(value):
            raise SettingsError(name, f"must be {what}, not {value!r}")
        return value

    def seconds(self, name: str, default: float) -> float:
        raw = self.text(name)
        if not raw:
            return default
        try:
            value = float(raw)
        except ValueError:
            value = -1.0
        if not 0.01 <= value <= 86400:
            raise SettingsError(name, f"must be a number of seconds from 0.01 to 86400, not {raw!r}")
        return value

    def port(self, name: str, default: int) -> int:
        raw = self.text(name)
        if not raw:
            return default
        if not raw.isdigit() or not 1 <= int(raw) <= 65535:
            raise SettingsError(name, f"must be a port number (1-65535), not {raw!r}")
        return int(raw)

    def port_range(self, name: str, default: tuple[int, int]) -> tuple[int, int]:
        raw = self.text(name)
        if not raw:
            return default
        match = _RTP.fullmatch(raw)
        if match is None:
            raise SettingsError(name, f"must be a port range like 20000-29999, not {raw!r}")
        return int(match.group(1)), int(match.group(2))

    def host(self, name: str, default: str) -> str:
        return self.matching(name, default, _HOST, "a host name or IPv4 address") if self.text(name) else default

    def ipv4(self, name: str, default: str) -> str:
        return self.matching(name, default, _IPV4, "an IPv4 address like 127.0.1.1")

    def ipv4_list(self, name: str, default: tuple[str, ...]) -> tuple[str, ...]:
        raw = self.text(name)
        if not raw:
            return default
        items = tuple(item.strip() for item in raw.split(","))
        if not all(_IPV4.fullmatch(item) for item in items) or len(set(items)) != len(items):
            raise SettingsError(name, f"must be distinct IPv4 addresses separated by commas, not {raw!r}")
        return items

    def credential(self, name: str, default: str) -> str:
        # Written into Asterisk's config files, where ';' starts a comment.
        value = self.env.get(name) or default
        if value != value.strip() or _CONTROL.search(value) or ";" in value:
            raise SettingsError(name, "must have no spaces at the ends, no control characters and no ';'")
        return value

    def flag(self, name: str) -> bool:
        raw = self.text(name).lower()
        if raw not in _TRUE + _FALSE:
            raise SettingsError(name, f"must be 1 or 0 (yes/no, true/false), not {raw!r}")
        return raw in _TRUE

    def path(self, name: str, default: Path) -> Path:
        raw = self.single_line(name)
        return Path(raw) if raw else default

    def folder(self, name: str) -> Path | None:
        raw = self.single_line(name)
        if not raw:
            return None
        if not Path(raw).is_absolute():
            raise SettingsError(name, f"must be an absolute path, not {raw!r}")
        return Path(raw)
