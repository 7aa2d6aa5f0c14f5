"""Free text and metadata are sealed at intake and served only redacted (issue 12, items 2, 3
and 6), on SQLite with the in-process queue and on PostgreSQL with RQ.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from cryptography.fernet import Fernet
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from app.models import Event, Generation, Item
from app.models.base import utcnow
from tests.conftest import MakeTenant
from tests.helpers import conversation, generation, run_jobs

EMAIL = "rosalind.whitcombe@example.org"
CARD = "4111 1111 1111 1111"
SSN = "536-90-4399"
PHONE = "(415) 555-0199"
RAW = (EMAIL, CARD, SSN, PHONE, "rosalind.whitcombe")


def _clean(text: str) -> None:
    for value in RAW:
        assert value not in text, value


def _post(client: FlaskClient, path: str, body: Any, h: dict[str, str]) -> None:
    resp = client.post(path, json=body, headers=h)
    assert resp.status_code in (200, 201), resp.get_data(as_text=True)
    _clean(resp.get_data(as_text=True))


def _rows(app: Flask) -> str:
    """Every column of every event, generation and item, as text."""
    with app.extensions["winnow"].db.session() as session:
        rows = [
            *session.execute(select(Event.__table__)).all(),
            *session.execute(select(Generation.__table__)).all(),
            *session.execute(select(Item.__table__)).all(),
        ]
        return repr(rows)


def test_free_text_and_metadata_are_sealed_then_served_redacted(
    app: Flask, client: FlaskClient, make_tenant: MakeTenant
) -> None:
    t = make_tenant(scopes=("admin",))
    h = t.headers
    _post(client, "/v1/generations", generation(
        "gen-1", metadata={"customer": f"Contact her at {EMAIL}", "ssn": f"SSN {SSN}",
                           "attempt": 3, "nested": {"tags": ["billing", f"card {CARD}"]}}), h)
    events = {"events": [
        {"id": "c1", "type": "comment", "generation_id": "gen-1", "user_id": "u-1",
         "text": f"Wrong! Call me on {PHONE} or write to {EMAIL}",
         "metadata": {"page": "billing", "contact": EMAIL}},
        {"id": "t1", "type": "tweak", "generation_id": "gen-1",
         "text": f"Your card {CARD} was charged."},
        {"id": "f1", "type": "flag", "generation_id": "gen-1", "reason": "other",
         "text": f"It printed my SSN {SSN}"},
        {"id": "up", "type": "thumbs_up", "generation_id": "gen-1"},
    ]}
    _post(client, "/v1/events", events, h)
    _post(client, "/v1/conversations", conversation(
        "share-1", "u-1", "How do I change my billing e-mail?",
        "Open Settings, then Billing.", generation_id="gen-1",
        metadata={"from": EMAIL, "plan": "pro"}), h)
    # Nothing raw is ever stored in a readable column: sealed until the worker has run.
    _clean(_rows(app).replace("sealed", ""))  # tokens are Fernet ciphertext, not the text
    if not app.config["WINNOW_SETTINGS"].embedded:  # RQ: nothing ran yet, so all pending
        pending = client.get("/v1/events/c1", headers=h).get_json()
        assert (pending["text"], pending["metadata"], pending["screening"]) == (
            None, None, "pending")
        gen = client.get("/v1/generations/gen-1", headers=h).get_json()
        assert (gen["metadata"], gen["screening"]) == (None, "pending")
        plain = client.get("/v1/events/up", headers=h).get_json()
        assert plain["screening"] is None  # nothing to screen: no job, no wait
    run_jobs(app)

    got = {e["id"]: e for e in client.get("/v1/events", headers=h).get_json()["data"]}
    comment = got["c1"]
    assert comment["screening"] == "redacted"
    assert "<PHONE_NUMBER_1>" in comment["text"] and "<EMAIL_ADDRESS_1>" in comment["text"]
    assert comment["metadata"] == {"page": "billing", "contact": "<EMAIL_ADDRESS_1>"}
    assert "<CREDIT_CARD_1>" in got["t1"]["text"]
    assert "<US_SSN_1>" in got["f1"]["text"]
    gen = client.get("/v1/generations/gen-1", headers=h).get_json()
    assert gen["screening"] == "redacted"
    assert gen["metadata"]["attempt"] == 3
    assert gen["metadata"]["customer"] == "Contact her at <EMAIL_ADDRESS_1>"
    assert gen["metadata"]["ssn"] == "SSN <US_SSN_1>"
    assert gen["metadata"]["nested"]["tags"] == ["billing", "card <CREDIT_CARD_1>"]
    item = client.get("/v1/items/share-1", headers=h).get_json()
    assert item["metadata"] == {"from": "<EMAIL_ADDRESS_1>", "plan": "pro"}
    for path in ("/v1/events", "/v1/generations/gen-1", "/v1/items/share-1", "/v1/items"):
        _clean(client.get(path, headers=h).get_data(as_text=True))
    _clean(_rows(app))
    with app.extensions["winnow"].db.session() as session:
        assert session.scalars(select(Event.sealed).where(Event.sealed.is_not(None))).all() == []


def test_a_tweak_shares_placeholders_with_its_conversation(
    app: Flask, client: FlaskClient, make_tenant: MakeTenant
) -> None:
    """A share and a tweak on the same generation, in one batch: the tweak is screened with
    the conversation, so the second person there is the second person in the tweak too."""
    t = make_tenant(scopes=("admin",))
    h = t.headers
    share = conversation("s", "u-1",
                         "I am Maria Gonzalez and my manager is Thomas Becker.",
                         "Noted, Maria Gonzalez: I will copy Thomas Becker.")
    batch = {"events": [
        {"id": "share", "type": "share", "generation_id": "gen-9", "user_id": "u-1",
         "conversation": {"consent": True, "messages": share["messages"]}},
        {"id": "tw", "type": "tweak", "generation_id": "gen-9", "user_id": "u-1",
         "text": "Noted: I will copy Thomas Becker."},
    ]}
    _post(client, "/v1/events", batch, h)
    run_jobs(app)
    item = client.get("/v1/items/share", headers=h).get_json()
    assert "<PERSON_2>" in item["messages"][1]["content"]
    tweak = client.get("/v1/events/tw", headers=h).get_json()
    assert tweak["text"] == "Noted: I will copy <PERSON_2>."


def test_policy_rejected_text_is_withheld_and_the_event_kept(
    app: Flask, client: FlaskClient, make_tenant: MakeTenant
) -> None:
    from app import runtime

    settings = app.config["WINNOW_SETTINGS"].model_copy(update={"pii_policy": "US_SSN=reject"})
    runtime.current().settings = settings
    t = make_tenant(scopes=("admin",))
    h = t.headers
    _post(client, "/v1/events", {"events": [
        {"id": "c", "type": "comment", "generation_id": "g", "text": f"my SSN is {SSN}",
         "metadata": {"ssn": SSN, "mail": EMAIL}},
    ]}, h)
    run_jobs(app)
    got = client.get("/v1/events/c", headers=h).get_json()
    assert got["screening"] == "withheld"
    assert got["text"] is None
    assert got["metadata"] == {"ssn": None, "mail": "<EMAIL_ADDRESS_1>"}
    assert got["type"] == "comment"  # the feedback itself is kept
    _clean(_rows(app))


def test_sealed_text_past_retention_is_purged_and_the_item_fails(
    app: Flask, client: FlaskClient, make_tenant: MakeTenant
) -> None:
    """A job that fails for good (here: sealed with a key no worker has) must not keep raw
    text forever: the reconciler purges it after WINNOW_SEALED_RETENTION_HOURS."""
    t = make_tenant(scopes=("admin",))
    h = t.headers
    _post(client, "/v1/conversations", conversation("old", "u-1", f"Mail {EMAIL}", "Sure."), h)
    _post(client, "/v1/events", {"events": [
        {"id": "e", "type": "comment", "generation_id": "g", "text": f"Mail {EMAIL}"}]}, h)
    _post(client, "/v1/generations", generation("g", metadata={"m": EMAIL}), h)
    run_jobs(app)
    # Put them back as the worker would find them after failing: sealed with a key it lacks,
    # and old. (The failure itself is caused for real in test_curation_failure.)
    foreign = Fernet(Fernet.generate_key()).encrypt(b'{"text": "x"}').decode()
    long_ago = utcnow() - timedelta(days=8)
    recent = utcnow() - timedelta(days=6)
    with app.extensions["winnow"].db.session() as session:
        session.execute(update(Item).values(state="received", raw_sealed=foreign,
                                            received_at=long_ago))
        session.execute(update(Event).values(screening="pending", sealed=foreign, text=None,
                                             received_at=long_ago))
        session.execute(update(Generation).values(screening="pending", sealed=foreign,
                                                  meta=None, received_at=recent))
    from workers.curation.reconcile import reconcile

    reconcile()
    item = client.get("/v1/items/old", headers=h).get_json()
    assert item["state"] == "failed"
    assert "retention limit (7 days)" in item["reasons"][0]
    event = client.get("/v1/events/e", headers=h).get_json()
    assert (event["screening"], event["text"]) == ("failed", None)
    gen = client.get("/v1/generations/g", headers=h).get_json()
    assert gen["screening"] == "pending"  # six days old: still within the limit
    with app.extensions["winnow"].db.session() as session:
        assert session.scalar(select(Item.raw_sealed)) is None
        assert session.scalar(select(Event.sealed)) is None
        assert session.scalar(select(Generation.sealed)) == foreign



@pytest.mark.parametrize("settings", ["postgresql"], indirect=True)  # RQ: jobs wait their turn
def test_one_screening_job_waits_per_project_and_none_is_missed(
    app: Flask, client: FlaskClient, make_tenant: MakeTenant
) -> None:
    """Intake asks for a screening job only when none is waiting (a single event per request
    would otherwise enqueue one each); a row arriving after a job started gets a new one."""
    queue = app.extensions["winnow"].queue
    h = make_tenant(scopes=("admin",)).headers

    def waiting() -> int:
        return sum(1 for job in queue.queue.get_jobs() if job.func_name.endswith(
            "screen_pending"))

    for i in range(5):
        _post(client, "/v1/events", {"id": f"c{i}", "type": "comment", "generation_id": "g",
                                     "text": f"Write to {EMAIL}"}, h)
    assert waiting() == 1
    run_jobs(app)
    assert waiting() == 0
    _post(client, "/v1/events", {"id": "late", "type": "comment", "generation_id": "g",
                                 "text": f"Write to {EMAIL}"}, h)
    assert waiting() == 1  # the first job gave its claim back as it started
    run_jobs(app)
    got = client.get("/v1/events", headers=h).get_json()["data"]
    assert len(got) == 6 and {e["screening"] for e in got} == {"redacted"}


def test_the_in_process_queue_claims_a_key_once_until_released() -> None:
    from workers.queue import InProcessJobQueue

    queue = InProcessJobQueue()
    assert queue.claim("screen:1", 60) and not queue.claim("screen:1", 60)
    assert queue.claim("screen:2", 60)
    queue.release("screen:1")
    assert queue.claim("screen:1", 60)
