"""R37 in the store: the operator's lists filtered in the database, formula-safe CSV cells,
and bulk allocation from CSV (all or nothing, each wrong row by its number). R22/R39: a site's
own emergency numbers, validated, written to each handset's AstDB key.
"""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import func, select, update

from pbx.asterisk.live_state import live_state
from pbx.asterisk.snapshot import load_snapshot
from pbx.services import bulk_allocation, emergency, number_csv, number_list
from pbx.services.actor import Actor
from pbx.services.errors import Conflict, FieldErrors, Forbidden, InvalidInput
from pbx.store import transaction
from pbx.store.models import Handset, OutboxEntry, OutboxKind, PhoneNumber, Site
from tests.store.helpers import actor, number

SYSTEM = Actor.system("test")
OLD_STREET = "London - Old Street"


def _numbers(session, **filters: str) -> list[str]:
    chosen = number_list.parse_filter(filters)
    return [row.e164 for row in number_list.stream_rows(session, SYSTEM, chosen)]


def _site_id(session, name: str) -> int:
    return session.scalar(select(Site.id).where(Site.name == name))


def test_r37_the_operator_filters_by_status_site_occupier_assignment_and_login(demo_factory):
    with transaction(demo_factory) as session:
        assert len(_numbers(session)) == 15
        assert _numbers(session, status="reserved") == [
            "+442079460303",
            "+442079460205",
            "+442079460503",
            "+441614960100",
        ]
        old_street = str(_site_id(session, OLD_STREET))
        acme = str(number(session, "+442079460201").occupier_id)
        assert set(_numbers(session, site=old_street, occupier=acme, status="active")) == {
            "+442079460100",
            "+442079460201",
            "+442079460202",
            "+442079460203",
            "+442079460204",
        }
        assert _numbers(session, assignment="main") == ["+442079460300", "+442079460100", "+442079460500"]
        assert set(_numbers(session, assignment="assigned")) == {
            "+442079460301",
            "+442079460201",
            "+442079460202",
            "+442079460501",
        }
        assert "+442079460100" not in _numbers(session, assignment="unassigned")
        assert set(_numbers(session, login="logged-in")) == {
            "+442079460301",
            "+442079460201",
            "+442079460202",
            "+442079460203",
            "+442079460501",
        }
        assert len(_numbers(session, login="logged-out")) == 10
        total, page = number_list.list_page(session, SYSTEM, number_list.parse_filter({}), 2, 3)
        assert total == 15 and len(page) == 3


def test_r37_wrong_filters_are_all_refused_at_once_and_only_the_operator_lists(demo_factory):
    with pytest.raises(FieldErrors) as refused:
        number_list.parse_filter({"status": "gone", "site": "x", "login": "maybe"})
    assert set(refused.value.errors) == {"status", "site", "login"}
    with transaction(demo_factory) as session, pytest.raises(Forbidden):
        number_list.numbers_query(actor(session, "admin@acme.example"), number_list.NumberFilter())


def _csv_rows(session) -> list[list[str]]:
    chosen = number_list.parse_filter({})
    text = "".join(number_csv.csv_lines(number_list.stream_rows(session, SYSTEM, chosen)))
    return list(csv.reader(io.StringIO(text)))


def test_r37_csv_cells_cannot_run_as_formulas_and_numbers_stay_readable(demo_factory):
    with transaction(demo_factory) as session:
        # Written around the services' label rules: the CSV must be safe whatever the store holds.
        session.execute(
            update(PhoneNumber)
            .where(PhoneNumber.e164 == "+442079460204")
            .values(label_first='=HYPERLINK("http://evil.example","x")', label_second="")
        )
        session.execute(
            update(PhoneNumber)
            .where(PhoneNumber.e164 == "+442079460202")
            .values(label_first="@SUM(1)", label_second="")
        )
        rows = _csv_rows(session)
    header, *body = rows
    assert header == list(number_csv.COLUMNS)
    by_number = {row[0]: row for row in body}
    assert "'+442079460204" in by_number, "the E.164 number is kept, as text"
    assert by_number["'+442079460204"][7] == '\'=HYPERLINK("http://evil.example","x")'
    assert by_number["'+442079460202"][7] == "'@SUM(1)"
    for row in body:
        for cell in row:
            assert not cell.startswith(number_csv.FORMULA_TRIGGERS), cell
    for value in ("=1+1", "+1", "-1", "@x", "\t=1", "\r=1"):
        assert number_csv.safe_cell(value) == "'" + value
        assert number_csv.unquoted_cell(number_csv.safe_cell(value)) == value
    assert number_csv.safe_cell("Acme Ltd") == "Acme Ltd"


BULK_OK = """number,extension,occupier,site
+442079460401,401,Acme Ltd,London - Old Street
'+442079460402,402,Acme Ltd,London - King's Cross
+44 20 7946 0601,601,Globex Corporation,London - Old Street
"""

