"""pike: a flood from one outside address is dropped; other sources and the nodes are not."""

from __future__ import annotations

import socket
import uuid

from .conftest import EDGE_1, NODE_1, STRANGER


def _options_burst(source: str, count: int, edge: str = EDGE_1) -> int:
    """Send `count` OPTIONS from source as fast as possible; how many were answered."""
    answered = 0
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((source, 0))
        port = sock.getsockname()[1]
        for n in range(count):
            message = (
                f"OPTIONS sip:{edge}:5060 SIP/2.0\r\n"
                f"Via: SIP/2.0/UDP {source}:{port};branch=z9hG4bK{uuid.uuid4().hex[:12]};rport\r\n"
                f"Max-Forwards: 70\r\nFrom: <sip:flood@{source}>;tag={n}\r\nTo: <sip:{edge}>\r\n"
                f"Call-ID: {uuid.uuid4().hex}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
            )
            sock.sendto(message.encode(), (edge, 5060))
        sock.settimeout(0.5)
        try:
            while True:
                sock.recv(65535)
                answered += 1
        except TimeoutError:
            pass
    return answered


def test_flood_from_outside_is_dropped(edges):
    edges.start("edge1", EDGE_1, pike_density=10)
    assert _options_burst(STRANGER, 60) <= 25  # pike blocks after ~10 per 2 s
    assert _options_burst("127.0.1.98", 5) == 5  # another source is served
    assert _options_burst(NODE_1, 60) == 60  # nodes are never limited
