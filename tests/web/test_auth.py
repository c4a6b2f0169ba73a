"""Sign-in, sessions and CSRF, through Flask's test client."""

from __future__ import annotations

from tests.web.conftest import ACME_ADMIN, ALICE, OPERATOR, csrf_token, sign_in
from webui import create_app
from webui.ratelimit import MAX_FAILURES, MAX_PER_ACCOUNT, MAX_PER_ADDRESS, SignInLimiter


def test_each_role_lands_on_its_own_home(signed_in):
    assert signed_in(ACME_ADMIN).home == "/telephony"
    assert signed_in(ALICE).home == "/profile"
    assert signed_in(OPERATOR).home == "/operator"


def test_pages_need_a_signed_in_person(app):
    client = app.test_client()
    assert client.get("/telephony").headers["Location"].startswith("/sign-in?next=/telephony")
    answer = client.get("/api/v1/sites")
    assert answer.status_code == 401 and answer.json["error"] == "Sign in first"


def test_wrong_password_is_refused_without_saying_which_part_was_wrong(app):
    client = app.test_client()
    wrong_password = sign_in(client, ACME_ADMIN, "not-the-password")
    unknown_email = sign_in(client, "nobody@acme.example", "not-the-password")
    for answer in (wrong_password, unknown_email):
        assert answer.status_code == 400
        assert "The e-mail address or password is not right" in answer.get_data(as_text=True)


def test_sign_in_is_rate_limited_per_email_and_address(app):
    client = app.test_client()
    for _ in range(5):
        assert sign_in(client, ACME_ADMIN, "guess").status_code == 400
    blocked = sign_in(client, ACME_ADMIN)  # even the right password, while blocked
    assert blocked.status_code == 429
    assert "Too many failed sign-ins" in blocked.get_data(as_text=True)
    assert sign_in(app.test_client(), ALICE).status_code == 302  # another e-mail is not blocked


def test_rate_limit_window_slides(factory):
    now = [1000.0]
    limiter = SignInLimiter(factory, max_failures=2, window_s=60, clock=lambda: now[0])
    limiter.failed("a@x", "1.1.1.1")
    limiter.failed("A@X ", "1.1.1.1")
    assert limiter.retry_after("a@x", "1.1.1.1") == 61
    assert limiter.retry_after("a@x", "2.2.2.2") == 0
    now[0] += 61
    assert limiter.retry_after("a@x", "1.1.1.1") == 0


