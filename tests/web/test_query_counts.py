"""The list endpoints run as many SQL statements for 1,000 numbers as for 10.

Rows are loaded, not looked up one by one.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import event, select

from pbx.store.db import make_engine, make_session_factory, transaction
from pbx.store.models import Handset, NumberFeatures, NumberStatus, Occupier, PhoneNumber, Role, Site, User
from tests.web.conftest import ACME_ADMIN, OPERATOR, Signed
from webui import create_app
from webui.schemas import MAX_IDS

OLD_STREET = "London - Old Street"
SIZES = (10, 1000)


def grow(url: str, count: int) -> None:
    """`count` more Acme numbers at Old Street, each with its own user, every other one logged in to a handset."""
    engine = make_engine(url)
    with transaction(make_session_factory(engine)) as session:
        acme = session.scalar(select(Occupier).where(Occupier.name == "Acme Ltd"))
        site = session.scalar(select(Site).where(Site.name == OLD_STREET))
        for i in range(count):
            user = User(
                operator_id=acme.operator_id,
                occupier=acme,
                first_name="Load",
                last_name=f"Test {i}",
                email=f"load{i}@acme.example",
                password_hash="-",
                role=Role.USER,
            )
            number = PhoneNumber(
                e164=f"+44113496{i:04d}",
                extension=str(5000 + i),
                site=site,
                occupier=acme,
                status=NumberStatus.ACTIVE,
                default_pin="590318",
                user=user,
                features=NumberFeatures(),
            )
            session.add(number)
            if i % 2:
                session.add(Handset(phone_id=f"load-{i}", site=site, sip_password="secret-enough", number=number))
    engine.dispose()


@contextmanager
def counting(app) -> Iterator[Callable[[], int]]:
    engine = app.extensions["pbx"].sessions.kw["bind"]
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield lambda: len(statements)
    finally:
        event.remove(engine, "before_cursor_execute", count)


def statements_per_page(seeded_template, tmp_path, size: int) -> dict[str, int]:
    path = tmp_path / f"store-{size}.db"
    shutil.copy(seeded_template, path)
    url = f"sqlite:///{path}"
    grow(url, size)
    with transaction(make_session_factory(make_engine(url))) as session:
        site_id = session.scalar(select(Site.id).where(Site.name == OLD_STREET))
        acme_id = session.scalar(select(Occupier.id).where(Occupier.name == "Acme Ltd"))
        number_ids = list(
            session.scalars(
                select(PhoneNumber.id).where(PhoneNumber.occupier_id == acme_id).order_by(PhoneNumber.id).limit(MAX_IDS)
            )
        )
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "test-secret-key", "PBX_POLL_MS": 300})
    admin, operator = Signed(app.test_client(), ACME_ADMIN), Signed(app.test_client(), OPERATOR)
    urls = {
        "site numbers": (admin, f"/api/v1/sites/{site_id}/numbers"),
        "pending poll": (admin, f"/api/v1/numbers?ids={','.join(map(str, number_ids))}"),
        "users api": (admin, "/api/v1/users"),
        "users page": (admin, "/users"),
        "users to assign": (admin, f"/api/v1/numbers/{number_ids[-1]}/users"),
        "site handsets": (admin, f"/api/v1/numbers/{number_ids[-1]}/handsets"),
        "operator numbers": (operator, f"/operator?occupier={acme_id}"),
    }
    counts = {}
    for name, (person, url_) in urls.items():
        with counting(app) as statements:
            answer = person.get(url_)
            assert answer.status_code == 200, (name, answer.get_data(as_text=True)[:300])
            counts[name] = statements()
    if size >= MAX_IDS:
        assert len(admin.get(urls["pending poll"][1]).json["numbers"]) == MAX_IDS
    return counts


def test_list_endpoints_run_as_many_statements_for_1000_numbers_as_for_10(seeded_template, tmp_path):
    small, big = (statements_per_page(seeded_template, tmp_path, size) for size in SIZES)
    print(
        f"\nSQL statements per request, {SIZES[0]} vs {SIZES[1]} numbers: "
        + ", ".join(f"{name} {small[name]}/{big[name]}" for name in small)
    )
    assert big == small
