"""The Settings page: API keys (created and shown once, revoked, only this project's) and the
taxonomy overrides (saved, refused with a clear error, nothing lost); admin only."""

from __future__ import annotations

import html
import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.models import ApiKey, Project
from tests.conftest import MakeTenant
from tests.console.conftest import ConsoleClient, form_token, text

NEW_TOKEN = re.compile(r'id="new-token" value="(wn_[^"]+)"')



def selected(page: str, name: str) -> str:
    """The value of the option selected in the select named `name`."""
    start = page.index(f'name="{name}"')
    found = re.search(r'<option value="([^"]*)" selected>', page[start:page.index("</select>",
                                                                                   start)])
    assert found, name
    return found.group(1)


def create(browser: FlaskClient, **fields: object) -> object:
    data = {"csrf_token": form_token(browser, "/settings"), **fields}
    return browser.post("/settings/keys", data=data)


def test_a_new_key_is_shown_once_and_works(app: Flask, client: FlaskClient,
                                           console_client: ConsoleClient) -> None:
    admin = console_client("admin")
    page = text(admin.get("/settings"))
    assert "this session" in page and admin.tenant.token.split("_")[1] in page  # type: ignore[attr-defined]
    resp = create(admin, name="web backend", scopes=["events:write", "events:read"],
                  rate_limit="50/second")
    assert resp.status_code == 201  # type: ignore[attr-defined]
    answer = text(resp)
    found = NEW_TOKEN.search(answer)
    assert found and "copy it now" in answer and "only time the key is shown" in answer
    token = found.group(1)
    assert resp.headers["Cache-Control"] == "no-store"  # type: ignore[attr-defined]
    # The API takes it, with its scopes.
    api = {"Authorization": f"Bearer {token}"}
    assert client.get("/v1/events", headers=api).status_code == 200
    assert client.get("/v1/datasets", headers=api).status_code == 403
    # Never shown again: not on the next view of the page.
    again = text(admin.get("/settings"))
    assert token not in again and "web backend" in again and "50/second" in again
    with app.extensions["winnow"].db.session() as session:
        key = session.scalar(select(ApiKey).where(ApiKey.name == "web backend"))
        assert key is not None and key.scopes == ["events:read", "events:write"]
        assert token.split("_")[2] not in key.secret_hash


def test_bad_key_forms_are_refused_and_kept(console_client: ConsoleClient, app: Flask) -> None:
    admin = console_client("admin")
    for fields, reason in (({"name": "", "scopes": ["events:read"]}, "name of 1 to 200"),
                           ({"name": "no scopes"}, "at least one scope"),
                           ({"name": "odd", "scopes": ["events:read", "root"]}, "unknown scope"),
                           ({"name": "fast", "scopes": ["events:read"], "rate_limit": "lots"},
                            "rate limit must look like")):
        resp = create(admin, **fields)
        assert resp.status_code == 422, fields  # type: ignore[attr-defined]
        page = text(resp)
        assert reason in page and "The key was not created" in page
        assert not NEW_TOKEN.search(page)
        if fields.get("name"):
            assert f'value="{fields["name"]}"' in page  # what was typed is still there
    kept = text(create(admin, name="fast", scopes=["events:read"], rate_limit="lots"))
    assert 'value="lots"' in kept and re.search(r'value="events:read" checked', kept)
    with app.extensions["winnow"].db.session() as session:
        assert session.query(ApiKey).count() == 1  # only the signed-in one


def test_revoking_a_key(app: Flask, client: FlaskClient, console_client: ConsoleClient,
                        make_tenant: MakeTenant) -> None:
    admin = console_client("admin")
    other = make_tenant(scopes=("events:read",))
    prefix = other.token.split("_")[1]
    confirm = admin.get(f"/settings/keys/{prefix}/revoke")
    assert confirm.status_code == 200 and "Revoke key" in text(confirm)
    assert "signs you out" not in text(confirm)
    resp = admin.post(f"/settings/keys/{prefix}/revoke",
                      data={"csrf_token": form_token(admin, "/settings")})
    assert resp.status_code == 303
    assert resp.headers["Location"] == f"/settings?revoked={prefix}#keys"
    assert "is revoked" in text(admin.get(resp.headers["Location"]))
    assert client.get("/v1/events", headers=other.headers).status_code == 401
    # The session's own key: the confirmation says so, and the next request is signed out.
    mine = admin.tenant.token.split("_")[1]  # type: ignore[attr-defined]
    assert "signs you out on your next request" in text(
        admin.get(f"/settings/keys/{mine}/revoke"))
    resp = admin.post(f"/settings/keys/{mine}/revoke",
                      data={"csrf_token": form_token(admin, "/settings")})
    assert resp.status_code == 303
    after = admin.get("/settings")
    assert after.status_code == 401 and "revoked" in text(after)


