"""API tokens: created and revoked on My profile, the API and the CLI; a token acts as its user,
narrowed by its scope; another occupier's ids are 404; a revoked token is 401; no CSRF for Bearer."""

from __future__ import annotations

import re

from sqlalchemy import select

from pbx.services import api_tokens
from pbx.services.actor import Actor
from pbx.store.db import transaction
from pbx.store.models import ApiToken
from tests.test_cli import run_pbx
from tests.web.conftest import ACME_ADMIN, ALICE, GLOBEX_ADMIN
from tests.web.test_openapi import token_for


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_read_token_reads_but_cannot_write(app, factory, ids):
    client = app.test_client()
    token = token_for(factory, ids, ALICE, scope="read")
    alice = ids.numbers["+442079460201"]
    assert client.get(f"/api/v1/numbers/{alice}/features", headers=bearer(token)).status_code == 200
    refused = client.patch(f"/api/v1/numbers/{alice}/features", json={"call_waiting": False}, headers=bearer(token))
    assert refused.status_code == 403 and refused.json["code"] == "forbidden"
    assert "may only read" in refused.json["error"]
    write = token_for(factory, ids, ALICE)
    done = client.patch(f"/api/v1/numbers/{alice}/features", json={"call_waiting": False}, headers=bearer(write))
    assert done.status_code == 200 and done.json["features"]["call_waiting"] is False  # no CSRF for Bearer


def test_r3_a_token_acts_as_its_user_and_another_occupiers_ids_are_not_found(app, factory, ids):
    client = app.test_client()
    globex = token_for(factory, ids, GLOBEX_ADMIN)
    acme_number = ids.numbers["+442079460204"]
    for method, url, body in [
        ("GET", f"/api/v1/numbers/{acme_number}", None),
        ("POST", f"/api/v1/numbers/{acme_number}/pin-reset", None),
        ("PUT", f"/api/v1/numbers/{acme_number}/display-name", {"first": "x"}),
    ]:
        answer = client.open(url, method=method, json=body, headers=bearer(globex))
        assert answer.status_code == 404, (url, answer.json)
    alice = token_for(factory, ids, ALICE)
    assert client.get("/api/v1/users", headers=bearer(alice)).status_code == 403  # a user is not an admin
    assert client.get("/api/v1/me", headers=bearer(alice)).json["email"] == ALICE


def test_a_revoked_or_expired_token_is_refused_with_401(app, factory, ids):
    client = app.test_client()
    token = token_for(factory, ids, ACME_ADMIN)
    assert client.get("/api/v1/sites", headers=bearer(token)).status_code == 200
    with transaction(factory) as session:
        row = session.scalar(select(ApiToken).where(ApiToken.user_id == ids.users[ACME_ADMIN]))
        assert row.last_used_at is not None and row.secret_hash != token and token not in row.secret_hash
        api_tokens.revoke_token(session, Actor.system(), row.id)
    answer = client.get("/api/v1/sites", headers=bearer(token))
    assert answer.status_code == 401 and answer.json["code"] == "unauthorized"
    wrong = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")
    assert client.get("/api/v1/sites", headers=bearer(wrong)).status_code == 401


def test_a_bearer_request_ignores_the_session_cookie(signed_in, factory, ids):
    admin = signed_in(ACME_ADMIN)
    assert admin.get("/api/v1/sites").status_code == 200
    assert admin.get("/api/v1/sites", headers=bearer("pbx_x_y")).status_code == 401


def test_my_profile_creates_lists_and_revokes_tokens_and_shows_the_secret_once(signed_in):
    alice = signed_in(ALICE)
    made = alice.post_form("/profile/tokens", {"name": "nightly export", "scope": "read"})
    html = made.get_data(as_text=True)
    assert made.status_code == 200
    secret = re.search(r'id="new-token-secret">(pbx_[^<]+)<', html).group(1)
    assert "nightly export" in html
    again = alice.get("/profile").get_data(as_text=True)
    assert secret not in again and "nightly export" in again and "never" in again
    assert alice.client.get("/api/v1/me", headers=bearer(secret)).status_code == 200
    token_id = re.search(r'data-token-id="(\d+)"', again).group(1)
    assert alice.post_form(f"/profile/tokens/{token_id}/revoke", {}).status_code == 303
    assert "revoked" in alice.get("/profile").get_data(as_text=True)
    assert alice.client.get("/api/v1/me", headers=bearer(secret)).status_code == 401
    refused = alice.post_form("/profile/tokens", {"name": ""})
    assert refused.status_code == 400 and "is required" in refused.get_data(as_text=True)


def test_someone_else_cannot_revoke_my_token(signed_in, factory, ids):
    token = token_for(factory, ids, ALICE)
    with transaction(factory) as session:
        token_id = session.scalar(select(ApiToken.id).where(ApiToken.user_id == ids.users[ALICE]))
    admin = signed_in(ACME_ADMIN)
    assert admin.write("DELETE", f"/api/v1/tokens/{token_id}").status_code == 404
    assert admin.client.get("/api/v1/me", headers=bearer(token)).status_code == 200


def test_the_cli_creates_lists_and_revokes_tokens(store_url, tmp_path, app):
    state = tmp_path
    made = run_pbx(["token", "create", "--user", ALICE, "--name", "cron", "--scope", "read"], state)
    assert made.returncode == 0, made.stderr
    secret = made.stdout.strip().splitlines()[-1]
    assert secret.startswith("pbx_")
    assert app.test_client().get("/api/v1/me", headers=bearer(secret)).json["email"] == ALICE
    listed = run_pbx(["token", "list", "--user", ALICE], state)
    assert "cron\tread\tusable" in listed.stdout and secret not in listed.stdout
    token_id = listed.stdout.split("\t", 1)[0]
    assert run_pbx(["token", "revoke", token_id], state).returncode == 0
    assert app.test_client().get("/api/v1/me", headers=bearer(secret)).status_code == 401
    assert "revoked" in run_pbx(["token", "list", "--user", ALICE], state).stdout


def test_the_cli_adds_lists_and_deletes_operator_webhooks(store_url, tmp_path):
    made = run_pbx(["webhooks", "add", "https://hooks.example.invalid/pbx"], tmp_path)
    assert made.returncode == 0, made.stderr
    assert "secret: " in made.stdout
    hook_id = made.stdout.split(":", 1)[0].split()[-1]
    assert f"{hook_id}\toperator\thttps://hooks.example.invalid/pbx" in run_pbx(["webhooks", "list"], tmp_path).stdout
    refused = run_pbx(["webhooks", "add", "ftp://x"], tmp_path)
    assert refused.returncode == 2 and "http://" in refused.stderr
    assert run_pbx(["webhooks", "delete", hook_id], tmp_path).returncode == 0
    assert run_pbx(["webhooks", "list"], tmp_path).stdout == ""


def test_r22_the_operator_sets_an_authorization_code_through_the_api_and_an_admin_cannot(app, factory, ids):
    client = app.test_client()
    number = ids.numbers["+442079460204"]
    url = f"/api/v1/numbers/{number}/features"
    admin = client.patch(url, json={"authorization_code": "4829"}, headers=bearer(token_for(factory, ids, ACME_ADMIN)))
    assert admin.status_code in (400, 403) and admin.json["code"] in ("forbidden", "invalid", "rule_broken")
    operator = bearer(token_for(factory, ids, "operator@flexspace.example"))
    done = client.patch(url, json={"authorization_code": "4829"}, headers=operator)
    assert done.status_code == 200, done.json
    assert client.get(url, headers=operator).json["authorization_code"] is True  # shown only as on/off
