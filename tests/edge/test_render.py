"""The rendered config: values are validated, and Kamailio 5.6 accepts each shape."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from pbx.edge.local import LocalEdge
from pbx.edge.render import (
    Carrier,
    EdgeConfig,
    EdgeConfigError,
    Node,
    kamailio_db_url,
    render_dispatcher_list,
    render_edge_config,
)


def _config(tmp: Path, **kwargs) -> EdgeConfig:
    kwargs.setdefault("nodes", (Node("127.0.1.1"),))
    kwargs.setdefault("database_url", f"sqlite:///{tmp / 'pbx.db'}")
    kwargs.setdefault("runtime_dir", tmp)
    kwargs.setdefault("name", "edge1")
    kwargs.setdefault("address", "127.0.1.101")
    return EdgeConfig(**kwargs)


@pytest.fixture
def runtime(tmp_path):
    # unix socket paths must stay short: not under pytest's deep tmp_path
    path = Path(tempfile.mkdtemp(prefix="pbx-edgec-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


SHAPES = {
    "1 edge, 1 node": {},
    "2 edges, 3 nodes, carriers": {
        "peers": ("127.0.1.102",),
        "nodes": (Node("127.0.1.1"), Node("127.0.1.2"), Node("127.0.1.3")),
        "carriers": (Carrier("carrier1", "127.0.1.201"), Carrier("carrier2", "127.0.1.202", 5070)),
        "auth_secret": "0123456789abcdefXYZ",
        "algorithm": "priority",
    },
    "3 edges, postgres": {
        "peers": ("127.0.1.102", "127.0.1.103"),
        "nodes": (Node("127.0.1.1"), Node("127.0.1.2", 5062)),
        "database_url": "postgresql+psycopg://pbx:s3cret@127.0.0.1:5432/pbx",
    },
}


@pytest.mark.parametrize("shape", SHAPES)
def test_kamailio_accepts_each_shape(runtime, shape):
    edge = LocalEdge(_config(runtime, **SHAPES[shape]))
    output = edge.check()  # raises with kamailio's complaint
    assert "config file ok" in output


def test_two_edge_config_shares_state_and_trusts_by_address(tmp_path):
    text = render_edge_config(_config(tmp_path, **SHAPES["2 edges, 3 nodes, carriers"]))
    assert 'modparam("dmq", "notification_address", "sip:127.0.1.102:5060")' in text
    assert 'modparam("dialog", "enable_dmq", 1)' in text
    assert 'loadmodule "dmq_usrloc.so"' in text
    assert '$si == "127.0.1.201"' in text and '$var(carrier) = "carrier1"' in text
    assert '$du = "sip:127.0.1.202:5070"' in text
    assert 'ds_select_dst("1", "8")' in text
    single = render_edge_config(_config(tmp_path))
    assert "dmq" not in single.replace("KDMQ", "")  # one edge: nothing to share
    assert "listen=udp:127.0.1.101:5080" not in single  # no carrier: no trunk listener


def test_dispatcher_list_orders_nodes_first_first(tmp_path):
    text = render_dispatcher_list(_config(tmp_path, nodes=(Node("127.0.1.1"), Node("127.0.1.2", 5062))))
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    assert lines == [
        "1 sip:127.0.1.1:5060 0 2 socket=udp:127.0.1.101:5060",
        "1 sip:127.0.1.2:5062 0 1 socket=udp:127.0.1.101:5060",
    ]


@pytest.mark.parametrize(
    "change",
    [
        {"address": "127.0.1.101\nlisten=udp:0.0.0.0:5060"},
        {"address": "edge.example"},
        {"name": 'edge1"; exit'},
        {"nodes": ()},
        {"nodes": (Node("127.0.1.1"), Node("127.0.1.1"))},
        {"peers": ("127.0.1.101",)},
        {"carriers": (Carrier("Bad Name", "127.0.1.201"),)},
        {"carriers": (Carrier("c1", "127.0.1.1"),)},  # a node's address: ambiguous trust
        {"realm": 'pbx"'},
        {"auth_secret": "short"},
        {"sip_port": 5080},
        {"algorithm": "weighted"},
        {"runtime_dir": Path("/tmp/a b")},
        {"database_url": "mysql://u:p@h/db"},
        {"database_url": "sqlite:///relative.db"},
        {"database_url": 'postgresql://u:p"x@h/db'},
        {"in_dialog_timeout_ms": 100},
    ],
)
def test_unsafe_values_are_refused(tmp_path, change):
    with pytest.raises(EdgeConfigError):
        render_edge_config(_config(tmp_path, **change))


def test_in_dialog_requests_wait_timer_f_and_initial_ones_their_own_timeouts(tmp_path):
    # A BYE answered slowly by a busy node must not become a 408 after tm's 3 s (bench/).
    text = render_edge_config(_config(tmp_path))
    within = text.split("route[WITHINDLG] {", 1)[1].split("\n}", 1)[0]
    assert "t_set_fr(0, 32000);" in within
    assert 'modparam("tm", "fr_timer", 3000)' in text  # still bounds the node probes
    assert "t_set_fr(0, 5000);" in text  # initial requests to a node: node_timeout_ms


def test_store_urls_become_kamailio_urls():
    assert kamailio_db_url("sqlite:////var/lib/pbx/pbx.db") == ("db_sqlite.so", "sqlite:///var/lib/pbx/pbx.db")
    assert kamailio_db_url("postgresql+psycopg://pbx:pw@10.0.0.5:5433/pbx") == (
        "db_postgres.so",
        "postgres://pbx:pw@10.0.0.5:5433/pbx",
    )
    assert kamailio_db_url("postgresql://pbx@db.internal/pbx") == (
        "db_postgres.so",
        "postgres://pbx@db.internal:5432/pbx",
    )
