"""R15 hot desk from the phone: *11 (extension + PIN) logs a number in to this handset, *12 logs it out."""

from __future__ import annotations

import socket
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import unquote

from tests.calls.store_checks import audit, number_row, set_custom_pin
from tests.sip.messages import SipMessage

PIN = "482916"
HOLD_S = 12  # longer than anything pbx says before it hangs up: no BYEs crossing


def free_desk(world, site: str = "London - Old Street") -> str:
    return next(h["phone_id"] for h in world.data["handsets"] if h["number"] is None and h["site"] == site)


def hung_up_by_asterisk(result) -> bool:
    return any(m.direction == "received" and m.method == "BYE" for m in result.messages)


def test_r15_star11_logs_in_and_the_next_call_to_the_number_rings_this_handset(world, stasis_app):
    free = world.number(extension="204", occupier="Acme Ltd")
    set_custom_pin(world, free["number"], PIN)
    desk = free_desk(world)

    result = world.call_from_handset(desk, "*11", dtmf=f"204#{PIN}#", hold=HOLD_S)

    assert result.ok and hung_up_by_asterisk(result), result
    assert number_row(world, free["number"]).handset.phone_id == desk
    assert [e["actor"] for e in audit(world, "handset.login", free["number"])] == [f"handset {desk}"]
    world.apply()
    assert number_row(world, free["number"]).status.value == "active"
    with world.handset_of(desk) as phone:
        assert world.call_from_trunk(free["number"]).ok
        assert len(phone.wait_invites(1, 10)) == 1


def test_r15_star11_on_a_taken_handset_fails_cleanly(world, asterisk, stasis_app):
    alice = world.number(extension="201", occupier="Acme Ltd")
    free = world.number(extension="204", occupier="Acme Ltd")
    set_custom_pin(world, free["number"], PIN)
    mark = asterisk.log_mark()

    # Said before anything is asked: the call ends by itself, well before the caller would hang up.
    result = world.call_from_handset(alice["handset"], "*11", hold=HOLD_S)

    assert result.ok and hung_up_by_asterisk(result), result
    assert "Playing 'is-in-use" in asterisk.log_since(mark)  # "... extension 2 0 1 is in use"
    assert number_row(world, free["number"]).handset is None
    assert number_row(world, alice["number"]).handset.phone_id == alice["handset"]
    assert audit(world, "pin.attempt", free["number"]) == []  # refused before any PIN was asked


def test_r15_star11_with_a_wrong_pin_logs_nothing_in(world, stasis_app):
    free = world.number(extension="204", occupier="Acme Ltd")
    set_custom_pin(world, free["number"], PIN)

    # The caller gives up while pbx waits for a second try.
    assert world.call_from_handset(free_desk(world), "*11", dtmf="204#999999#", hold=2).ok

    row = number_row(world, free["number"])
    assert row.handset is None and row.failed_pin_count == 1


def test_r15_star12_logs_out_and_calls_no_longer_ring_the_handset(world, stasis_app):
    alice = world.number(extension="201", occupier="Acme Ltd")
    world.set_features(alice["number"], voicemail="off")

    result = world.call_from_handset(alice["handset"], "*12", hold=HOLD_S)

    assert result.ok and hung_up_by_asterisk(result), result
    assert number_row(world, alice["number"]).handset is None
    assert len(audit(world, "handset.logout", alice["number"])) == 1
    world.apply()
    with world.handset_of(alice["handset"]) as phone:
        assert world.call_from_trunk(alice["number"], expect=480).status == 480
    assert phone.invites == []


def test_r15_the_label_follows_the_number_to_its_new_handset(world, stasis_app):
    room = world.number(extension="203", occupier="Acme Ltd")  # display name "Meeting Room 1"
    alice = world.number(extension="201", occupier="Acme Ltd")
    set_custom_pin(world, room["number"], PIN)
    desk = free_desk(world)
    assert world.call_from_handset(room["handset"], "*12", hold=HOLD_S).ok
    assert world.call_from_handset(desk, "*11", dtmf=f"203#{PIN}#", hold=HOLD_S).ok
    world.apply()

    with world.handset_of(alice["handset"]) as alice_phone:
        assert world.call_from_handset(desk, "201").ok
        (invite,) = alice_phone.wait_invites(1, 10)

    assert (invite.from_.user, invite.from_.display) == ("203", "Meeting Room 1")


