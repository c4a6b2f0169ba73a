"""Place one call with sipp through the SIP edge: as a handset (digest auth, to the
edge's SIP port) or as the carrier (from the carrier's address to the edge's trunk
port, which is how the edge knows it), optionally sending DTMF.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pbx.settings import Settings

from .dtmf import duration_ms, write_dtmf_pcap
from .handset import edge_address, edge_trunk_address
from .messages import SipMessage, final_status
from .sipp import SippProcess, free_udp_port, render_scenario, work_dir


@dataclass
class CallResult:
    expected: int
    status: int | None  # the final response Asterisk sent to our INVITE, None if none
    exit_code: int  # sipp's: 0 the scenario ran as expected
    stats: dict[str, int] = field(default_factory=dict)
    messages: list[SipMessage] = field(default_factory=list)
    diagnostics: str = ""

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and self.status == self.expected

    def __str__(self) -> str:
        return (
            f"call expected {self.expected}, got {self.status} (sipp exit {self.exit_code}, "
            f"{self.stats})\n{self.diagnostics}"
        )


class Call:
    """A call in progress (see start_call); wait() gives its CallResult."""

    def __init__(self, process: SippProcess, expected: int):
        self.process = process
        self.expected = expected

    def wait(self, timeout: float | None = None) -> CallResult:
        code = self.process.wait(timeout)
        messages = self.process.messages()
        return CallResult(
            expected=self.expected,
            status=final_status(messages),
            exit_code=code,
            stats=self.process.stats(),
            messages=messages,
            diagnostics=self.process.diagnostics() if code else "",
        )


def _quote_display(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '" '


def start_call(
    settings: Settings,
    to: str,
    *,
    caller: str,
    password: str | None = None,
    trunk: bool = False,
    caller_name: str | None = None,
    expect: int = 200,
    hold: float = 1.0,
    dtmf: str | None = None,
    timeout: float = 30.0,
    headers: dict[str, str] | None = None,
    source: str | None = None,
) -> Call:
    """Start a call to `to` and return at once.

    caller: the handset's phone id (with password: digest auth) or, with
    trunk=True, the calling E.164 number, sent from the carrier's address
    (`source` sends from another address, e.g. a stranger's). `headers` are
    added as given (e.g. a forged X-PBX-Handset).
    hold: seconds we stay on the line after the answer (after DTMF, if any),
    unless Asterisk hangs up first.
    """
    if trunk == (password is not None):
        raise ValueError("a call is either from a handset (password) or from the trunk (trunk=True)")
    extra = dict(headers or {})
    directory = work_dir(f"call-{caller}-{to}")
    hold_ms = int(hold * 1000)
    values = {
        "FROM_USER": caller,
        "FROM_DISPLAY": _quote_display(caller_name) if caller_name else "",
        "EXTRA_HEADERS": "\n".join(f"{k}: {v}" for k, v in extra.items()),
        "FIRST_TXN": "invite" if trunk else "first",
        "EXPECT": str(expect),
        "CSEQ": "1" if trunk else "2",
        "BYE_CSEQ": "2" if trunk else "3",
    }
    if dtmf:
        values["DTMF_PCAP"] = str(write_dtmf_pcap(directory / "dtmf.pcap", dtmf))
        hold_ms += duration_ms(dtmf)
    values["HOLD_MS"] = str(max(hold_ms, 1))
    sections = {"auth": not trunk, "answered": expect == 200, "rejected": expect != 200, "dtmf": bool(dtmf)}
    scenario = render_scenario("uac.xml", directory / "uac.xml", sections, values)
    target = edge_trunk_address(settings) if trunk else edge_address(settings)
    args = [target, "-s", to, "-m", "1", "-l", "1"]
    if not trunk:
        args += ["-au", caller, "-ap", password]
    ip = source or (settings.trunk_host if trunk else "127.0.0.1")
    process = SippProcess(
        "uac", scenario, args, port=free_udp_port(), timeout=timeout, directory=directory, ip=ip
    ).start()
    return Call(process, expect)


def place_call(settings: Settings, to: str, **kwargs) -> CallResult:
    """Place a call and wait for its end (see start_call for the options)."""
    return start_call(settings, to, **kwargs).wait()
