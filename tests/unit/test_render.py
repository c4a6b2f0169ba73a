"""Rendering is a pure function of the store, and no user string can change its structure."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from pbx.asterisk.live_state import live_state
from pbx.asterisk.render import render
from pbx.asterisk.snapshot import load_snapshot
from pbx.services import assignment, features
from pbx.services.actor import Actor
from pbx.services.errors import InvalidInput
from pbx.settings import Settings
from pbx.store import NumberStatus, Occupier, PhoneNumber, Site, User, transaction

EVIL = ['Robert"; DROP', "a;b,c|d", "${SHELL(rm -rf /)}", "x)\\n[evil]", '"quoted"', "$[1+1] & ${EXTEN}"]


@pytest.fixture
def factory(demo_store):
    return demo_store


def _render(factory):
    with transaction(factory) as session:
        snapshot = load_snapshot(session)
    settings = Settings.from_env()
    return render(snapshot, settings), live_state(snapshot)


def test_render_is_pure(factory):
    assert _render(factory) == _render(factory)


@pytest.mark.parametrize("evil", EVIL)
def test_user_strings_in_every_field_change_no_config_line(factory, evil):
    files_before, state_before = _render(factory)
    with transaction(factory) as session:
        admin = Actor.system("test")
        for n in session.scalars(
            select(PhoneNumber).where(PhoneNumber.is_main.is_(False), PhoneNumber.status == NumberStatus.ACTIVE)
        ):
            assignment.set_display_name(session, admin, n.id, evil, evil)
            n.status = NumberStatus.ACTIVE
        for u in session.scalars(select(User)):
            u.first_name, u.last_name = evil, evil
        for o in session.scalars(select(Occupier)):
            o.name = evil + str(o.id)
        for s in session.scalars(select(Site)):
            s.name = evil + str(s.id)
        alice = session.scalar(select(PhoneNumber).where(PhoneNumber.e164 == "+442079460201"))
        features.update_features(session, admin, alice.id, {"voicemail_email": "o'brien+x@example.com"})
    files_after, state_after = _render(factory)
    assert files_after == files_before
    changed = {k for k in state_after if state_after[k] != state_before.get(k)}
    assert changed and all(k.endswith("/label") for k in changed)
    assert all(state_after[k] == f"{evil} {evil}" for k in changed)


@pytest.mark.parametrize("bad", ["line\nbreak", "carriage\rreturn", "tab\tin", "nul\x00", "bidi\u202e"])
def test_control_characters_in_names_are_refused(factory, bad):
    with transaction(factory) as session:
        n = session.scalar(select(PhoneNumber).where(PhoneNumber.e164 == "+442079460204"))
        with pytest.raises(InvalidInput):
            assignment.set_display_name(session, Actor.system(), n.id, bad, "x")


def test_dids_and_extensions_are_astdb_keys_and_the_config_names_no_number(factory):
    """Issue 9: which DID or extension is which number is AstDB, never a config line."""
    files, state = _render(factory)
    for text in (files["extensions_pbx.conf"], files["pjsip_pbx.conf"]):
        assert "442079460201" not in text and "desk-" not in text
    acme_201 = next(k.split("/")[1] for k, v in state.items() if k.endswith("/e164") and v == "+442079460201")
    occupier = state[f"num/{acme_201}/occ"]
    assert state["did/442079460201"] == acme_201
    assert state[f"ext/{occupier}/201"] == acme_201
    assert state[f"num/{acme_201}/dial"] == f"{occupier},gb"
    assert set(state[f"num/{acme_201}/routes"].split()) == {"did/442079460201", f"ext/{occupier}/201"}
    # 205 is reserved, Initech has no voice services: neither is reachable
    assert "did/442079460205" not in state and "did/441614960100" not in state
    assert "[pbx-national-gb]" in files["extensions_pbx.conf"]
