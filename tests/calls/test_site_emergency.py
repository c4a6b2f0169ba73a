"""R22, R39 on real calls: a site's own emergency numbers go out like 112/999/911.

Set by the operator (pbx.services.emergency), written by the agent into AstDB
(`pbx/sos/<phone id>`), read first by pbx-from-handset: from a handset with no number
logged in, past a call policy that allows nothing, never behind the authorization code,
never hidden. The test's carrier (sipp) receives the INVITE.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from pbx.services import call_policy, emergency
from pbx.services.actor import Actor
from pbx.store import Occupier, Site, transaction

pytestmark = pytest.mark.asterisk
OLD_STREET, KINGS_CROSS = "London - Old Street", "London - King's Cross"
FREE_DESK = "desk-os-5"  # Old Street, nothing logged in
NOT_FOUND = 404
NO_NUMBER = 403  # pbx-no-number: a handset with nothing logged in calls nothing else


def _set_emergency(world, site: str, numbers: str) -> None:
    with transaction(world.factory) as session:
        site_id = session.scalar(select(Site.id).where(Site.name == site))
        emergency.set_local_numbers(session, Actor.system("test"), site_id, numbers)
    world.apply()


def test_r22_a_site_emergency_number_goes_out_from_a_handset_with_no_number_logged_in(world):
    _set_emergency(world, OLD_STREET, "101")
    with world.outside_world() as outside:
        assert world.call_from_handset(FREE_DESK, "101", hold=1).ok
        (invite,) = outside.wait_invites(1, 10)
    assert invite.request_user == "101"
    assert (invite.from_.user or "").lower() != "anonymous"


def test_r39_a_site_emergency_number_passes_a_policy_that_allows_nothing_and_hiding(world):
    alice = world.number(extension="201", occupier="Acme Ltd")
    with transaction(world.factory) as session:
        acme = session.scalar(select(Occupier.id).where(Occupier.name == "Acme Ltd"))
        call_policy.set_allowed_classes(session, Actor.system("test"), acme, "none")
    world.set_features(alice["number"], hide_caller_id="on")
    _set_emergency(world, OLD_STREET, "101,105")
    with world.outside_world(calls=2) as outside:
        for dialled in ("105", "101"):
            assert world.call_from_handset(alice["handset"], dialled, hold=1).ok
        invites = outside.wait_invites(2, 10)
    assert [i.request_user for i in invites] == ["105", "101"]
    for invite in invites:
        assert invite.from_.user == alice["number"], "an emergency call is never hidden"


def test_r22_another_sites_emergency_number_is_not_one_here_and_a_cleared_one_stops(world):
    _set_emergency(world, KINGS_CROSS, "101")
    with world.outside_world() as outside:
        result = world.call_from_handset(FREE_DESK, "101", expect=NO_NUMBER)
        assert result.status == NO_NUMBER, result
        assert outside.wait_invites(1, 1) == []
    _set_emergency(world, OLD_STREET, "101")
    _set_emergency(world, OLD_STREET, "")
    with world.outside_world() as outside:
        assert world.call_from_handset(FREE_DESK, "101", expect=NO_NUMBER).status == NO_NUMBER
        assert outside.wait_invites(1, 1) == []
