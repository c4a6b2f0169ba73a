"""R8 in SQL on both dialects: a number in any common format, an extension, a name; a page at a time."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from pbx.services.actor import Actor
from pbx.services.number_search import Paging, occupier_numbers_page, site_numbers_page
from pbx.store.db import transaction
from pbx.store.models import Occupier, Site


def _found(session, query: str, paging: Paging | None = None) -> list[str]:
    acme = session.scalar(select(Occupier).where(Occupier.name == "Acme Ltd"))
    site = session.scalar(select(Site).where(Site.name == "London - Old Street"))
    page = site_numbers_page(session, Actor.system(), acme.id, site.id, query, paging or Paging())
    return [n.e164 for n in page.rows]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("020 7946 0201", ["+442079460201"]),
        ("+44 (0)20 7946 0201", ["+442079460201"]),
        ("442079460201", ["+442079460201"]),
        ("202", ["+442079460202"]),
        ("ALICE", ["+442079460201"]),
        ("archer", ["+442079460201"]),
        ("Alice Archer", ["+442079460201"]),
        ("meeting room", ["+442079460203"]),
        ("Main", ["+442079460100"]),
        ("50%", []),
    ],
)
def test_r8_search_in_sql(demo_factory, query, expected):
    with transaction(demo_factory) as session:
        assert _found(session, query) == expected


def test_r8_pages_and_totals(demo_factory):
    with transaction(demo_factory) as session:
        assert _found(session, "", Paging(2, 2)) == ["+442079460202", "+442079460203"]
        acme = session.scalar(select(Occupier).where(Occupier.name == "Acme Ltd"))
        page = occupier_numbers_page(session, Actor.system(), acme.id, "", Paging(1, 3))
        assert (page.total, page.pages, len(page.rows)) == (10, 4, 3)
