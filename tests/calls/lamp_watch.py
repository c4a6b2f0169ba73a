"""The handset's side of the message lamp (R41): a UDP socket on its registered port.

Every request that arrives is answered (NOTIFY 200 OK, anything else 480, so a call
that reaches this handset goes to the no-answer handling), and the message-summary
NOTIFYs are kept for the test to read.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

from pbx.settings import Settings
from tests.sip.handset import edge_address
from tests.sip.messages import SipMessage
from tests.sip.sipp import SippProcess, render_scenario, work_dir

POLL_S = 0.2
_KEEP = ("via", "from", "to", "call-id", "cseq")


def parse(data: bytes) -> SipMessage:
    head, _, body = data.decode(errors="replace").partition("\r\n\r\n")
    lines = head.split("\r\n")
    headers = [(k.strip(), v.strip()) for k, _, v in (line.partition(":") for line in lines[1:] if ":" in line)]
    return SipMessage("received", lines[0], headers, body)


def reply(message: SipMessage, status: str) -> bytes:
    lines = [f"SIP/2.0 {status}"]
    for name, value in message.headers:
        if name.lower() in _KEEP:
            tagged = name.lower() == "to" and ";tag=" not in value
            lines.append(f"{name}: {value};tag=lampwatch" if tagged else f"{name}: {value}")
    return ("\r\n".join(lines) + "\r\nContent-Length: 0\r\n\r\n").encode()


class LampWatch:
    def __init__(self, port: int) -> None:
        self.port = port
        self.notifies: list[SipMessage] = []
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind(("127.0.0.1", port))
        self._sock.settimeout(POLL_S)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data, peer = self._sock.recvfrom(65535)
            except TimeoutError:
                continue
            message = parse(data)
            if message.method is None or message.method == "ACK":
                continue
            if message.method == "NOTIFY":
                if (message.header("event") or "").startswith("message-summary"):
                    self.notifies.append(message)
                self._sock.sendto(reply(message, "200 OK"), peer)
            else:
                self._sock.sendto(reply(message, "480 Temporarily Unavailable"), peer)

    def waiting(self, index: int) -> str | None:
        """Messages-Waiting of the index-th lamp NOTIFY."""
        for line in self.notifies[index].body.splitlines():
            name, _, value = line.partition(":")
            if name.strip().lower() == "messages-waiting":
                return value.strip()
        return None

    def wait_for(self, state: str, after: int = 0, timeout: float = 30.0) -> SipMessage | None:
        """The first lamp NOTIFY from index `after` on saying Messages-Waiting: state."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for index in range(after, len(self.notifies)):
                if self.waiting(index) == state:
                    return self.notifies[index]
            time.sleep(0.05)
        return None

    def close(self) -> None:
        if self._stop.is_set():
            return
        self._stop.set()
        self._thread.join(5)
        self._sock.close()


@contextlib.contextmanager
def lamp_of(world, phone_id: str) -> Iterator[LampWatch]:
    """Register the handset (sipp), then watch its port; unregister at the end."""
    phone = world.handset_of(phone_id)
    phone.register()
    watch = LampWatch(phone.port)
    try:
        yield watch
    finally:
        watch.close()
        phone.register(expires=0)


def subscribe(settings: Settings, phone_id: str, password: str, port: int) -> tuple[int, list[SipMessage], str]:
    """SUBSCRIBE to the handset's message lamp from its registered port (sipp, digest auth), take
    the NOTIFY that follows; (sipp's exit code, the messages it received, its diagnostics)."""
    directory = work_dir(f"subscribe-{phone_id}")
    scenario = render_scenario("subscribe.xml", directory / "subscribe.xml")
    args = [edge_address(settings), "-s", phone_id, "-au", phone_id, "-ap", password, "-m", "1", "-l", "1"]
    run = SippProcess("subscribe", scenario, args, port=port, timeout=15, directory=directory).start()
    code = run.wait()
    received = [m for m in run.messages() if m.direction == "received"]
    return code, received, run.diagnostics() if code else ""
