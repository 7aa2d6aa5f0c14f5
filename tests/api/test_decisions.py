"""People overturn or confirm any curation decision; every decision is kept as a label."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import inspect, select, update

from app.cli import main, make_app
from app.config import Settings
from app.db import make_engine
from app.migrate import alembic_config, upgrade
from app.models import Item, Review
from tests.conftest import MakeTenant
from tests.helpers import Tenant, conversation, event, is_problem, run_jobs
from tests.integration.test_cli import clean_env
from workers.evaluation.reviews import outcomes, precision

REVIEWER = ("events:write", "events:read", "items:read", "items:review")
SSN = "536-22-8726"


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    """The suite's app, with SSNs rejected, so rejected_pii comes from real screening."""
    application = make_app(settings.model_copy(update={"pii_policy": "US_SSN=reject"}))
    yield application
    application.extensions["winnow"].db.dispose()


@pytest.fixture
def reviewer(make_tenant: MakeTenant) -> Tenant:
    return make_tenant(scopes=REVIEWER)


def share(client: FlaskClient, t: Tenant, cid: str, *texts: str, **fields: Any) -> None:
    resp = client.post("/v1/conversations", json=conversation(cid, f"user-{cid}", *texts,
                                                              **fields), headers=t.headers)
    assert resp.status_code == 201, resp.get_data(as_text=True)


def item(client: FlaskClient, t: Tenant, item_id: str) -> dict[str, Any]:
    resp = client.get(f"/v1/items/{item_id}", headers=t.headers)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    body: dict[str, Any] = resp.get_json()
    return body


def decide(client: FlaskClient, t: Tenant, item_id: str, action: str,
           note: str | None = None) -> Any:
    body = {"note": note} if note else None
    return client.post(f"/v1/items/{item_id}/{action}", json=body, headers=t.headers)


def stored(app: Flask, item_id: str) -> Item:
    with app.extensions["winnow"].db.session() as session:
        row: Item | None = session.scalar(select(Item).where(Item.external_id == item_id))
        assert row is not None
        session.expunge(row)
        return row


def test_a_rejected_pii_item_is_released_with_its_redacted_text_only(
    app: Flask, client: FlaskClient, reviewer: Tenant
) -> None:
    share(client, reviewer, "pii-1", f"My SSN is {SSN}, is my refund filed?",
          "Yes, the refund for that number was filed.")
    run_jobs(app)
    assert item(client, reviewer, "pii-1")["state"] == "rejected_pii"

    resp = decide(client, reviewer, "pii-1", "release", "the number is a test value")
    assert resp.status_code == 200, resp.get_data(as_text=True)
    got = resp.get_json()
    assert got["state"] == "accepted"
    assert SSN not in json.dumps(got) and "<US_SSN_1>" in got["messages"][0]["content"]
    assert stored(app, "pii-1").raw_sealed is None
    [review] = got["reviews"]
    assert review["action"] == "release" and review["note"] == "the number is a test value"
    assert (review["from_state"], review["to_state"]) == ("rejected_pii", "accepted")
    assert review["by"].startswith("key:") and review["at"]
    assert got["reviewed_by"] == review["by"]
    # And the same history on a later read.
    assert item(client, reviewer, "pii-1")["reviews"] == got["reviews"]


def test_pranks_and_accepted_items_can_be_overturned_either_way(
    app: Flask, client: FlaskClient, reviewer: Tenant
) -> None:
    share(client, reviewer, "ok-1", "Which form do I file for US income tax?", "Form 1040.")
    share(client, reviewer, "prank-1", "asdf", "I'm not sure what you mean.")
    run_jobs(app)
    assert item(client, reviewer, "ok-1")["state"] == "accepted"
    prank = item(client, reviewer, "prank-1")["state"]
    assert prank in ("rejected_prank", "quarantined")

    assert decide(client, reviewer, "prank-1", "release").get_json()["state"] == "accepted"
    rejected = decide(client, reviewer, "ok-1", "reject", "spam after all").get_json()
    assert rejected["state"] == "rejected_prank"
    assert rejected["reasons"][-1].endswith(": spam after all")
    again = decide(client, reviewer, "ok-1", "release", "no, fine").get_json()
    assert again["state"] == "accepted"
    assert [(r["action"], r["from_state"], r["to_state"]) for r in again["reviews"]] == [
        ("reject", "accepted", "rejected_prank"),
        ("release", "rejected_prank", "accepted"),
    ]


