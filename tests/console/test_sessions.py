"""Console sessions: cookie flags, expiry, revocation, open redirects, CSRF."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from sqlalchemy import update

from app.models import ApiKey, ConsoleSession
from app.models.base import utcnow
from tests.conftest import MakeTenant
from tests.console.conftest import TOKEN, ConsoleClient, form_token, sign_in


def test_the_cookie_is_httponly_lax_and_secure_under_https(app: Flask,
                                                           make_tenant: MakeTenant) -> None:
    tenant = make_tenant(scopes=("admin",))
    client = app.test_client()
    page = client.get("/signin", base_url="https://winnow.example")
    token = TOKEN.search(page.get_data(as_text=True)).group(1)  # type: ignore[union-attr]
    # Under https Flask-WTF also wants a same-site Referer, as browsers send.
    answer = client.post("/signin", base_url="https://winnow.example",
                         headers={"Referer": "https://winnow.example/signin"},
                         data={"key": tenant.token, "csrf_token": token})
    assert answer.status_code == 302
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie
    plain = app.test_client()
    answer = sign_in(plain, tenant.token)
    assert "Secure" not in answer.headers["Set-Cookie"]


def test_an_idle_session_ends_with_a_page_that_says_so(app: Flask,
                                                       console_client: ConsoleClient) -> None:
    client = console_client()
    assert client.get("/items").status_code == 200
    idle = app.extensions["winnow"].settings.console_idle_minutes
    with app.extensions["winnow"].db.session() as session:
        session.execute(update(ConsoleSession).values(
            last_seen_at=utcnow() - timedelta(minutes=idle + 1)))
    answer = client.get("/items")
    assert answer.status_code == 401
    text = answer.get_data(as_text=True)
    assert "expired" in text and 'name="next" value="/items"' in text
    with app.extensions["winnow"].db.session() as session:
        assert session.query(ConsoleSession).count() == 0  # the row went with it


def test_revoking_the_key_ends_its_sessions(app: Flask, console_client: ConsoleClient) -> None:
    client = console_client()
    with app.extensions["winnow"].db.session() as session:
        session.execute(update(ApiKey).values(revoked_at=utcnow()))
    answer = client.get("/")
    assert answer.status_code == 401 and "revoked" in answer.get_data(as_text=True)


def test_sign_in_goes_back_only_to_this_site(app: Flask, make_tenant: MakeTenant) -> None:
    tenant = make_tenant(scopes=("admin",))
    for target, expected in (("/items?state=quarantined", "/items?state=quarantined"),
                             ("https://evil.example/", "/"), ("//evil.example/x", "/"),
                             ("/\\evil.example", "/")):
        client = app.test_client()
        answer = client.post("/signin", data={"key": tenant.token, "next": target,
                                              "csrf_token": form_token(client)})
        assert answer.headers["Location"] == expected, target


def test_forms_without_a_valid_csrf_token_change_nothing(app: Flask,
                                                         make_tenant: MakeTenant) -> None:
    tenant = make_tenant(scopes=("admin",))
    client = app.test_client()
    for token in (None, "forged"):
        data = {"key": tenant.token} | ({"csrf_token": token} if token else {})
        answer = client.post("/signin", data=data)
        assert answer.status_code == 400 and "expired" in answer.get_data(as_text=True)
    with app.extensions["winnow"].db.session() as session:
        assert session.query(ConsoleSession).count() == 0


def test_an_unknown_time_zone_falls_back_to_utc(app: Flask, make_tenant: MakeTenant) -> None:
    tenant = make_tenant(scopes=("admin",))
    client = app.test_client()
    sign_in(client, tenant.token, tz="Mars/Olympus")
    assert "Times in UTC" in client.get("/items").get_data(as_text=True)


def test_pages_are_not_cached_framed_or_scripted_from_elsewhere(
        console_client: ConsoleClient) -> None:
    answer = console_client().get("/")
    assert answer.headers["Cache-Control"] == "no-store"
    policy = answer.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy


def test_pages_count_against_the_keys_rate_limit(app: Flask, make_tenant: MakeTenant) -> None:
    tenant = make_tenant(scopes=("admin",), rate_limit="3/minute")
    client = app.test_client()
    sign_in(client, tenant.token)
    answers = [client.get("/items").status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    assert "limited to 3 per 1 minute" in client.get("/items").get_data(as_text=True)
