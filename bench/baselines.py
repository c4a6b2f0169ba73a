"""The call-rate benchmark's baselines: one Asterisk reached straight, with no edge.

Both are set up on the benchmark's own node, beside the production path (which they leave
untouched), as bench-only config: static endpoints after the node's transport
(pjsip_instance.conf, the one PJSIP file the agent never renders) and one included
dialplan file (extensions_bench.conf).

- *single*: the node as it was before the cluster (the code before commit 4ff6448, the
  call path of pbx/asterisk/render.py and dialplan/pbx.conf there): the carrier is an
  endpoint of its own whose context holds two lines per number (its E.164 with and without
  '+'), `pbx-number`'s fast path reads the number's call key from AstDB and dials the
  handset as a PJSIP endpoint of its own, named by its phone ID. What the issue compares
  with: "straight to one Asterisk", with its per-number dialplan lines. Its endpoints offer
  today's codecs (R44, which came after): offering G.722 and Opus first costs every call
  ~0.5 ms of Asterisk CPU (measured), on either path.
- *direct*: the least one Asterisk does for a call: a static caller, one priority
  `Dial(PJSIP/bench-direct-handset,18,I)`: no number, no feature read at all. The floor.

Both dial the same sipp UAS (the direct handset, 127.0.4.52), which answers at once.
"""

from __future__ import annotations

import re
import time

from pbx.asterisk import routing
from pbx.asterisk.local import LocalAsterisk
from pbx.asterisk.render import PJSIP_TEMPLATES

DIRECT_EXTEN = "100"
BENCH_DIALPLAN = "extensions_bench.conf"
# The codecs a node offers and accepts today (R44: G.722 and Opus first), as rendered.
CODECS = re.search(r"^allow=.*$", PJSIP_TEMPLATES, re.MULTILINE).group(0)  # type: ignore[union-attr]

# The old pbx-number fast path, as it was (only the plain call is measured: anything else
# hangs up, so a number with a feature set would fail the run, not hide in it).
SINGLE_NUMBER = "\n".join(
    [
        "",
        "[bench-single-number]",
        "exten => _[n].,1,Set(ARRAY(PBX_NUM,PBX_HOPS,PBX_MAIN,PBX_FWD,PBX_DND,PBX_EP,PBX_RING,PBX_CW)="
        "${EXTEN:1},$[0${PBX_HOPS} + 1],${DB(pbx/num/${EXTEN:1}/call)})",
        ' same => n,GotoIf($[${PBX_HOPS} > 5 | "${PBX_MAIN}${PBX_FWD}${PBX_DND}" != "" | "${PBX_EP}" = ""'
        ' | "${PBX_CW}" = ""]?other)',
        " same => n(ring),Dial(PJSIP/${PBX_EP},${PBX_RING},I)",
        " same => n,Hangup()",
        " same => n(other),Log(WARNING,bench: the single path's number n${PBX_NUM} is not a plain call)",
        " same => n,Hangup()",
        "",
    ]
)


def endpoints(bind: str, direct_caller: str, single_caller: str, handset: str, handset_port: int, phone_id: str) -> str:
    """pjsip_instance.conf: the node's own transport line, then both baselines' endpoints."""
    return f"""{bind}

[bench-direct](!)
type=endpoint
disallow=all
allow=ulaw,alaw,gsm
direct_media=no
rtp_symmetric=yes
rewrite_contact=no
dtmf_mode=rfc4733
context=bench-direct

[bench-direct-caller](bench-direct)

[bench-direct-caller-ip]
type=identify
endpoint=bench-direct-caller
match={direct_caller}

[bench-direct-handset]
type=aor
contact=sip:bench-direct-handset@{handset}:{handset_port}

[bench-direct-handset](bench-direct)
aors=bench-direct-handset

[bench-direct-handset-ip]
type=identify
endpoint=bench-direct-handset
match={handset}

; The single node's endpoints, as the old renderer made them (its pbx-endpoint template), with
; today's codecs (R44): what is compared is the architecture, not a change of media rules.
[bench-single](!)
type=endpoint
disallow=all
{CODECS}
direct_media=no
rtp_symmetric=yes
force_rport=yes
rewrite_contact=yes
dtmf_mode=rfc4733
send_pai=yes
send_diversion=yes

[bench-single-trunk](bench-single)
context=bench-single-dids
aors=bench-single-trunk
trust_id_outbound=yes
trust_id_inbound=yes

[bench-single-trunk]
type=aor
contact=sip:{single_caller}

[bench-single-trunk-ip]
type=identify
endpoint=bench-single-trunk
match={single_caller}

[{phone_id}](bench-single)
context=bench-single-number
aors={phone_id}
trust_id_outbound=no
trust_id_inbound=no

[{phone_id}]
type=aor
contact=sip:{phone_id}@{handset}:{handset_port}
"""


def dids(local: LocalAsterisk) -> dict[str, str]:
    """{E.164 digits: number id} of every number the agent routes (AstDB pbx/did)."""
    out = local.command(f"database show {routing.FAMILY}/did")
    return dict(re.findall(rf"^/{routing.FAMILY}/did/(\d+)\s*:\s*(\d+)\s*$", out, re.MULTILINE))


def dialplan(routes: dict[str, str], bare_exten: str, bare_dial: str) -> str:
    """extensions_bench.conf: the direct path's one priority, the edge-bare DID, and the single
    node's per-number lines (the old renderer's pbx-dids: with and without '+')."""
    lines = [
        "; bench/baselines.py: bench-only, never on a real node.",
        "[bench-direct]",
        f"exten => {DIRECT_EXTEN},1,Dial(PJSIP/bench-direct-handset,18,I)",
        "",
        "[pbx-from-edge]",
        f"exten => {bare_exten},1,{bare_dial}",
        "",
        "[bench-single-dids]",
    ]
    for digits, number_id in sorted(routes.items()):
        lines.append(f"exten => +{digits},1,Goto(bench-single-number,n{number_id},1)")
        lines.append(f"exten => {digits},1,Goto(bench-single-number,n{number_id},1)")
    return "\n".join(lines) + "\n" + SINGLE_NUMBER


def install(local: LocalAsterisk, pjsip: str, extensions: str) -> None:
    """Write both files, include the dialplan, load them (a reload: bench set-up only)."""
    main = (local.etc_dir / "extensions.conf").read_text()
    include = f"#include {BENCH_DIALPLAN}"
    if include not in main:
        main = f"{main.rstrip()}\n{include}\n"
    local.write_files({"pjsip_instance.conf": pjsip, BENCH_DIALPLAN: extensions, "extensions.conf": main})
    local.command("module reload res_pjsip.so")
    local.command("dialplan reload")
    deadline = time.monotonic() + 10
    while "bench-single-trunk" not in local.command("pjsip show endpoints") or (
        "pbx_config" not in local.command("dialplan show bench-single-number")
    ):
        if time.monotonic() > deadline:
            raise RuntimeError("the baselines' endpoints or dialplan did not load")
        time.sleep(0.2)
