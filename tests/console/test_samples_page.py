"""The Daily sample page: today's (UTC) sample one conversation at a time, progress through it,
verdicts recorded with failure modes and a note (POST-redirect-GET to the next unjudged item),
CSRF and scopes enforced, earlier days and bad addresses."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.models import Item, SampleVerdict
from tests.conftest import MakeTenant
from tests.console.conftest import ConsoleClient, form_token
from tests.helpers import Tenant, conversation, event, generation, run_jobs

EMAIL = "sam.lee@example.com"
PHONE = "+1 415 555 0199"


@pytest.fixture
def api(make_tenant: MakeTenant) -> Tenant:
    return make_tenant(scopes=("events:write", "events:read", "items:read"))


def seed_today(app: Flask, api: Tenant, count: int = 3) -> list[str]:
    """`count` accepted items received today (UTC), through the API and the curation job; the
    first carries an email address and a phone number and has negative feedback."""
    client = app.test_client()
    for i in range(count):
        gid = f"gen-{i}"
        assert client.post("/v1/generations", json=generation(gid, prompt={
            "id": "reply", "version": "3"}), headers=api.headers).status_code == 201
        first = (f"Write to {EMAIL} or call {PHONE}, please." if i == 0
                 else f"Question number {i}: how do I change plan {i * 7}?")
        body = conversation(f"s-{i}", f"u-{i}", first, f"Here is answer {i} to your question.",
                            generation_id=gid)
        assert client.post("/v1/conversations", json=body,
                           headers=api.headers).status_code == 201
    assert client.post("/v1/events", json=event("neg", "regenerate", "gen-0"),
                       headers=api.headers).status_code == 201
    run_jobs(app)
    with app.extensions["winnow"].db.session() as session:
        states = dict(session.execute(select(Item.external_id, Item.state)).all())
    assert set(states.values()) == {"accepted"}, states
    return sorted(states)


def today() -> str:
    return datetime.now(UTC).date().isoformat()


def verdict_form(client: FlaskClient, path: str, **fields: object) -> dict[str, object]:
    text = client.get(path).get_data(as_text=True)
    item = re.search(r'name="item" value="([^"]+)"', text)
    assert item, "no verdict form on the page"
    return {"csrf_token": form_token(client, path), "date": today(), "size": "20",
            "item": item.group(1), **fields}


def test_todays_sample_one_at_a_time_with_progress(
        app: Flask, api: Tenant, console_client: ConsoleClient) -> None:
    seed_today(app, api)
    client = console_client("items:read", "items:review")
    resp = client.get("/samples")
    assert resp.status_code == 200
    text = resp.get_data(as_text=True)
    assert f"Daily sample of {today()}" in text  # today is the UTC day
    assert "Item 1 of 3, 0 judged" in text
    assert '<progress value="0" max="3"' in text
    # Negative feedback first: the regenerated one leads; its PII shows as placeholders only.
    assert 'name="item" value="s-0"' in text
    # (Not "555" alone: a random CSRF token on the page may hold it by chance.)
    assert EMAIL not in text and "415 555" not in text and "555 0199" not in text
    assert "&lt;EMAIL_ADDRESS_1&gt;</mark>" in text and "&lt;PHONE_NUMBER_1&gt;</mark>" in text
    assert "regenerate: 1" in text and "negative</span>" in text
    for key in ('data-key="1"', 'data-key="2"', 'data-key="3"', 'data-key="j"'):
        assert key in text
    assert 'data-key="k"' not in text  # no previous item on the first
    for mode in ("hallucination", "wrong_or_incomplete", "off_topic", "unsafe", "format",
                 "other"):
        assert f'name="failure_modes" value="{mode}"' in text
    second = client.get(f"/samples?date={today()}&i=2").get_data(as_text=True)
    assert "Item 2 of 3, 0 judged" in second and 'data-key="k"' in second


def test_a_verdict_is_recorded_and_the_page_moves_to_the_next_unjudged(
        app: Flask, api: Tenant, console_client: ConsoleClient) -> None:
    seed_today(app, api)
    client = console_client("items:read", "items:review")
    form = verdict_form(client, "/samples", verdict="bad",
                        failure_modes=["hallucination", "format"], note="  made up a fee  ")
    resp = client.post("/samples/verdict", data=form)
    assert resp.status_code == 303
    target = urlsplit(resp.headers["Location"])
    assert target.path == "/samples"
    assert parse_qs(target.query) == {"date": [today()], "size": ["20"], "i": ["2"],
                                      "saved": ["s-0"]}
    with app.extensions["winnow"].db.session() as session:
        [stored] = session.scalars(select(SampleVerdict)).all()
        assert stored.verdict == "bad" and stored.failure_modes == ["format", "hallucination"]
        assert stored.note == "made up a fee" and stored.actor.startswith("key:")
        assert stored.sample_date.isoformat() == today()
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "Item 2 of 3, 1 judged" in page and "Verdict recorded for s-0" in page
    assert '<progress value="1" max="3"' in page

    # Judging the third: nothing unjudged after it, so round to the second, still unjudged.
    third = verdict_form(client, f"/samples?date={today()}&i=3", verdict="good")
    resp = client.post("/samples/verdict", data=third)
    assert parse_qs(urlsplit(resp.headers["Location"]).query)["saved"] == [third["item"]]
    assert parse_qs(urlsplit(resp.headers["Location"]).query)["i"] == ["2"]
    # A second verdict on an item replaces the first; the form shows what is recorded.
    again = client.get(f"/samples?date={today()}&i=1").get_data(as_text=True)
    assert "checked" in again.split('value="hallucination"')[1][:20]
    assert "made up a fee</textarea>" in again
    form = verdict_form(client, f"/samples?date={today()}&i=1", verdict="unsure")
    client.post("/samples/verdict", data=form)
    with app.extensions["winnow"].db.session() as session:
        verdicts = dict(session.execute(select(Item.external_id, SampleVerdict.verdict).join(
            Item, Item.id == SampleVerdict.item_id)).all())
    assert verdicts == {"s-0": "unsure", third["item"]: "good"}


def test_a_verdict_without_its_csrf_token_or_the_review_scope_is_refused(
        app: Flask, api: Tenant, console_client: ConsoleClient) -> None:
    seed_today(app, api)
    client = console_client("items:read", "items:review")
    form = verdict_form(client, "/samples", verdict="good")
    del form["csrf_token"]
    resp = client.post("/samples/verdict", data=form)
    assert resp.status_code == 400 and "This form has expired" in resp.get_data(as_text=True)
    form["csrf_token"] = "forged"
    assert client.post("/samples/verdict", data=form).status_code == 400

    reader = console_client("items:read")
    text = reader.get("/samples").get_data(as_text=True)
    assert "Item 1 of 3" in text and 'name="verdict"' not in text  # read, but no form
    assert "needs the items:review scope" in text
    form["csrf_token"] = form_token(reader, "/samples")  # the sign-out form's token
    assert reader.post("/samples/verdict", data=form).status_code == 403
    with app.extensions["winnow"].db.session() as session:
        assert session.scalars(select(SampleVerdict)).all() == []

    outsider = console_client("events:read")
    assert outsider.get("/samples").status_code == 403


def test_bad_verdicts_and_addresses_are_clear_pages(
        app: Flask, api: Tenant, console_client: ConsoleClient) -> None:
    seed_today(app, api)
    client = console_client("items:read", "items:review")
    for query, says in (("?date=2024-02-30", "is no date"), ("?size=0", "from 1 to 500"),
                        ("?size=many", "from 1 to 500"), ("?i=-1", "no position")):
        resp = client.get("/samples" + query)
        assert resp.status_code == 400, query
        assert says in resp.get_data(as_text=True), query
    form = verdict_form(client, "/samples", verdict="splendid")
    resp = client.post("/samples/verdict", data=form)
    assert resp.status_code == 422 and "not recorded" in resp.get_data(as_text=True)
    form = verdict_form(client, "/samples", verdict="bad", note="x" * 2001)
    assert client.post("/samples/verdict", data=form).status_code == 422
    yesterday = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
    form = verdict_form(client, "/samples", verdict="bad", date=yesterday)
    resp = client.post("/samples/verdict", data=form)
    assert resp.status_code == 409 and "that day" in resp.get_data(as_text=True)
    with app.extensions["winnow"].db.session() as session:
        assert session.scalars(select(SampleVerdict)).all() == []


def test_earlier_days_and_a_day_without_items(
        app: Flask, api: Tenant, console_client: ConsoleClient) -> None:
    seed_today(app, api)
    client = console_client("items:read")
    yesterday = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
    text = client.get(f"/samples?date={yesterday}").get_data(as_text=True)
    assert f"No accepted items were received on {yesterday}" in text
    assert f'href="/samples?date={today()}"' in text  # the day after (and today)
    assert 'data-key="["' in text
    text = client.get("/samples").get_data(as_text=True)
    assert f'href="/samples?date={yesterday}"' in text and 'data-key="]"' not in text
    small = client.get(f"/samples?date={today()}&size=1").get_data(as_text=True)
    assert "Item 1 of 1, 0 judged" in small and "3 accepted items that day" in small