BULK_WRONG = """Site,Occupier,Number,Extension,Note
London - Old Street,Acme Ltd,+442079460411,411,ok
London - Old Street,Acme Ltd,+442079460411,412,number twice
London - Old Street,Acme Ltd,+4420,413,not a number
London - Old Street,Acme Ltd,+442079460414,201,extension taken
Manchester - Spinningfields,Acme Ltd,+442079460415,415,not based there
London - Old Street,Nobody Ltd,+442079460416,416,no such occupier
London - Old Street,Acme Ltd,+442079460417,411,extension twice
London - Old Street,Acme Ltd,+442079460201,418,number taken
London - Old Street,Acme Ltd,+442079460419,4x,bad extension
"""


def _count(session) -> int:
    return session.scalar(select(func.count()).select_from(PhoneNumber))


def test_r37_bulk_allocation_previews_then_allocates_every_row_reserved(demo_factory):
    with transaction(demo_factory) as session:
        plan = bulk_allocation.plan(session, SYSTEM, BULK_OK.encode())
        assert plan.ok and [(r.row, r.number, r.extension) for r in plan.rows] == [
            (2, "+442079460401", "401"),
            (3, "+442079460402", "402"),
            (4, "+442079460601", "601"),
        ]
        before = _count(session)
    with transaction(demo_factory) as session:
        assert _count(session) == before, "a preview writes nothing"
        added = bulk_allocation.allocate(session, SYSTEM, BULK_OK)
        assert [n.status.value for n in added] == ["reserved"] * 3
    with transaction(demo_factory) as session:
        assert _count(session) == before + 3


def test_r37_bulk_allocation_with_any_wrong_row_allocates_nothing_and_names_each_row(demo_factory):
    with transaction(demo_factory) as session:
        before = _count(session)
        with pytest.raises(bulk_allocation.RowErrors) as refused:
            bulk_allocation.allocate(session, SYSTEM, BULK_WRONG)
        assert _count(session) == before
    errors = refused.value.errors
    assert sorted(errors, key=lambda k: int(k.split()[1])) == [f"row {n}" for n in range(3, 11)]
    assert errors["row 3"] == "Row 3: +442079460411 is also in row 2"
    assert "not a phone number" in errors["row 4"]
    assert "already has a number with extension 201" in errors["row 5"]
    assert "not based at Manchester" in errors["row 6"]
    assert "no occupier called 'Nobody Ltd'" in errors["row 7"]
    assert errors["row 8"] == "Row 8: extension 411 of Acme Ltd is also in row 2"
    assert "+442079460201 is already allocated" in errors["row 9"]
    assert "not an extension" in errors["row 10"]


def test_r37_a_file_without_the_columns_or_rows_is_refused(demo_factory):
    with transaction(demo_factory) as session:
        for text in ("number,extension\n+442079460401,401\n", "number,extension,occupier,site\n", b"\xff\xfe\x00"):
            with pytest.raises(InvalidInput):
                bulk_allocation.plan(session, SYSTEM, text)
        with pytest.raises(Forbidden):
            bulk_allocation.plan(session, actor(session, "admin@acme.example"), BULK_OK)


def test_r22_site_emergency_numbers_are_validated_and_reach_every_handset_of_the_site(demo_factory):
    with transaction(demo_factory) as session:
        site_id = _site_id(session, OLD_STREET)
        for wrong in ("12", "1234567", "10a", "+44101"):
            with pytest.raises(InvalidInput):
                emergency.set_local_numbers(session, SYSTEM, site_id, wrong)
        with pytest.raises(Conflict, match="201 is an extension"):
            emergency.set_local_numbers(session, SYSTEM, site_id, "101,201")
        with pytest.raises(Conflict, match="301 is an extension"):  # Acme's at King's Cross, dialled here too
            emergency.set_local_numbers(session, SYSTEM, site_id, "301")
        with pytest.raises(Forbidden):
            emergency.set_local_numbers(session, actor(session, "admin@acme.example"), site_id, "101")
        handsets = session.scalars(select(Handset.id).where(Handset.site_id == site_id)).all()
        site = emergency.set_local_numbers(session, SYSTEM, site_id, "101, 105 112")
        assert emergency.local_numbers(site) == ("101", "105")
        queued = session.scalars(select(OutboxEntry.subject_id).where(OutboxEntry.kind == OutboxKind.HANDSET)).all()
        assert set(handsets) <= set(queued)
        keys = live_state(load_snapshot(session))
    assert keys["sos/desk-os-5"] == ",101,105,"
    assert keys["sos/desk-kx-1"] == ""


def test_r22_an_extension_cannot_be_a_site_emergency_number(demo_factory):
    with transaction(demo_factory) as session:
        site_id = _site_id(session, OLD_STREET)
        emergency.set_local_numbers(session, SYSTEM, site_id, "105")
        plan = bulk_allocation.plan(
            session, SYSTEM, "number,extension,occupier,site\n+442079460405,105,Acme Ltd,London - Old Street\n"
        )
        assert "105 is an emergency number at London - Old Street" in plan.errors["row 2"]