def from_address(app, ip: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = ip
    return client


def test_sign_in_is_limited_per_address_across_many_emails(app):
    guesser = from_address(app, "198.51.100.7")
    for i in range(MAX_PER_ADDRESS):
        assert sign_in(guesser, f"someone{i}@acme.example", "guess").status_code == 400

    blocked = sign_in(guesser, ACME_ADMIN)  # the right password, from the spraying address

    assert blocked.status_code == 429
    assert "Too many failed sign-ins from your address" in blocked.get_data(as_text=True)
    assert sign_in(from_address(app, "198.51.100.8"), ACME_ADMIN).status_code == 302


def test_sign_in_is_limited_per_account_across_many_addresses(app):
    for i in range(MAX_PER_ACCOUNT):
        assert sign_in(from_address(app, f"203.0.113.{i}"), ACME_ADMIN, "guess").status_code == 400
        assert sign_in(from_address(app, f"203.0.113.{i}"), "nobody@acme.example", "guess").status_code == 400

    right = sign_in(from_address(app, "203.0.113.200"), ACME_ADMIN)
    unknown = sign_in(from_address(app, "203.0.113.200"), "nobody@acme.example", "guess")

    assert right.status_code == unknown.status_code == 429
    said = [answer.get_data(as_text=True) for answer in (right, unknown)]
    assert all("Too many failed sign-ins for this account" in page for page in said)
    assert sign_in(from_address(app, "203.0.113.200"), ALICE).status_code == 302


def test_sign_in_limits_hold_across_processes_and_restarts(app, store_url):
    for _ in range(MAX_FAILURES):
        assert sign_in(app.test_client(), ACME_ADMIN, "guess").status_code == 400

    restarted = create_app({"DATABASE_URL": store_url, "SECRET_KEY": "test-secret-key"})

    assert sign_in(restarted.test_client(), ACME_ADMIN).status_code == 429


def test_sign_in_rotates_the_session_and_sign_out_ends_it(app):
    client = app.test_client()
    before = csrf_token(client.get("/sign-in").get_data(as_text=True))
    assert sign_in(client, ACME_ADMIN).status_code == 302
    after = csrf_token(client.get("/telephony").get_data(as_text=True))
    assert after != before  # nothing from before sign-in survives, the CSRF token included
    cookie = client.get_cookie("session").value

    client.post("/sign-out", data={"csrf_token": after})
    assert client.get("/telephony").status_code == 302

    replay = app.test_client()  # someone who copied the cookie before sign-out
    replay.set_cookie("session", cookie)
    assert replay.get("/telephony").status_code == 302
    assert replay.get("/api/v1/sites").status_code == 401


def test_forms_without_csrf_token_are_refused(app):
    client = app.test_client()
    client.get("/sign-in")
    answer = client.post("/sign-in", data={"email": ACME_ADMIN, "password": "demo-password"})
    assert answer.status_code == 400
    assert "security token" in answer.get_data(as_text=True)


def test_json_writes_without_csrf_header_are_refused(signed_in, ids):
    admin = signed_in(ACME_ADMIN)
    number = ids.numbers["+442079460204"]
    refused = admin.write("PUT", f"/api/v1/numbers/{number}/display-name", {"first": "X", "second": ""}, csrf=False)
    assert refused.status_code == 400 and "security token" in refused.json["error"]
    assert admin.get(f"/api/v1/numbers/{number}").json["display_name"]["first"] == ""


def test_sign_in_goes_back_only_to_a_page_of_this_site(app):
    client = app.test_client()
    token = csrf_token(client.get("/sign-in").get_data(as_text=True))
    answer = client.post(
        "/sign-in",
        data={"email": ACME_ADMIN, "password": "demo-password", "csrf_token": token, "next": "//evil.example/"},
    )
    assert answer.headers["Location"] == "/telephony"


def test_secret_key_is_generated_once_into_the_state_dir(store_url, tmp_path, monkeypatch):
    from webui import create_app

    monkeypatch.setenv("PBX_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.delenv("PBX_SECRET_KEY", raising=False)
    first = create_app({"DATABASE_URL": store_url}).config["SECRET_KEY"]
    second = create_app({"DATABASE_URL": store_url}).config["SECRET_KEY"]
    assert first == second == (tmp_path / "state" / "web-secret-key").read_text().strip()
    assert oct((tmp_path / "state" / "web-secret-key").stat().st_mode & 0o777) == "0o600"
    monkeypatch.setenv("PBX_SECRET_KEY", "from-the-environment")
    assert create_app({"DATABASE_URL": store_url}).config["SECRET_KEY"] == "from-the-environment"


def test_sessions_end_when_idle_or_too_old(factory):
    from webui.web_sessions import SessionRegistry

    now = [0.0]
    registry = SessionRegistry(factory, max_age_s=100, idle_s=30, clock=lambda: now[0])
    sid = registry.start(7)  # demo users 7 and 8 exist: the table keeps its foreign key
    now[0] = 25
    assert registry.user_id(sid) == 7
    now[0] = 50  # 25 s since last seen: still alive
    assert registry.user_id(sid) == 7
    now[0] = 81  # 31 s idle
    assert registry.user_id(sid) is None
    old = registry.start(8)
    for step in range(1, 5):
        now[0] = 81 + step * 25
        assert registry.user_id(old) == 8
    now[0] = 182  # over 100 s since sign-in, however active
    assert registry.user_id(old) is None
    assert registry.user_id("made-up") is None