def test_another_projects_key_cannot_be_revoked(app: Flask, client: FlaskClient,
                                                console_client: ConsoleClient,
                                                make_tenant: MakeTenant) -> None:
    admin = console_client("admin")
    stranger = make_tenant("globex", scopes=("events:read",))
    prefix = stranger.token.split("_")[1]
    assert prefix not in text(admin.get("/settings"))
    assert admin.get(f"/settings/keys/{prefix}/revoke").status_code == 404
    resp = admin.post(f"/settings/keys/{prefix}/revoke",
                      data={"csrf_token": form_token(admin, "/settings")})
    assert resp.status_code == 404 and "no API key" in text(resp)
    assert client.get("/v1/events", headers=stranger.headers).status_code == 200


def test_forms_without_the_csrf_token_change_nothing(app: Flask, client: FlaskClient,
                                                     console_client: ConsoleClient,
                                                     make_tenant: MakeTenant) -> None:
    admin = console_client("admin")
    other = make_tenant(scopes=("events:read",))
    prefix = other.token.split("_")[1]
    for path, data in (("/settings/keys", {"name": "x", "scopes": ["admin"]}),
                       (f"/settings/keys/{prefix}/revoke", {}),
                       ("/settings/taxonomy", {"type.copy": "strong_positive"})):
        for token in (None, "forged"):
            resp = admin.post(path, data=data | ({"csrf_token": token} if token else {}))
            assert resp.status_code == 400 and "expired" in text(resp), path
    assert client.get("/v1/events", headers=other.headers).status_code == 200
    with app.extensions["winnow"].db.session() as session:
        assert session.query(ApiKey).count() == 2
        assert session.scalar(select(Project.signal_map)) is None


def test_non_admins_get_403_and_no_link(console_client: ConsoleClient) -> None:
    reader = console_client("events:read", "datasets:read", "items:read")
    assert 'href="/settings"' not in text(reader.get("/datasets"))
    for path in ("/settings", "/settings/keys/abc/revoke"):
        assert reader.get(path).status_code == 403
    token = form_token(reader, "/datasets")
    assert reader.post("/settings/keys", data={"csrf_token": token, "name": "x",
                                               "scopes": ["admin"]}).status_code == 403
    assert reader.post("/settings/taxonomy", data={"csrf_token": token}).status_code == 403
    admin = console_client("admin")
    assert 'href="/settings"' in text(admin.get("/settings"))


def test_taxonomy_overrides(client: FlaskClient, console_client: ConsoleClient,
                            make_tenant: MakeTenant) -> None:
    admin = console_client("admin")
    api = make_tenant(scopes=("events:read",))
    page = text(admin.get("/settings"))
    assert 'name="type.copy"' in page and 'name="rating.3"' in page
    assert "default (positive)" in page
    token = form_token(admin, "/settings")
    resp = admin.post("/settings/taxonomy", data={"csrf_token": token,
                                                  "type.copy": "strong_positive",
                                                  "type.ignore": "", "rating.3": "negative"})
    assert resp.status_code == 303
    assert resp.headers["Location"] == "/settings?saved=taxonomy#taxonomy"
    taxonomy = client.get("/v1/taxonomy", headers=api.headers).get_json()
    assert taxonomy["overrides"] == {"types": {"copy": "strong_positive"},
                                     "ratings": {"3": "negative"}}
    page = text(admin.get(resp.headers["Location"]))
    assert "The overrides are saved" in page
    assert selected(page, "type.copy") == "strong_positive"
    assert selected(page, "type.ignore") == "" and selected(page, "rating.3") == "negative"
    # Bad input: a clear error, the form as sent, and nothing changed.
    for data, reason in (({"type.copy": "great"}, "'great' is not a signal"),
                         ({"type.teleport": "positive"}, "unknown event type 'teleport'"),
                         ({"rating.6": "positive"}, "unknown rating '6'")):
        bad = admin.post("/settings/taxonomy", data={"csrf_token": token, "rating.1": "neutral",
                                                     **data})
        assert bad.status_code == 422
        answer = html.unescape(text(bad))
        assert "Nothing was changed" in answer and reason in answer, answer[:200]
        assert selected(answer, "rating.1") == "neutral"
    assert client.get("/v1/taxonomy", headers=api.headers).get_json()["overrides"] == {
        "types": {"copy": "strong_positive"}, "ratings": {"3": "negative"}}
    # All back to the defaults.
    admin.post("/settings/taxonomy", data={"csrf_token": token})
    assert client.get("/v1/taxonomy", headers=api.headers).get_json()["overrides"] is None
