"""Through a real dataset build: annotators' verdicts outrank users' explicit feedback, which
outranks implicit feedback, and items annotators disagree on stay out of fine-tune data.

Annotations are stored as the Label Studio sync stores them (its own tests cover the sync)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.cli import make_app
from app.config import Settings
from app.models import Annotation, Item
from tests.api.test_datasets import (
    SCOPES,
    add_conversations,
    build,
    define,
    manifest,
    records,
)
from tests.conftest import MakeTenant
from tests.helpers import Tenant, event, run_jobs

TRAIN_ONLY = {"train": 1.0, "validation": 0.0, "test": 0.0}


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    application = make_app(settings.model_copy(update={"dedupe_threshold": 1.0}))
    yield application
    application.extensions["winnow"].db.dispose()


@pytest.fixture
def owner(make_tenant: MakeTenant) -> Tenant:
    return make_tenant(scopes=SCOPES)


def annotate(app: Flask, t: Tenant, item_id: str, *votes: tuple[str | None, list[str]]) -> None:
    now = datetime.now(UTC)
    with app.extensions["winnow"].db.session() as session:
        item = session.scalar(select(Item.id).where(Item.external_id == item_id))
        start = session.scalar(select(Annotation.id).order_by(Annotation.id.desc())) or 0
        for n, (verdict, modes) in enumerate(votes, start + 1):
            session.add(Annotation(
                project_id=t.project_id, item_id=item, kind="review", ls_project_id=1,
                ls_task_id=n, ls_annotation_id=n, annotator=f"a{n}", verdict=verdict,
                failure_modes=modes, created_at=now, updated_at=now))


def react(client: FlaskClient, t: Tenant, n: int, *types: str) -> None:
    for k, kind in enumerate(types):
        resp = client.post("/v1/events", json=event(f"x-{n}-{k}", kind, f"gen-{n}"),
                           headers=t.headers)
        assert resp.status_code == 201, resp.get_data(as_text=True)


def test_annotation_outranks_feedback_in_a_fine_tune_build(
    app: Flask, client: FlaskClient, owner: Tenant
) -> None:
    add_conversations(client, owner, range(0, 5), signal="copy")  # implicit: positive
    react(client, owner, 0, "thumbs_up")  # users liked it; annotators disagree
    react(client, owner, 1, "thumbs_up")  # users liked it; annotators say bad
    react(client, owner, 2, "thumbs_down", "copy", "copy")  # explicit bad, implicit good
    # c-3: implicit feedback only (a copy): positive.
    react(client, owner, 4, "thumbs_down")  # users disliked it; annotators say good
    run_jobs(app)
    annotate(app, owner, "c-0", ("good", []), (None, ["hallucination"]))
    annotate(app, owner, "c-1", ("bad", ["hallucination"]), ("bad", []))
    annotate(app, owner, "c-4", ("good", []))

    define(client, owner, name="tune", purpose="finetune", splits=TRAIN_ONLY,
           selection={"signals": ["positive", "strong_positive"]})
    build(app, client, owner, "tune", "liked answers")
    m = manifest(client, owner, "tune", 1)
    assert {e[0] for e in m["items"]["train"]} == {"c-3", "c-4"}
    assert {r["id"] for r in records(client, owner, "tune", 1, "train", "eval")} == {"c-3", "c-4"}
    tuned = records(client, owner, "tune", 1, "train", "finetune")
    assert sorted(r["messages"][0]["content"].split(":")[0] for r in tuned) == [
        "Ticket 1003", "Ticket 1004"]

    # Everything, unfiltered: the disputed item is listed, with no eval or fine-tune line.
    define(client, owner, name="all", purpose="eval", splits=TRAIN_ONLY)
    build(app, client, owner, "all", "everything")
    entries = {e[0]: e for e in manifest(client, owner, "all", 1)["items"]["train"]}
    assert set(entries) == {"c-0", "c-1", "c-2", "c-3", "c-4"}
    disputed = entries["c-0"]
    assert (disputed[2], disputed[3], disputed[4]) == ("", None, "positive")
    assert entries["c-1"][2] == "" and entries["c-1"][3] == "bad"
    assert entries["c-2"][2] == "" and entries["c-2"][4] == "negative"
    assert entries["c-3"][2] == entries["c-4"][2] == "ef"
