"""Real Kamailio edges and sipp on 127.0.1.x. These tests fail (never skip)
when kamailio or sipp is missing: scripts/install.sh installs both."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from pbx.edge.local import LocalEdge, kamailio_binary
from pbx.edge.render import Carrier, EdgeConfig, Node
from pbx.store import make_engine, make_session_factory, transaction
from pbx.store.migrate import upgrade
from pbx.store.models import Handset, Operator, Site
from tests.sip import sipp

EDGE_1, EDGE_2 = "127.0.1.101", "127.0.1.102"
NODE_1, NODE_2, NODE_3 = "127.0.1.1", "127.0.1.2", "127.0.1.3"
CARRIER = "127.0.1.201"
STRANGER = "127.0.1.99"
AUTH_SECRET = "pbxedgetestsecret0123"


@pytest.fixture(scope="session", autouse=True)
def _tools():
    kamailio_binary()  # raises: kamailio is not installed
    if not Path(sipp.SIPP).exists():
        raise RuntimeError("sipp is not installed: run scripts/install.sh (sip-tester)")


@pytest.fixture(autouse=True)
def _sipp_logs(tmp_path):
    sipp.set_work_root(tmp_path / "sipp")
    yield
    sipp.kill_all()


class Store:
    """The store (with the credential view); handsets added as the web UI would."""

    def __init__(self, url: str):
        self.url = url
        upgrade(url)  # migration 0005 creates the credential view
        self.engine = make_engine(url)
        self.factory = make_session_factory(self.engine)
        with transaction(self.factory) as session:
            operator = Operator(name="Edge test")
            session.add(Site(operator=operator, name="HQ"))

    def add_handset(self, phone_id: str, password: str) -> None:
        with transaction(self.factory) as session:
            site = session.query(Site).one()
            session.add(Handset(phone_id=phone_id, site=site, sip_password=password))

    def close(self) -> None:
        self.engine.dispose()


@pytest.fixture
def store(tmp_path):
    db = Store(f"sqlite:///{tmp_path / 'store.db'}")
    yield db
    db.close()


class Edges:
    """Start edges for one test; all stopped at its end."""

    def __init__(self, database_url: str):
        self.database_url = database_url
        self.started: list[LocalEdge] = []
        self.dirs: list[Path] = []

    def config(self, name: str, address: str, **kwargs) -> EdgeConfig:
        runtime = Path(tempfile.mkdtemp(prefix=f"pbx-{name}-", dir="/tmp"))
        self.dirs.append(runtime)
        kwargs.setdefault("nodes", (Node(NODE_1), Node(NODE_2)))
        kwargs.setdefault("carriers", (Carrier("carrier1", CARRIER),))
        kwargs.setdefault("ping_interval", 1)
        kwargs.setdefault("dmq_ping_interval", 5)
        kwargs.setdefault("auth_secret", AUTH_SECRET)
        return EdgeConfig(name=name, address=address, database_url=self.database_url, runtime_dir=runtime, **kwargs)

    def start(self, name: str, address: str, **kwargs) -> LocalEdge:
        edge = LocalEdge(self.config(name, address, **kwargs))
        self.started.append(edge)
        edge.up(timeout=15)
        return edge

    def stop_all(self, keep_logs_in: Path | None = None) -> None:
        for edge in self.started:
            edge.down()
            if keep_logs_in is not None and edge.log_path.exists():
                shutil.copy(edge.log_path, keep_logs_in / f"{edge.config.name}.log")
        for directory in self.dirs:
            shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def edges(store, tmp_path):
    started = Edges(store.url)
    yield started
    started.stop_all(keep_logs_in=tmp_path)
