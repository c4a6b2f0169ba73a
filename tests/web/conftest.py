"""A fresh demo store per test (copied from one seeded template), the app, and signed-in clients."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from pbx import demo
from pbx.asterisk.outbox import close_batch, cursor_of, load_node, next_batch
from pbx.store.db import make_engine, make_session_factory, transaction
from pbx.store.migrate import upgrade
from pbx.store.models import PhoneNumber, User
from webui import create_app

NODE = "node-1"  # the one node the web tests pretend applies the change log

PASSWORD = demo.PASSWORD
ACME_ADMIN = "admin@acme.example"
GLOBEX_ADMIN = "admin@globex.example"
INITECH_ADMIN = "admin@initech.example"
ALICE = "alice@acme.example"
OPERATOR = "operator@flexspace.example"
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory) -> Path:
    """Migrating and seeding (argon2 hashes) once; each test gets its own copy."""
    path = tmp_path_factory.mktemp("template") / "pbx.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    engine = make_engine(url)
    with transaction(make_session_factory(engine)) as session:
        demo.seed(session)
    engine.dispose()  # closes SQLite's WAL into the main file
    return path


@pytest.fixture
def store_url(seeded_template, tmp_path) -> str:
    path = tmp_path / "pbx.db"
    shutil.copy(seeded_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def factory(store_url):
    engine = make_engine(store_url)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def app(store_url, tmp_path, monkeypatch):
    monkeypatch.setenv("PBX_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.delenv("PBX_SECRET_KEY", raising=False)
    return create_app({"DATABASE_URL": store_url, "SECRET_KEY": "test-secret-key", "PBX_POLL_MS": 300})


class Ids:
    """Demo ids by what people see: a number's E.164, a user's e-mail."""

    def __init__(self, factory) -> None:
        with transaction(factory) as session:
            self.numbers = {n.e164: n.id for n in session.scalars(select(PhoneNumber))}
            self.users = {u.email: u.id for u in session.scalars(select(User))}
            self.sites = {n.site.name: n.site_id for n in session.scalars(select(PhoneNumber))}
            self.occupiers = {n.occupier.name: n.occupier_id for n in session.scalars(select(PhoneNumber))}


@pytest.fixture
def ids(factory) -> Ids:
    return Ids(factory)


def csrf_token(html: str) -> str:
    match = CSRF_META.search(html)
    assert match, "the page has no CSRF token"
    return match.group(1)


def sign_in(client: FlaskClient, email: str, password: str = PASSWORD):
    token = csrf_token(client.get("/sign-in").get_data(as_text=True))
    return client.post("/sign-in", data={"email": email, "password": password, "csrf_token": token})


class Signed:
    """A test client signed in as someone, sending the CSRF header on JSON writes as the page's script does."""

    def __init__(self, client: FlaskClient, email: str) -> None:
        self.client = client
        answer = sign_in(client, email)
        assert answer.status_code == 302, answer.get_data(as_text=True)
        self.home = answer.headers["Location"]
        self.token = csrf_token(client.get(self.home).get_data(as_text=True))

    def get(self, url: str, **kwargs):
        return self.client.get(url, **kwargs)

    def write(self, method: str, url: str, body=None, csrf: bool = True):
        headers = {"X-CSRFToken": self.token} if csrf else {}
        return self.client.open(url, method=method, json=body, headers=headers)

    def post_form(self, url: str, data: dict, csrf: bool = True):
        return self.client.post(url, data={**data, "csrf_token": self.token} if csrf else data)


@pytest.fixture
def signed_in(app):
    return lambda email: Signed(app.test_client(), email)


def apply_outbox(factory) -> None:
    """What the controller does once Asterisk has taken the changes: Pending numbers become Active."""
    with transaction(factory) as session:
        batch = next_batch(session, cursor_of(load_node(session, NODE)))
        if batch:
            close_batch(session, NODE, batch)


def fail_outbox(factory, error: str) -> None:
    """What the controller records when Asterisk refused: the number stays Pending, with the reason."""
    from pbx.asterisk.outbox import note_failure

    with transaction(factory) as session:
        batch = next_batch(session, cursor_of(load_node(session, NODE)))
        note_failure(session, NODE, batch, error)
        for number in session.scalars(select(PhoneNumber).where(PhoneNumber.id.in_(batch.number_ids))):
            number.last_error = error


# The real browser: Debian's chromium driven by Playwright, against the app served from a thread.

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PORTS = range(18100, 18200)


def free_port() -> int:
    import socket

    for port in PORTS:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="package")
def chromium():
    """Fails, never skips, without chromium: the browser tests are the proof the UI works."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install it with `apt-get install -y chromium`")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def live_url(app):
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture
def browser_page(chromium, live_url):
    context = chromium.new_context(base_url=live_url, viewport={"width": 1360, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def sign_in_page(page, email: str, password: str = PASSWORD) -> None:
    page.goto("/sign-in")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
