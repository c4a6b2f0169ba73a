"""R35 in a cluster: a greeting uploaded once reaches every node's sounds folder through the
change log (each node's agent writes it from the store), before its AstDB key names it."""

from __future__ import annotations

import subprocess

import pytest

from pbx.asterisk.live_state import FAMILY
from pbx.asterisk.local import asterisk_folders
from pbx.services import main_greeting, main_number_handling
from pbx.services.actor import Actor
from pbx.store import transaction
from tests.calls import test_cluster
from tests.cluster import wait_until

pytestmark = pytest.mark.asterisk
OPERATOR = Actor.system("test")
LIVE_TIMEOUT_S = 15

# The cluster tests' nodes and store, shared as fixtures.
node_asterisks = test_cluster.node_asterisks
cluster = test_cluster.cluster


def test_r35_a_greeting_reaches_every_nodes_sounds_folder(cluster, tmp_path):
    cluster.start_all()
    main = cluster.number_id("+442079460100")
    tone = tmp_path / "tone.wav"
    subprocess.run(["sox", "-n", "-r", "8000", "-c", "1", str(tone), "synth", "1", "sine", "1000"], check=True)
    with transaction(cluster.factory) as session:
        main_number_handling.set_hunt(session, OPERATOR, main, "ring_all", [("201", 20)])
        digest = main_greeting.upload_greeting(session, OPERATOR, main, tone.read_bytes())
    name = f"g{main}-{digest}"
    wait_until(
        lambda: cluster.ami.get_all(FAMILY, f"num/{main}/greet") == [name] * test_cluster.NODES,
        LIVE_TIMEOUT_S,
        "the greeting's key on every node",
    )
    for settings in cluster.settings:
        written = asterisk_folders(settings).spool / "pbx-greetings" / f"{name}.wav"
        assert written.exists(), written
        assert written.read_bytes()[:4] == b"RIFF"