def test_decisions_the_state_does_not_allow_are_refused_and_change_nothing(
    app: Flask, client: FlaskClient, reviewer: Tenant, make_tenant: MakeTenant
) -> None:
    share(client, reviewer, "ok-1", "Which form do I file for US income tax?", "Form 1040.")
    run_jobs(app)
    before = item(client, reviewer, "ok-1")
    for action in ("release", "split"):
        body = is_problem(decide(client, reviewer, "ok-1", action), 409)
        assert "accepted" in body["detail"]
    with app.extensions["winnow"].db.session() as session:
        session.execute(update(Item).where(Item.external_id == "ok-1")
                        .values(state="quarantined"))
    is_problem(decide(client, reviewer, "ok-1", "confirm"), 409)  # quarantine: decide it
    is_problem(decide(client, reviewer, "nope", "release"), 404)
    is_problem(client.post("/v1/items/ok-1/split", json={"note": 5}, headers=reviewer.headers),
               422)
    product = make_tenant("acme", scopes=("events:write", "items:read"))
    assert decide(client, product, "ok-1", "release").status_code == 403
    assert item(client, reviewer, "ok-1")["reviews"] == before["reviews"] == []
    with app.extensions["winnow"].db.session() as session:
        assert session.scalars(select(Review)).all() == []


def test_a_rejection_while_its_task_is_created_stands(
    app: Flask, client: FlaskClient, reviewer: Tenant
) -> None:
    """The push claims an item (annotation_pending), a person rejects it, then the push records
    the task Label Studio created: the task is kept, the rejection is not undone."""
    from workers.labelstudio.claims import REVIEW, record

    share(client, reviewer, "ok-1", "Which form do I file for US income tax?", "Form 1040.")
    share(client, reviewer, "ok-2", "How do I file for an extension?", "Use Form 4868.")
    run_jobs(app)
    with app.extensions["winnow"].db.session() as session:
        session.execute(update(Item).where(Item.external_id.in_(["ok-1", "ok-2"]))
                        .values(state="annotation_pending"))
    assert decide(client, reviewer, "ok-1", "reject").get_json()["state"] == "rejected_prank"
    record(REVIEW, {stored(app, "ok-1").id: 901, stored(app, "ok-2").id: 902})
    rejected, pushed = stored(app, "ok-1"), stored(app, "ok-2")
    assert (rejected.state, rejected.ls_task_id) == ("rejected_prank", 901)
    assert (pushed.state, pushed.ls_task_id) == ("in_annotation", 902)
    # Released again, it goes back to its task rather than through a second push.
    assert decide(client, reviewer, "ok-1", "release").get_json()["state"] == "in_annotation"


HAMLET = (
    "Can you summarise the plot of Hamlet in three sentences?",
    "Prince Hamlet seeks revenge on his uncle Claudius, who murdered his father and married "
    "his mother. His hesitation and feigned madness lead to a series of deaths. In the end "
    "Hamlet avenges his father but dies himself.",
)


def test_splitting_a_duplicate_out_moves_its_vote_and_feedback_back(
    app: Flask, client: FlaskClient, reviewer: Tenant
) -> None:
    for n, reaction in enumerate(("thumbs_up", "thumbs_down", "thumbs_up")):
        share(client, reviewer, f"h-{n}", *HAMLET, generation_id=f"g-{n}")
        fb = event(f"fb-{n}", type=reaction, generation=f"g-{n}")
        assert client.post("/v1/events", json=fb, headers=reviewer.headers).status_code == 201
    run_jobs(app)
    canonical = item(client, reviewer, "h-0")
    assert canonical["votes"] == 3 and canonical["feedback"]["events"] == 3
    assert item(client, reviewer, "h-1")["duplicate_of"] == "h-0"

    resp = decide(client, reviewer, "h-1", "split", "different user intent")
    assert resp.status_code == 200, resp.get_data(as_text=True)
    split = resp.get_json()
    assert split["state"] == "accepted" and split["duplicate_of"] is None
    assert split["votes"] == 1 and split["feedback"]["by_type"] == {"thumbs_down": 1}
    assert split["reviews"][0]["duplicate_of"] == "h-0"
    assert split["reviews"][0]["from_state"] == "duplicate"
    canonical = item(client, reviewer, "h-0")
    assert canonical["votes"] == 2
    assert canonical["feedback"]["by_type"] == {"thumbs_up": 2}
    assert {d["id"] for d in canonical["duplicates"]} == {"h-2"}
    row = stored(app, "h-1")
    assert (row.duplicate_of_id, row.duplicate_kind, row.similarity) == (None, None, None)
    is_problem(decide(client, reviewer, "h-1", "split"), 409)  # once


