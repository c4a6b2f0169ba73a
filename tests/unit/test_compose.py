"""docker-compose.yml describes the cluster's topology with the settings pbx really has.

No Docker engine runs here: the file is parsed, every PBX_* variable it sets must be one
pbx/settings.py reads, each service's environment must be settings pbx accepts, and the
topology must be the one `pbx up --nodes 2` runs (two edges, a node and an agent per node).
"""

from __future__ import annotations

import re

import yaml

from pbx.settings import REPO_ROOT, Settings

COMPOSE = REPO_ROOT / "docker-compose.yml"
KNOWN = set(re.findall(r'"(PBX_[A-Z0-9_]+)"', (REPO_ROOT / "pbx" / "settings.py").read_text()))


def services() -> dict[str, dict]:
    return yaml.safe_load(COMPOSE.read_text())["services"]


def test_every_pbx_variable_in_the_compose_file_is_a_setting():
    for name, service in services().items():
        env = service.get("environment") or {}
        unknown = {k for k in env if k.startswith("PBX_")} - KNOWN
        assert not unknown, (name, unknown)


def test_each_pbx_service_has_settings_pbx_accepts_and_the_cluster_topology():
    found = services()
    nodes = Settings.from_env({k: str(v) for k, v in found["agent-1"]["environment"].items()}).node_hosts
    assert len(nodes) == 2
    for service in found.values():
        env = {k: str(v) for k, v in (service.get("environment") or {}).items() if k.startswith("PBX_")}
        if env:
            Settings.from_env(env)  # raises SettingsError on a bad value
    for index, address in enumerate(nodes, start=1):
        agent, node = found[f"agent-{index}"], found[f"node-{index}"]
        settings = Settings.from_env({k: str(v) for k, v in agent["environment"].items()})
        assert (settings.node_name, settings.asterisk_host) == (f"node-{index}", address)
        assert node["networks"]["pbx"]["ipv4_address"] == address
        assert agent["command"] == "pbx controller"
    edges = Settings.from_env({k: str(v) for k, v in found["web"]["environment"].items()}).edge_hosts
    for index, address in enumerate(edges, start=1):
        assert found[f"edge-{index}"]["networks"]["pbx"]["ipv4_address"] == address
        assert found[f"edge-{index}"]["command"] == f"pbx edge run --index {index}"
    # Asterisk and Kamailio come from Debian's packages.
    assert "debian:forky" in (REPO_ROOT / "asterisk.Dockerfile").read_text()
    assert "apt-get install" in (REPO_ROOT / "edge.Dockerfile").read_text()
