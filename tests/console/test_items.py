"""The Items pages: search by state, reason, model, prompt version and day, keyset pages, and
one item with its redacted text, findings, screening, duplicates, votes, reviews, annotations,
dataset versions and sample verdict. Data comes in through the real API and jobs."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from app.console import items as items_page
from app.models import Annotation, Item
from tests.conftest import MakeTenant
from tests.console.conftest import ConsoleClient
from tests.helpers import Tenant, conversation, event, generation, run_jobs

API_SCOPES = ("events:write", "events:read", "items:read", "items:review", "datasets:read",
              "datasets:write")
EMAIL = "maria.gonzalez@example.com"
PHONE = "+1 415 555 0132"
ITEM_LINK = re.compile(r'href="/items/([^"?]+)"')


@pytest.fixture
def api(make_tenant: MakeTenant) -> Tenant:
    return make_tenant(scopes=API_SCOPES)


def post(client: FlaskClient, api: Tenant, path: str, body: dict[str, object]) -> None:
    resp = client.post(path, json=body, headers=api.headers)
    assert resp.status_code in (200, 201, 202), resp.get_data(as_text=True)


def seed(app: Flask, api: Tenant) -> None:
    """Four shares: one with an email and a phone number (gpt-4o, prompt reply@7), one shared
    twice (claude, reply@8; the copy merged into it), one rejected by a person (10 days ago)."""
    client = app.test_client()
    post(client, api, "/v1/generations", generation(
        "gen-a", model={"name": "gpt-4o", "version": "2024-08-06"},
        prompt={"id": "reply", "version": "7"}))
    for gid in ("gen-b", "gen-c", "gen-d"):
        post(client, api, "/v1/generations", generation(
            gid, model={"name": "claude", "version": "3"}, prompt={"id": "reply", "version": "8"}))
    post(client, api, "/v1/conversations", conversation(
        "c-pii", "u-1", f"Please email me at {EMAIL} or call {PHONE} about my refund.",
        "I will email you about the refund today.", generation_id="gen-a"))
    post(client, api, "/v1/events", event("a1", "thumbs_down", "gen-a"))
    run_jobs(app)
    same = ("How do I export my invoices as a spreadsheet?",
            "Open Billing, choose Invoices, then Export and pick CSV.")
    post(client, api, "/v1/conversations", conversation("c-plain", "u-2", *same,
                                                        generation_id="gen-b"))
    run_jobs(app)
    post(client, api, "/v1/conversations", conversation("c-copy", "u-3", *same,
                                                        generation_id="gen-c"))
    post(client, api, "/v1/conversations", conversation(
        "c-old", "u-4", "What are your opening hours on public holidays?",
        "We are open from ten to four on public holidays.", generation_id="gen-d"))
    run_jobs(app)
    post(client, api, "/v1/items/c-old/reject", {"note": "a test message, not a real one"})
    with app.extensions["winnow"].db.session() as session:
        session.execute(update(Item).where(Item.external_id == "c-old").values(
            received_at=datetime.now(UTC) - timedelta(days=10)))


def listed(client: FlaskClient, query: str = "") -> list[str]:
    resp = client.get("/items" + query)
    assert resp.status_code == 200, resp.get_data(as_text=True)[:500]
    return ITEM_LINK.findall(resp.get_data(as_text=True))


def test_each_filter_narrows_the_list(app: Flask, api: Tenant,
                                      console_client: ConsoleClient) -> None:
    seed(app, api)
    client = console_client("items:read")
    assert listed(client) == ["c-old", "c-copy", "c-plain", "c-pii"]  # newest first (by id)
    assert listed(client, "?state=duplicate") == ["c-copy"]
    assert listed(client, "?state=accepted") == ["c-plain", "c-pii"]
    assert listed(client, "?state=rejected_prank") == ["c-old"]
    assert listed(client, "?reason=REJECTED+by") == ["c-old"]  # any case, any part
    assert listed(client, "?reason=copy+of") == ["c-copy"]
    assert listed(client, "?reason=100%25") == []  # a LIKE wildcard is a plain character
    assert listed(client, "?model=gpt-4o") == ["c-pii"]
    assert listed(client, "?model=claude%403") == ["c-old", "c-copy", "c-plain"]
    assert listed(client, "?model=claude%404") == []
    assert listed(client, "?prompt_version=7") == ["c-pii"]
    assert listed(client, "?prompt_version=reply%408&state=accepted") == ["c-plain"]
    assert listed(client, "?prompt_version=other%408") == []
    old = (datetime.now(UTC) - timedelta(days=10)).date()
    assert listed(client, f"?since={old + timedelta(days=1)}") == ["c-copy", "c-plain", "c-pii"]
    assert listed(client, f"?until={old}") == ["c-old"]
    assert listed(client, f"?since={old}&until={old}") == ["c-old"]
    text = client.get("/items?model=claude%403").get_data(as_text=True)
    assert "claude@3" in text and "reply@8" in text  # model and prompt version columns
    assert 'value="claude@3"' in text  # the form keeps the filter
    assert "No items match these filters" in client.get("/items?reason=nothing-like-it") \
        .get_data(as_text=True)


def test_bad_filters_answer_a_clear_400_page(app: Flask,
                                             console_client: ConsoleClient) -> None:
    client = console_client("items:read")
    for query, says in (("?since=2024-13-01", "since: &#39;2024-13-01&#39; is no date"),
                        ("?until=yesterday", "until: &#39;yesterday&#39; is no date"),
                        ("?since=2024-05-02&until=2024-05-01", "comes after"),
                        ("?state=lost", "is no item state"),
                        ("?cursor=bogus", "cursor"),
                        ("?reason=" + "x" * 201, "at most 200")):
        resp = client.get("/items" + query)
        assert resp.status_code == 400, query
        text = resp.get_data(as_text=True)
        assert says in text and 'role="alert"' in text, (query, text[-1500:])
        assert 'id="f-since"' in text  # the form is there to fix it


def test_pages_follow_the_keyset_and_keep_the_filters(
        app: Flask, api: Tenant, console_client: ConsoleClient,
        monkeypatch: pytest.MonkeyPatch) -> None:
    seed(app, api)
    monkeypatch.setattr(items_page, "PAGE_SIZE", 1)
    client = console_client("items:read")
    seen: list[str] = []
    url: str | None = "/items?model=claude"
    while url:
        text = client.get(url).get_data(as_text=True)
        seen += ITEM_LINK.findall(text)
        assert ("&larr; Newest</a>" in text) == (len(seen) > 1)  # back to the first page
        found = re.search(r'href="([^"]+)" rel="next"', text)
        url = found.group(1).replace("&amp;", "&") if found else None
        if url:
            assert "model=claude" in url and "cursor=" in url
    assert seen == ["c-old", "c-copy", "c-plain"]  # each once, newest first, filter kept
    monkeypatch.setattr(items_page, "PAGE_SIZE", 50)
    assert 'rel="next"' not in client.get("/items").get_data(as_text=True)


def test_the_item_page_shows_every_section_and_no_raw_pii(
        app: Flask, api: Tenant, console_client: ConsoleClient) -> None:
    seed(app, api)
    client = app.test_client()
    post(client, api, "/v1/datasets", {"name": "help-eval", "purpose": "eval",
                                       "splits": {"train": 0.5, "validation": 0.25,
                                                  "test": 0.25}})
    post(client, api, "/v1/datasets/help-eval/versions", {"message": "first cut"})
    run_jobs(app)
    today = datetime.now(UTC).date().isoformat()
    post(client, api, f"/v1/samples/{today}/c-pii/verdict",
         {"verdict": "bad", "failure_modes": ["wrong_or_incomplete"], "note": "no refund date"})
    with app.extensions["winnow"].db.session() as session:
        item_id = session.scalar(select(Item.id).where(Item.external_id == "c-pii"))
        now = datetime.now(UTC)
        session.add(Annotation(project_id=api.project_id, item_id=item_id, kind="review",
                               ls_project_id=7, ls_task_id=70, ls_annotation_id=700,
                               annotator="ann@example.org", verdict="bad",
                               failure_modes=["hallucination"], created_at=now, updated_at=now))

    reviewer = console_client("items:read", "items:review", "datasets:read")
    resp = reviewer.get("/items/c-pii")
    assert resp.status_code == 200
    text = resp.get_data(as_text=True)
    # PII: placeholders only, each marked; the raw values are nowhere on the page.
    # (Not "555" alone: a random CSRF token or timestamp on the page may hold it by chance.)
    assert EMAIL not in text and "415 555" not in text and "555 0132" not in text
    assert '<mark class="pii" title="Redacted: EMAIL_ADDRESS_1">&lt;EMAIL_ADDRESS_1&gt;</mark>' \
        in text
    assert "&lt;PHONE_NUMBER_1&gt;</mark>" in text
    for heading in ("About", "Votes and feedback", "Conversation", "PII findings",
                    "Screening: prank scores and reasons", "Duplicates", "Reviews",
                    "Annotations", "Lineage: dataset versions", "Daily sample verdict"):
        assert f">{heading}</h2>" in text, heading
    assert "gpt-4o@2024-08-06" in text and "reply@7" in text and "Acme" in text.title()
    assert "EMAIL_ADDRESS" in text and "PHONE_NUMBER" in text  # the findings table
    assert "thumbs_down: 1" in text  # its feedback
    assert "ann@example.org" in text and "hallucination" in text  # the annotation
    assert 'href="/datasets/help-eval"' in text  # the version that holds it
    assert "no refund date" in text and "wrong or incomplete" in text  # the sample verdict
    assert 'href="/review?item=c-pii"' in text

    canonical = reviewer.get("/items/c-plain").get_data(as_text=True)
    assert 'href="/items/c-copy"' in canonical and "2 (this item and 1 copy" in canonical
    copy = reviewer.get("/items/c-copy").get_data(as_text=True)
    assert 'href="/items/c-plain"' in copy and "copy of" in copy
    rejected = reviewer.get("/items/c-old").get_data(as_text=True)
    assert "a test message, not a real one" in rejected and "reject</td>" in rejected

    reader = console_client("items:read")
    text = reader.get("/items/c-pii").get_data(as_text=True)
    assert "/review?item=" not in text  # no review link without items:review
    assert "needs the datasets:read scope" in text
    assert EMAIL not in reader.get("/items?reason=EMAIL").get_data(as_text=True)
    assert reader.get("/items/no-such-item").status_code == 404

    # Just posted (the job's thread may or may not have screened it yet): the sealed raw text
    # is never shown; either the page says it waits, or it shows the placeholder.
    post(client, api, "/v1/conversations", conversation("c-wait", "u-9", f"I am at {EMAIL}"))
    waiting = reader.get("/items/c-wait").get_data(as_text=True)
    assert EMAIL not in waiting
    assert "Not screened yet" in waiting or "&lt;EMAIL_ADDRESS_1&gt;</mark>" in waiting
    run_jobs(app)


def test_the_items_pages_need_items_read(app: Flask, api: Tenant,
                                         console_client: ConsoleClient) -> None:
    seed(app, api)
    client = console_client("events:read")
    assert client.get("/items").status_code == 403
    assert client.get("/items/c-pii").status_code == 403
    signed_out = app.test_client().get("/items/c-pii")
    assert signed_out.status_code == 302 and "/signin" in signed_out.headers["Location"]
