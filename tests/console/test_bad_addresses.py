"""Whatever a person types into the address bar gets a page: 4xx with a message, never a 500
or the API's JSON; forms survive an expired session."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import update

from app.models import ConsoleSession
from app.models.base import utcnow
from tests.console.conftest import ConsoleClient, form_token


@pytest.mark.parametrize("path", [
    "/items?until=9999-12-31", "/items?since=0001-01-01", "/samples?date=0001-01-01",
    "/samples?date=9999-12-31", "/?since=9999-12-20&until=9999-12-31",
    "/samples?size=" + "9" * 30, "/samples?i=" + "9" * 30, "/?since=0001-01-01",
])
def test_extreme_values_answer_400_pages(console_client: ConsoleClient, path: str) -> None:
    answer = console_client("admin", tz="Asia/Tokyo").get(path)
    assert answer.status_code == 400, (path, answer.status_code)
    assert answer.mimetype == "text/html" and 'role="alert"' in answer.get_data(as_text=True)


def test_a_form_with_a_huge_number_answers_400(console_client: ConsoleClient) -> None:
    client = console_client()
    answer = client.post("/samples/verdict", data={
        "csrf_token": form_token(client, "/samples"), "date": "2026-12-01",
        "size": "9" * 5000, "item": "x", "verdict": "good"})
    assert answer.status_code == 400 and answer.mimetype == "text/html"


@pytest.mark.parametrize("method, path, status", [
    ("GET", "/no-such-page", 404), ("GET", "/items/a/b", 404), ("GET", "/review/x/decide", 405),
])
def test_unknown_addresses_answer_pages_and_the_api_keeps_problems(
        console_client: ConsoleClient, method: str, path: str, status: int) -> None:
    client = console_client()
    answer = client.open(path, method=method)
    assert answer.status_code == status and answer.mimetype == "text/html"
    assert "Content-Security-Policy" in answer.headers
    api = client.get("/v1/no-such-thing")
    assert api.status_code == 404 and api.mimetype == "application/problem+json"


def test_a_form_sent_after_the_session_ended_comes_back_to_its_page(
        app: Flask, console_client: ConsoleClient) -> None:
    client = console_client()
    token = form_token(client, "/settings")
    with app.extensions["winnow"].db.session() as session:
        session.execute(update(ConsoleSession).values(
            last_seen_at=utcnow() - timedelta(days=30)))
    answer = client.post("/review/some-item/decide", data={"csrf_token": token,
                                                          "action": "release"},
                         headers={"Referer": "http://localhost/review?item=some-item"})
    assert answer.status_code == 401
    assert 'name="next" value="/review?item=some-item"' in answer.get_data(as_text=True)


def test_signing_in_clears_sessions_that_ended_unseen(
        app: Flask, console_client: ConsoleClient) -> None:
    console_client()
    with app.extensions["winnow"].db.session() as session:
        session.execute(update(ConsoleSession).values(
            created_at=utcnow() - timedelta(days=60), last_seen_at=utcnow() - timedelta(days=60)))
    console_client()
    with app.extensions["winnow"].db.session() as session:
        assert session.query(ConsoleSession).count() == 1
