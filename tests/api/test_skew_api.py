"""GET /v1/analytics/skew: a dataset split against recent production, over HTTP, on SQLite and
PostgreSQL, with the dataset version built by the real job."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.cli import make_app
from app.config import Settings
from app.models import Item
from tests.api.test_datasets import build, define
from tests.conftest import MakeTenant
from tests.helpers import Tenant, is_problem
from tests.unit.test_skew import coding, support

SCOPES = ("events:read", "items:read", "datasets:read", "datasets:write")
NOW = datetime.now(UTC)


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    application = make_app(settings.model_copy(update={"dedupe_threshold": 1.0}))
    yield application
    application.extensions["winnow"].db.dispose()


@pytest.fixture
def owner(make_tenant: MakeTenant) -> Tenant:
    return make_tenant(scopes=SCOPES)


def store_items(app: Flask, t: Tenant, prefix: str, turns: list[list[dict[str, Any]]],
                when: datetime) -> None:
    """Accepted, redacted items as curation leaves them."""
    with app.extensions["winnow"].db.session() as session:
        for i, conversation in enumerate(turns):
            session.add(Item(
                project_id=t.project_id, external_id=f"{prefix}-{i}", source="api",
                conversation_ref=f"{prefix}-{i}", user_id=f"u{i}", state="accepted",
                turns=len(conversation), occurred_at=when, received_at=when, screened_at=when,
                redacted=conversation, findings=[], signals=[], reasons=[], body_hash="h"))


def eval_set(app: Flask, client: FlaskClient, t: Tenant) -> None:
    rng = random.Random(1)
    store_items(app, t, "ref", [support(rng) for _ in range(200)], NOW - timedelta(days=60))
    define(client, t, name="support-eval", splits={"train": 0.0, "validation": 0.0, "test": 1.0})
    build(app, client, t, "support-eval", "v1")


def skew(client: FlaskClient, t: Tenant, query: str = "") -> dict[str, Any]:
    resp = client.get(f"/v1/analytics/skew?dataset=support-eval@1&split=test&since=30d{query}",
                      headers=t.headers)
    assert resp.status_code == 200, resp.get_data(as_text=True)[:500]
    body: dict[str, Any] = resp.get_json()
    return body


def test_unchanged_production_is_ok(app: Flask, client: FlaskClient, owner: Tenant) -> None:
    eval_set(app, client, owner)
    rng = random.Random(2)
    store_items(app, owner, "prod", [support(rng) for _ in range(200)], NOW)
    body = skew(client, owner)
    assert (body["reference_count"], body["production_count"]) == (200, 200)
    assert {f["name"]: f["status"] for f in body["features"] if f["status"] != "ok"} == {}
    assert body["status"] == "ok"


def test_production_turned_to_code_drifts_in_content_and_code_share(
    app: Flask, client: FlaskClient, owner: Tenant
) -> None:
    eval_set(app, client, owner)
    rng = random.Random(3)
    store_items(app, owner, "prod", [coding(rng) if i % 10 < 7 else support(rng)
                                     for i in range(200)], NOW)
    body = skew(client, owner)
    status = {f["name"]: f for f in body["features"]}
    assert status["content"]["status"] == "drift" and status["content"]["value"] >= 0.5
    assert status["code_share"]["status"] == "drift"
    assert body["status"] == "drift"
    uncovered = [c for c in body["clusters"] if c["under_covered"]]
    assert uncovered and all(c["reference_share"] < c["production_share"] / 4
                             for c in uncovered)
    examples = [e for c in uncovered for e in c["examples"]]
    assert examples and all(int(e.split("-")[1]) % 10 < 7 for e in examples)  # code ones


def test_skew_problems(app: Flask, client: FlaskClient, owner: Tenant,
                       make_tenant: MakeTenant) -> None:
    eval_set(app, client, owner)
    body = is_problem(client.get("/v1/analytics/skew?dataset=support-eval@1&since=30d",
                                 headers=owner.headers), 422)
    assert "production" in body["detail"] and "20" in body["detail"]  # nothing in the window
    is_problem(client.get("/v1/analytics/skew?dataset=nope@1", headers=owner.headers), 404)
    is_problem(client.get("/v1/analytics/skew?dataset=support-eval@9", headers=owner.headers),
               404)
    for query in ("", "dataset=Bad%20Name", "dataset=support-eval&split=holdout",
                  "dataset=support-eval&since=2026-13-01",
                  "dataset=support-eval&since=2026-02-01&until=2026-01-01"):
        is_problem(client.get(f"/v1/analytics/skew?{query}", headers=owner.headers), 400)
    writer = make_tenant(owner.slug, scopes=("events:read",))
    is_problem(client.get("/v1/analytics/skew?dataset=support-eval", headers=writer.headers),
               403)


def test_a_kept_report_is_recomputed_when_production_changes(
    app: Flask, client: FlaskClient, owner: Tenant
) -> None:
    eval_set(app, client, owner)
    rng = random.Random(4)
    store_items(app, owner, "prod", [support(rng) for _ in range(200)], NOW)
    first = skew(client, owner)
    assert skew(client, owner) == first  # kept: the same report
    store_items(app, owner, "late", [coding(rng) for _ in range(150)], NOW)
    again = skew(client, owner)
    assert again["production_count"] == 350
    assert {f["name"]: f["status"] for f in again["features"]}["code_share"] != "ok"
