"""Right of access: GET /v1/users/{id} and `winnow users show` return what Winnow holds about a
user (the same scope an erasure deletes), redacted, and nothing about anyone else."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.cli import main
from app.models import Annotation, Item
from tests.conftest import MakeTenant
from tests.helpers import Tenant, conversation, event, generation, is_problem, run_jobs
from tests.integration.test_cli import clean_env

SCOPES = ("events:write", "events:read", "items:read", "items:review", "datasets:read",
          "datasets:write", "admin")
EMAIL = "maria.gonzalez@example.com"
NAME = "Maria Gonzalez"
CORRECTION = "Write to maria.gonzalez@example.com instead."


@pytest.fixture
def admin(make_tenant: MakeTenant) -> Tenant:
    return make_tenant(scopes=SCOPES)


def post(client: FlaskClient, t: Tenant, path: str, body: object) -> None:
    resp = client.post(path, json=body, headers=t.headers)
    assert resp.status_code in (200, 201, 202), resp.get_data(as_text=True)


def seed(app: Flask, client: FlaskClient, t: Tenant) -> None:
    post(client, t, "/v1/generations", generation("gen-42", user_id="u-42", feature="help"))
    post(client, t, "/v1/generations", generation("gen-7", user_id="u-7"))
    post(client, t, "/v1/events", event("a", "thumbs_up", "gen-42", user_id="u-42"))
    post(client, t, "/v1/events", event("b", "comment", "gen-42", user_id="u-42",
                                        text=f"I am {NAME}, mail {EMAIL}"))
    post(client, t, "/v1/events", event("c", "thumbs_down", "gen-7", user_id="u-7"))
    # Another user's reaction to u-42's generation is u-7's, not u-42's.
    post(client, t, "/v1/events", event("d", "thumbs_down", "gen-42", user_id="u-7"))
    post(client, t, "/v1/conversations", conversation(
        "c-42", "u-42", f"Hi, I'm {NAME}. Email me at {EMAIL} about order 5521.",
        f"Sure {NAME}, I will write to {EMAIL} shortly.", generation_id="gen-42"))
    post(client, t, "/v1/conversations", conversation(
        "c-7", "u-7", "How do I export my invoices?", "Billing, then Export.",
        generation_id="gen-7"))
    run_jobs(app)
    now = datetime.now(UTC)
    with app.extensions["winnow"].db.session() as session:
        item = session.scalar(select(Item.id).where(Item.external_id == "c-42"))
        session.add(Annotation(
            project_id=t.project_id, item_id=item, kind="review", ls_project_id=1, ls_task_id=1,
            ls_annotation_id=1, annotator="alice@annotators.example", verdict="good",
            failure_modes=[], correction=CORRECTION, created_at=now, updated_at=now))
    post(client, t, "/v1/items/c-42/confirm", {"note": "checked by hand"})


def test_a_user_sees_everything_held_about_them_redacted(
    app: Flask, client: FlaskClient, admin: Tenant
) -> None:
    seed(app, client, admin)
    post(client, admin, "/v1/datasets", {"name": "all", "purpose": "eval",
                                         "splits": {"train": 1.0, "validation": 0.0,
                                                    "test": 0.0}})
    post(client, admin, "/v1/datasets/all/versions", {"message": "first"})
    run_jobs(app)

    resp = client.get("/v1/users/u-42", headers=admin.headers)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    raw = resp.get_data(as_text=True)
    for secret in (EMAIL, NAME, CORRECTION, "alice@annotators.example", "checked by hand"):
        assert secret not in raw, secret
    got = resp.get_json()
    assert got["user_id"] == "u-42" and got["complete"] is True
    assert {e["id"] for e in got["events"]} == {"evt-a", "evt-b"}
    [comment] = [e for e in got["events"] if e["id"] == "evt-b"]
    assert comment["text"] is None or "<EMAIL_ADDRESS" in comment["text"]
    [item] = got["items"]
    assert item["id"] == "c-42" and "<EMAIL_ADDRESS_1>" in item["messages"][0]["content"]
    assert set(item["findings"]) >= {"EMAIL_ADDRESS", "PERSON"}
    assert [g["id"] for g in got["generations"]] == ["gen-42"]
    [annotation] = got["annotations"]
    assert annotation == annotation | {"item_id": "c-42", "verdict": "good", "corrected": True}
    assert "annotator" not in annotation and "correction" not in annotation
    [decision] = got["decisions"]
    assert (decision["item_id"], decision["action"]) == ("c-42", "confirm")
    assert got["datasets"] == [{"dataset": "all", "version": 1, "split": "train",
                                "item_id": "c-42", "files": ["eval", "finetune"]}]
    assert got["counts"] == {"items": 1, "events": 2, "generations": 1, "annotations": 1,
                             "decisions": 1, "dataset_examples": 1}


def test_access_needs_admin_and_a_valid_id_and_an_unknown_user_is_empty(
    app: Flask, client: FlaskClient, admin: Tenant, make_tenant: MakeTenant
) -> None:
    reader = make_tenant(scopes=("events:read", "items:read", "datasets:read"))
    assert client.get("/v1/users/u-42", headers=reader.headers).status_code == 403
    is_problem(client.get("/v1/users/-bad", headers=admin.headers), 400)
    empty = client.get("/v1/users/nobody", headers=admin.headers).get_json()
    assert empty["counts"] == dict.fromkeys(
        ("items", "events", "generations", "annotations", "decisions", "dataset_examples"), 0)
    assert empty["events"] == empty["items"] == empty["datasets"] == []


def test_after_an_erasure_nothing_is_left_to_show(
    app: Flask, client: FlaskClient, admin: Tenant
) -> None:
    seed(app, client, admin)
    before = client.get("/v1/users/u-42", headers=admin.headers).get_json()["counts"]
    resp = client.delete("/v1/users/u-42", headers=admin.headers)
    assert resp.status_code == 202, resp.get_data(as_text=True)
    erased = resp.get_json()
    assert erased["items"] == before["items"] == 1
    after = client.get("/v1/users/u-42", headers=admin.headers).get_json()
    assert set(after["counts"].values()) == {0}
    other = client.get("/v1/users/u-7", headers=admin.headers).get_json()
    assert other["counts"]["items"] == 1 and other["counts"]["events"] >= 1


def test_cli_users_show(tmp_path: Path) -> None:
    runner = CliRunner(env=clean_env(tmp_path))
    assert runner.invoke(main, ["db", "upgrade"]).exit_code == 0
    assert runner.invoke(main, ["projects", "create", "shop"]).exit_code == 0
    logs = tmp_path / "logs.jsonl"
    logs.write_text(json.dumps(conversation("c-1", "u-42", f"Mail {EMAIL} the invoice.",
                                            "Sent.")))
    assert runner.invoke(main, ["import", "conversations", str(logs), "--project", "shop"]
                         ).exit_code == 0
    shown = runner.invoke(main, ["users", "show", "u-42", "--project", "shop"])
    assert shown.exit_code == 0, shown.output
    assert EMAIL not in shown.stdout
    got = json.loads(shown.stdout)
    assert [i["id"] for i in got["items"]] == ["c-1"]
    assert "<EMAIL_ADDRESS_1>" in got["items"][0]["messages"][0]["content"]
    bad = runner.invoke(main, ["users", "show", "-x", "--project", "shop"])
    assert bad.exit_code != 0
    bad = runner.invoke(main, ["users", "show", "_x", "--project", "shop"])
    assert bad.exit_code == 1 and "user id" in bad.stderr and bad.stderr.count("\n") == 1
    missing = runner.invoke(main, ["users", "show", "u-42", "--project", "nope"])
    assert missing.exit_code == 1 and "no project" in missing.stderr
