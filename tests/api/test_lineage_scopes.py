"""Lineage shows only what the key's scopes allow, and only redacted text (issue 12, item 4)."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from app.models import Project
from app.services.keys import create_key
from tests.api.test_datasets import build, define
from tests.conftest import MakeTenant
from tests.helpers import conversation, generation, is_problem, run_jobs


def _key(app: Flask, project_id: int, *scopes: str) -> dict[str, str]:
    with app.extensions["winnow"].db.session() as session:
        project = session.get_one(Project, project_id)
        token = create_key(session, project, "lineage", scopes).token
    return {"Authorization": f"Bearer {token}"}


def test_lineage_needs_events_read_for_the_generation_and_events(
    app: Flask, client: FlaskClient, make_tenant: MakeTenant
) -> None:
    owner = make_tenant(scopes=("admin",))
    h = owner.headers
    assert client.post("/v1/generations", json=generation(
        "gen-1", metadata={"account": "owner: jane.roe@example.net"}), headers=h).status_code == 201
    body = conversation("c1", "u-1", "How do I reset my password?",
                        "Open Settings, then Security, then Reset password.",
                        generation_id="gen-1")
    assert client.post("/v1/conversations", json=body, headers=h).status_code == 201
    assert client.post("/v1/events", json={"events": [
        {"id": "up", "type": "thumbs_up", "generation_id": "gen-1", "user_id": "u-1"},
        {"id": "cm", "type": "comment", "generation_id": "gen-1", "user_id": "u-1",
         "text": "Great, thanks! (jane.roe@example.net)"},
    ]}, headers=h).status_code == 200
    run_jobs(app)
    define(client, owner, name="ev", splits={"train": 1.0, "validation": 0.0, "test": 0.0})
    build(app, client, owner, "ev", "one")
    path = "/v1/datasets/ev/versions/1/examples/c1"

    items_only = _key(app, owner.project_id, "items:read")
    # That key reads neither generations nor events directly...
    is_problem(client.get("/v1/generations/gen-1", headers=items_only), 403)
    is_problem(client.get("/v1/events", headers=items_only), 403)
    # ...nor through lineage.
    resp = client.get(path, headers=items_only)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    lineage = resp.get_json()["items"][0]
    assert lineage["generation"] is None and lineage["events"] == []
    assert lineage["withheld"] == ["generation", "events"]
    assert "gen-1" not in str(lineage["generation"]) and "account" not in resp.get_data(
        as_text=True)

    both = _key(app, owner.project_id, "items:read", "events:read")
    resp = client.get(path, headers=both)
    lineage = resp.get_json()["items"][0]
    assert lineage["withheld"] == []
    assert lineage["generation"]["metadata"] == {"account": "owner: <EMAIL_ADDRESS_1>"}
    texts = {e["id"]: e["text"] for e in lineage["events"]}
    assert texts == {"up": None, "cm": "Great, thanks! (<EMAIL_ADDRESS_1>)"}
    assert "jane.roe@example.net" not in resp.get_data(as_text=True)
