"""Benchmark of issue 9: call rate through the edge vs straight to one Asterisk, same run.

One edge + one node + its agent, as `pbx up` runs them (bench/edgesystem.py), a store of N
numbers, and four paths on the same Asterisk, interleaved:
- *edge*: the carrier (127.0.4.201) -> the edge's trunk port -> the node (`pbx-from-edge`,
  `did/<digits>` and the number's features from AstDB, `pbx-ring`) -> the edge -> the handset
  (sipp, registered at the edge from 127.0.4.51, answers at once): the production path;
- *single*: the baseline of the goal, one Asterisk as before the cluster (bench/baselines.py):
  a carrier (127.0.4.203) straight to the node, two dialplan lines per number, the old
  `pbx-number` fast path, the handset a PJSIP endpoint of its own (a sipp UAS on 127.0.4.52);
- *direct*: the floor: a caller (127.0.4.202) straight to the node, one priority
  `Dial(PJSIP/bench-direct-handset,18,I)`, no number and no feature read;
- *edge-bare*: the edge path with the node's dialplan one `Dial` (edge-bare - direct: the
  edge's SIP at the node; edge - edge-bare: the feature dialplan). CPU only.
Each call is held 1 s and hung up by the caller. Figures: the highest rate (sipp -r, 5 s of calls
a step, x1.25 from 100/s, then 3 bisections) with no failed call, median of the rounds; Asterisk's
CPU per call (/proc/<pid>/stat, user+system) at a steady 150 calls/s, median of interleaved runs;
and the edge's (all Kamailio processes) on the edge path.

Run from the repo root, as root like the test suite:
    python3 bench/edge_callrate_bench.py --rounds 1      # 10,000 numbers (~25 min)
    python3 bench/edge_callrate_bench.py --numbers 100 --rounds 1   # a quicker look
Goal: rate edge/single >= 0.8; Asterisk CPU per call edge/single <= 1. Everything is bounded
(calls, rates, a timeout on every wait) and stopped at the end.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import baselines
import callrate
from edgesystem import (
    CARRIER,
    DIRECT_CALLER,
    DIRECT_HANDSET,
    EDGE,
    EDGE_SIP,
    EDGE_TRUNK,
    HANDSET_IP,
    NODE,
    SINGLE_CALLER,
    System,
)

from pbx import demo
from pbx.asterisk.local import LocalAsterisk
from pbx.asterisk.render import edge_endpoint
from pbx.edge import local as edge_local

INSTANCE = "bench-callrate"
NUMBER, HANDSET = "+442079460201", "desk-os-1"  # the demo's Alice, logged in to desk-os-1
# The edge path with the node's feature dialplan replaced by one Dial for one DID: splits the
# edge path's cost into the edge's SIP (edge-bare vs direct) and the feature dialplan (edge vs
# edge-bare). Not a number of the store: an exact extension beats pbx-from-edge's pattern.
BARE_EXTEN = "+449990000001"
GOAL_RATE_RATIO = 0.8
EDGE_DRAIN_S = 15.0


def drainer(system: System):
    """Between steps: no channel on the node and no dialog on the edge (bounded)."""

    def drain(local: LocalAsterisk) -> None:
        deadline = time.monotonic() + EDGE_DRAIN_S
        while time.monotonic() < deadline:
            match = re.search(r"(\d+) active channels?", local.command("core show channels count"))
            dialogs = sum(int((edge.rpc("dlg.stats_active") or {}).get("all", 0)) for edge in system.edges)
            if (not match or match.group(1) == "0") and dialogs == 0:
                return
            time.sleep(0.2)
        local.command("channel request hangup all")
        time.sleep(1)

    return drain


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--numbers", type=int, default=10_000, help="numbers in the store (<= 10,000)")
    parser.add_argument("--rounds", type=int, default=3, help="rate searches per path (interleaved)")
    parser.add_argument(
        "--node-timeout-ms", type=int, default=0, help="the edge's node_timeout_ms (0: EdgeConfig's default)"
    )
    parser.add_argument("--edge-shm-mb", type=int, default=0, help="Kamailio's shared memory (0: pbx.edge.local's)")
    parser.add_argument("--cpu-rate", type=int, default=callrate.CPU_RATE, help="calls/s of the CPU runs")
    parser.add_argument("--cpu-repeats", type=int, default=callrate.CPU_REPEATS, help="interleaved CPU runs a path")
    parser.add_argument("--cpu-only", action="store_true", help="measure CPU per call only (no rate search)")
    parser.add_argument(
        "--no-verbose-log", action="store_true", help="the node logs no verbose lines (every dialplan step) to a file"
    )
    parser.add_argument(
        "--rate-paths", default="single,edge,direct", help="paths whose highest rate is searched (comma-separated)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the state dir")
    args = parser.parse_args()
    if args.edge_shm_mb:
        edge_local.SHM_MB = args.edge_shm_mb  # read by LocalEdge when it builds kamailio's argv
    print(f"edge shared memory: {edge_local.SHM_MB} MB")
    overrides = {"node_timeout_ms": args.node_timeout_ms} if args.node_timeout_ms else {}
    system = System(INSTANCE, "sqlite", args.keep, overrides)
    print(f"edge overrides: {system.edge_overrides}")
    handsets: list[callrate.Handset] = []
    try:
        system.start(min(args.numbers, 10_000))
        local = system.local
        assert local is not None
        work = system.work
        edge_handset = callrate.Handset((EDGE, EDGE_SIP), HANDSET_IP, HANDSET, demo.sip_password(HANDSET), work)
        handsets.append(edge_handset)
        edge_handset.start(timeout_s=7200)
        direct_handset = callrate.Handset((NODE, 0), DIRECT_HANDSET, "bench-direct-handset", "", work)
        handsets.append(direct_handset)
        port = callrate.free_ports(6, ip=DIRECT_HANDSET)
        bind = (local.etc_dir / "pjsip_instance.conf").read_text().splitlines()[0]
        pjsip = baselines.endpoints(bind, DIRECT_CALLER, SINGLE_CALLER, DIRECT_HANDSET, port, HANDSET)
        bare = f"Dial(PJSIP/{HANDSET}@{edge_endpoint(1)},18,I)"
        routes = baselines.dids(local)
        baselines.install(local, pjsip, baselines.dialplan(routes, BARE_EXTEN, bare))
        print(f"baselines: direct, and single with {2 * len(routes)} per-number dialplan lines")
        direct_handset.serve(port, timeout_s=7200)
        if args.no_verbose_log:
            logger = (local.etc_dir / "logger.conf").read_text().replace(",verbose", "")
            local.write_files({"logger.conf": logger})
            local.command("logger reload")
            print("the node logs no verbose lines")
        node_sip = f"{NODE}:{system.settings.ports.sip}"
        paths = [
            callrate.CallPath("single", node_sip, SINGLE_CALLER, NUMBER),
            callrate.CallPath("edge", f"{EDGE}:{EDGE_TRUNK}", CARRIER, NUMBER),
            callrate.CallPath("direct", node_sip, DIRECT_CALLER, baselines.DIRECT_EXTEN),
            callrate.CallPath("edge-bare", f"{EDGE}:{EDGE_TRUNK}", CARRIER, BARE_EXTEN),
        ]
        drain = drainer(system)
        # A call on each first: both paths work before anything is measured.
        for path in paths:
            step = callrate.run_step(path, 5, work)
            drain(local)
            if not step.ok:
                raise RuntimeError(f"{path.name}: {step.successful}/{step.calls} calls ok; see {work}")
        processes = {"asterisk": lambda: [system.asterisk_pid()], "edge": system.edge_pids}
        print(f"CPU per call at {args.cpu_rate} calls/s (median of {args.cpu_repeats}, interleaved)")
        cost = callrate.cpu_per_call(
            paths, local, work, processes, rate=args.cpu_rate, repeats=args.cpu_repeats, drain=drain
        )
        asterisk = {name: groups["asterisk"] for name, groups in cost.items()}
        print(
            "Asterisk CPU per call: "
            + ", ".join(f"{name} {ms:.3f} ms" for name, ms in asterisk.items())
            + " (edge-bare - direct: the edge's SIP; edge - edge-bare: the feature dialplan)"
        )
        if args.cpu_only:
            return 0
        searched = [path for path in paths if path.name in args.rate_paths.split(",")]
        found: dict[str, list[int]] = {path.name: [] for path in searched}
        for round_ in range(args.rounds):
            for path in searched:
                print(f"round {round_ + 1}: {path.name} (to {path.dest} from {path.caller_ip}, dialling {path.target})")
                start = int(found[path.name][-1] * 0.8) if found[path.name] else callrate.START_RATE
                found[path.name].append(callrate.find_max_rate(path, local, work, start=start, drain=drain).best)
        best = {name: int(statistics.median(values)) for name, values in found.items()}
        print(f"highest rate with no failed call (median of {args.rounds} rounds):")
        for name, values in found.items():
            print(f"    {name:>10} {best[name]:5d} calls/s {values}")
        for baseline in ("single", "direct"):
            if baseline in best and "edge" in best and best[baseline]:
                ratio = best["edge"] / best[baseline]
                verdict = "ok" if ratio >= GOAL_RATE_RATIO else "MISSED"
                goal = f"[goal >= {GOAL_RATE_RATIO}: {verdict}]" if baseline == "single" else "(the floor)"
                print(f"call rate edge/{baseline}: {ratio:.2f}  {goal}")
        for baseline in ("single", "direct"):
            ratio = asterisk["edge"] / asterisk[baseline]
            goal = f"[goal <= 1: {'ok' if ratio <= 1 else 'MISSED'}]" if baseline == "single" else "(the floor)"
            print(
                f"Asterisk CPU per call edge/{baseline}: {asterisk['edge']:.3f} / {asterisk[baseline]:.3f} ms = "
                f"{ratio:.2f}  {goal}"
            )
        print(
            f"the edge's Kamailio: {cost['edge']['edge']:.3f} ms per call "
            f"(on a straight path: {cost['direct']['edge']:.3f} ms, idle probing)"
        )
        return 0
    finally:
        for handset in handsets:
            handset.stop()
        system.stop()


if __name__ == "__main__":
    sys.exit(main())