def test_r15_an_extension_two_occupiers_share_asks_for_the_full_number(world, stasis_app):
    hank = world.number(extension="201", occupier="Globex Corporation")  # Acme's Alice is 201 here too
    set_custom_pin(world, hank["number"], PIN)
    desk = free_desk(world)
    national = "0" + hank["number"].removeprefix("+44")

    assert world.call_from_handset(desk, "*11", dtmf=f"201#{national}#{PIN}#", hold=HOLD_S).ok

    # Hot desk moves the number: Hank's calls now ring this desk, his old handset is free.
    assert number_row(world, hank["number"]).handset.phone_id == desk
    alice = world.number(extension="201", occupier="Acme Ltd")
    assert number_row(world, alice["number"]).handset.phone_id == alice["handset"]


def receive_notify(port: int, timeout: float = 5.0) -> SipMessage | None:
    """Play the phone's side of a NOTIFY on its registered port: read it, answer 200 OK.
    The message lamp's NOTIFYs (R41, sent with the same login) are answered and passed over."""
    deadline = time.monotonic() + timeout
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", port))
        while time.monotonic() < deadline:
            sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                data, peer = sock.recvfrom(65535)
            except TimeoutError:
                return None
            head, _, body = data.decode(errors="replace").partition("\r\n\r\n")
            lines = head.split("\r\n")
            headers = [tuple(part.strip() for part in line.split(":", 1)) for line in lines[1:] if ":" in line]
            message = SipMessage("received", lines[0], headers, body)
            keep = ("via", "from", "to", "call-id", "cseq")
            reply = "SIP/2.0 200 OK\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers if k.lower() in keep)
            sock.sendto((reply + "Content-Length: 0\r\n\r\n").encode(), peer)
            if message.header("event") != "message-summary":
                return message
    return None


def test_r15_the_label_is_pushed_to_the_handsets_screen(world, stasis_app):
    room = world.number(extension="203", occupier="Acme Ltd")  # display name "Meeting Room 1"
    set_custom_pin(world, room["number"], PIN)
    desk = free_desk(world)
    assert world.call_from_handset(room["handset"], "*12", hold=HOLD_S).ok
    assert world.call_from_handset(desk, "*11", dtmf=f"203#{PIN}#", hold=HOLD_S).ok
    phone = world.handset_of(desk)
    phone.register()
    try:
        with ThreadPoolExecutor(1) as pool:
            arriving = pool.submit(receive_notify, phone.port)
            time.sleep(0.2)
            world.apply()  # the controller applies the login: the keys, then the screen
            notify = arriving.result(10)
    finally:
        phone.register(expires=0)

    assert notify is not None and notify.method == "NOTIFY"
    assert notify.header("event") == "check-sync;reboot=false"
    assert notify.body.strip() == "Label: Meeting Room 1"


def test_r15_a_number_with_no_name_shows_its_extension_and_number(world, stasis_app):
    free = world.number(extension="204", occupier="Acme Ltd")  # no display name, no user
    set_custom_pin(world, free["number"], PIN)
    desk = free_desk(world)
    assert world.call_from_handset(desk, "*11", dtmf=f"204#{PIN}#", hold=HOLD_S).ok
    phone = world.handset_of(desk)
    phone.register()
    try:
        with ThreadPoolExecutor(1) as pool:
            arriving = pool.submit(receive_notify, phone.port)
            time.sleep(0.2)
            world.apply()
            notify = arriving.result(10)
    finally:
        phone.register(expires=0)

    assert notify is not None and notify.header("event") == "check-sync;reboot=false"
    assert unquote(notify.body.strip()) == f"Label: 204 {free['number']}"  # percent-encoded on the wire