def test_human_decisions_measure_each_stage(
    app: Flask, client: FlaskClient, reviewer: Tenant
) -> None:
    share(client, reviewer, "pii-1", f"My SSN is {SSN}.", "Noted.")
    share(client, reviewer, "pii-2", f"SSN {SSN} again, please file it.", "Filed.")
    share(client, reviewer, "h-0", *HAMLET)
    share(client, reviewer, "h-1", *HAMLET)
    share(client, reviewer, "ok-1", "Which form do I file for US income tax?", "Form 1040.")
    run_jobs(app)
    assert decide(client, reviewer, "pii-1", "confirm").get_json()["state"] == "rejected_pii"
    decide(client, reviewer, "pii-2", "release")
    decide(client, reviewer, "h-1", "confirm")
    decide(client, reviewer, "ok-1", "reject")
    with app.extensions["winnow"].db.session() as session:
        stats = precision(outcomes(session, reviewer.project_id))
    assert stats["pii"] | {"by_outcome": None} == {
        "reviewed": 2, "stood": 1, "overturned": 1, "precision": 0.5, "by_outcome": None}
    assert stats["pii"]["by_outcome"] == {"rejected_pii->rejected_pii": 1,
                                          "rejected_pii->accepted": 1}
    assert (stats["dedupe"]["precision"], stats["dedupe"]["reviewed"]) == (1.0, 1)
    assert (stats["accepted"]["precision"], stats["accepted"]["overturned"]) == (0.0, 1)
    assert stats["pranks"]["precision"] is None  # nothing reviewed: no figure, not 0


def test_precision_follows_the_final_decision_from_the_machine_state() -> None:
    """Pure: first from_state is the machine's, last to_state the human's final say."""
    stats = precision([("quarantined", "rejected_prank"), ("rejected_prank", "accepted"),
                       ("duplicate", "accepted"), ("in_annotation", "in_annotation")])
    assert (stats["pranks"]["stood"], stats["pranks"]["overturned"]) == (1, 1)
    assert stats["dedupe"]["precision"] == 0.0
    assert stats["accepted"]["precision"] == 1.0


def test_cli_decides_shows_history_and_reports(tmp_path: Path) -> None:
    runner = CliRunner(env=clean_env(tmp_path))
    assert runner.invoke(main, ["db", "upgrade"]).exit_code == 0
    assert runner.invoke(main, ["projects", "create", "shop"]).exit_code == 0
    logs = tmp_path / "logs.jsonl"
    logs.write_text("\n".join(
        json.dumps(conversation(cid, f"u-{cid}", *HAMLET)) for cid in ("h-0", "h-1")))
    assert runner.invoke(main, ["import", "conversations", str(logs), "--project", "shop"]
                         ).exit_code == 0
    done = runner.invoke(main, ["items", "split", "h-1", "--project", "shop", "--note", "why"])
    assert done.exit_code == 0, done.output
    assert done.stdout.strip() == "h-1\taccepted"
    again = runner.invoke(main, ["items", "split", "h-1", "--project", "shop"])
    assert again.exit_code == 1 and again.stderr.count("\n") == 1
    assert "split applies to items in duplicate" in again.stderr
    shown = json.loads(runner.invoke(main, ["items", "show", "h-1", "--project", "shop"]).stdout)
    [review] = shown["reviews"]
    assert review["action"] == "split" and review["by"].startswith("cli:")
    assert review["note"] == "why" and review["duplicate_of"] == "h-0"
    assert runner.invoke(main, ["items", "confirm", "h-0", "--project", "shop"]).exit_code == 0

    report = runner.invoke(main, ["eval", "curation", "--reviews", "--project", "shop",
                                  "--json"])
    assert report.exit_code == 0, report.output
    stats = json.loads(report.stdout)
    assert stats["dedupe"]["overturned"] == 1 and stats["accepted"]["stood"] == 1
    text = runner.invoke(main, ["eval", "curation", "--reviews", "--project", "shop"])
    assert "dedupe" in text.stdout and "precision=0.000" in text.stdout
    missing = runner.invoke(main, ["eval", "curation", "--reviews"])
    assert missing.exit_code == 1 and "--project" in missing.stderr


def test_reviews_migration_downgrades_and_upgrades(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    upgrade(engine)
    assert "reviews" in inspect(engine).get_table_names()
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0004")
    assert "reviews" not in inspect(engine).get_table_names()
    upgrade(engine)
    assert "reviews" in inspect(engine).get_table_names()
