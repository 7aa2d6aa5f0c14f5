"""Erasure deletes exactly what belongs to the user, never other users' data (issue 12, item 1).

On SQLite and PostgreSQL (the `settings` fixture); Label Studio is not configured here, so no
tasks are involved (tests/integration/test_labelstudio.py erases tasks in a real one).
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import MakeTenant
from tests.helpers import conversation, generation, is_problem, run_jobs


def _events(client: FlaskClient, headers: dict[str, str], **params: str) -> dict[str, Any]:
    resp = client.get("/v1/events", query_string={"limit": "1000", **params}, headers=headers)
    assert resp.status_code == 200
    return {e["id"]: e for e in resp.get_json()["data"]}


def test_readme_walkthrough_erasure_keeps_other_users_rows(
    app: Flask, client: FlaskClient, make_tenant: MakeTenant
) -> None:
    """The README's steps, then erasing u-42: gen-1 (no user), u-7's rating and the anonymous
    tweak stay; u-42's thumbs and share go."""
    admin = make_tenant(scopes=("admin",))
    h = admin.headers
    assert client.post("/v1/generations", json=generation("gen-1", feature="reply-draft"),
                       headers=h).status_code == 201
    batch = {"events": [
        {"id": "evt-1", "type": "thumbs_up", "generation_id": "gen-1", "user_id": "u-42"},
        {"id": "evt-2", "type": "rating", "rating": 4, "generation_id": "gen-1",
         "user_id": "u-7"},
        {"id": "evt-3", "type": "tweak", "text": "Thanks, see you Monday.",
         "generation_id": "gen-1"},
    ]}
    assert client.post("/v1/events", json=batch, headers=h).status_code == 200
    share = conversation("share-1", "u-42", "I am Maria Gonzalez, mail me at maria@example.com",
                         "Done, Maria Gonzalez: sent to maria@example.com.",
                         generation_id="gen-1")
    assert client.post("/v1/conversations", json=share, headers=h).status_code == 201
    run_jobs(app)

    resp = client.delete("/v1/users/u-42", headers=h)
    assert resp.status_code == 202, resp.get_data(as_text=True)
    counts = resp.get_json()
    assert (counts["items"], counts["events"], counts["generations"]) == (1, 1, 0)
    run_jobs(app)

    assert set(_events(client, h)) == {"evt-2", "evt-3"}
    gen = client.get("/v1/generations/gen-1", headers=h)
    assert gen.status_code == 200
    assert gen.get_json()["feedback"]["events"] == 2
    is_problem(client.get("/v1/items/share-1", headers=h), 404)
    is_problem(client.get("/v1/events/evt-1", headers=h), 404)


def test_three_users_sharing_a_conversation_erasing_one_keeps_the_others(
    app: Flask, client: FlaskClient, make_tenant: MakeTenant
) -> None:
    admin = make_tenant(scopes=("admin",))
    h = admin.headers
    # alice's generation, shared by alice, bob and carol; feedback from all and anonymous.
    assert client.post("/v1/generations", json=generation("gen-s", user_id="alice"),
                       headers=h).status_code == 201
    # A generation of alice's that nothing of anybody else refers to: it goes with her.
    assert client.post("/v1/generations", json=generation("gen-own", user_id="alice"),
                       headers=h).status_code == 201
    texts = ("How do I export my invoices as CSV?",
             "Open Billing, choose Invoices, then Export and pick CSV.")
    for user in ("alice", "bob", "carol"):
        body = conversation(f"{user}-share", user, *texts, generation_id="gen-s")
        assert client.post("/v1/conversations", json=body, headers=h).status_code == 201
        run_jobs(app)
    events = [
        {"id": "a-up", "type": "thumbs_up", "generation_id": "gen-s", "user_id": "alice"},
        {"id": "a-own", "type": "thumbs_down", "generation_id": "gen-own", "user_id": "alice"},
        {"id": "b-tweak", "type": "tweak", "text": "Open Billing > Invoices > Export (CSV).",
         "generation_id": "gen-s", "user_id": "bob"},
        {"id": "c-accept", "type": "accept", "generation_id": "gen-s", "user_id": "carol"},
        {"id": "c-copy", "type": "copy", "generation_id": "gen-s", "user_id": "carol"},
        {"id": "anon-up", "type": "thumbs_up", "generation_id": "gen-s"},
    ]
    assert client.post("/v1/events", json={"events": events}, headers=h).status_code == 200
    run_jobs(app)
    before = client.get("/v1/items/bob-share", headers=h).get_json()
    assert before["duplicate_of"] == "alice-share"

    resp = client.delete("/v1/users/alice", headers=h)
    assert resp.status_code == 202, resp.get_data(as_text=True)
    out = resp.get_json()
    assert (out["items"], out["events"], out["generations"], out["generations_unlinked"],
            out["promoted"]) == (1, 2, 1, 1, 1)
    run_jobs(app)

    # Every other user's event and the anonymous one remain.
    assert set(_events(client, h)) == {"b-tweak", "c-accept", "c-copy", "anon-up"}
    # The shared generation remains, no longer naming alice; her own one is gone.
    gen = client.get("/v1/generations/gen-s", headers=h)
    assert gen.status_code == 200
    assert gen.get_json()["user_id"] is None
    assert gen.get_json()["feedback"]["events"] == 4
    is_problem(client.get("/v1/generations/gen-own", headers=h), 404)
    # Bob's copy is promoted, keeps its generation (which answers) and counts the feedback.
    bob = client.get("/v1/items/bob-share", headers=h).get_json()
    assert bob["state"] == "accepted" and bob["duplicate_of"] is None
    assert bob["generation_id"] == "gen-s"
    assert bob["votes"] == 2  # bob's and carol's copy
    assert bob["feedback"]["events"] == 4
    assert client.get("/v1/items/carol-share", headers=h).get_json()["duplicate_of"] == \
        "bob-share"
    is_problem(client.get("/v1/items/alice-share", headers=h), 404)
    # Nothing of alice's is left to find.
    assert _events(client, h, user_id="alice") == {}
    again = client.delete("/v1/users/alice", headers=h).get_json()
    assert (again["items"], again["events"], again["generations"]) == (0, 0, 0)
