"""Capturing feedback events: idempotency, batches, late generations, listing."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.helpers import Tenant, event, generation, is_problem, run_jobs


def post(client: FlaskClient, tenant: Tenant, body: object) -> object:
    return client.post("/v1/events", json=body, headers=tenant.headers)


def all_events(client: FlaskClient, tenant: Tenant, **params: str) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    query = dict(params, limit="2")
    while True:
        page = client.get("/v1/events", query_string=query, headers=tenant.headers).get_json()
        out += page["data"]
        if not page["next_cursor"]:
            return out
        query["cursor"] = page["next_cursor"]


def test_single_event_created_then_replayed_then_conflicting(
    client: FlaskClient, tenant: Tenant
) -> None:
    body = event(1, "rating", rating=4, user_id="u-1", metadata={"a": 1, "b": {"x": 1, "y": 2}})
    first = client.post("/v1/events", json=body, headers=tenant.headers)
    assert first.status_code == 201
    assert first.get_json()["status"] == "created"
    assert first.headers["Location"] == "/v1/events/evt-1"

    # Same body with keys reordered, at every depth, is the same event.
    reordered = dict(reversed(list(body.items())))
    reordered["metadata"] = {"b": {"y": 2, "x": 1}, "a": 1}
    replay = client.post("/v1/events", json=reordered, headers=tenant.headers)
    assert replay.status_code == 200
    assert replay.get_json()["status"] == "duplicate"

    conflict = client.post("/v1/events", json={**body, "rating": 1}, headers=tenant.headers)
    problem = is_problem(conflict, 409)
    assert problem["id"] == "evt-1"

    stored = client.get("/v1/events/evt-1", headers=tenant.headers).get_json()
    assert stored["rating"] == 4  # the conflicting replay changed nothing
    assert stored["signal"] == "positive"
    assert stored["kind"] == "explicit"


def test_batch_replay_adds_nothing(client: FlaskClient, tenant: Tenant) -> None:
    batch = {"events": [event(i, "accept", generation=f"g-{i % 3}") for i in range(50)]}
    first = client.post("/v1/events", json=batch, headers=tenant.headers)
    assert first.status_code == 200
    assert first.get_json()["summary"] == {
        "created": 50,
        "duplicate": 0,
        "conflict": 0,
        "invalid": 0,
    }
    again = client.post("/v1/events", json=batch, headers=tenant.headers)
    assert again.status_code == 200
    assert again.get_json()["summary"]["duplicate"] == 50
    assert len(all_events(client, tenant)) == 50


def test_batch_judges_each_event_and_keeps_the_good_ones(
    client: FlaskClient, tenant: Tenant
) -> None:
    client.post("/v1/events", json=event("old", "copy"), headers=tenant.headers)
    batch = {
        "events": [
            event(1, "thumbs_down"),
            event(2, "rating", rating=7),
            event(3, "tweak"),  # no text
            event("old", "ignore"),  # id taken by a different body
            event("old", "copy"),  # exact replay
            event(1, "thumbs_down"),  # repeated inside the batch, same body
            event(1, "thumbs_up"),  # repeated inside the batch, different body
        ]
    }
    resp = client.post("/v1/events", json=batch, headers=tenant.headers)
    assert resp.status_code == 207
    results = resp.get_json()["results"]
    assert [r["status"] for r in results] == [
        "created",
        "invalid",
        "invalid",
        "conflict",
        "duplicate",
        "duplicate",
        "conflict",
    ]
    assert results[1]["errors"][0]["pointer"] == "/events/1/rating"
    assert results[2]["errors"][0]["field"] == "events[2].text"
    assert results[3]["errors"][0]["pointer"] == "/events/3/id"
    ids = sorted(e["id"] for e in all_events(client, tenant))
    assert ids == ["evt-1", "evt-old"]
    assert client.get("/v1/events/evt-1", headers=tenant.headers).get_json()["type"] == (
        "thumbs_down"
    )


def test_batch_with_nothing_acceptable_is_a_problem(client: FlaskClient, tenant: Tenant) -> None:
    resp = client.post(
        "/v1/events",
        json={"events": [event(1, "rating", rating=0), event(2, "nope")]},
        headers=tenant.headers,
    )
    body = is_problem(resp, 422)
    assert {e["pointer"] for e in body["errors"]} == {"/events/0/rating", "/events/1/type"}
    assert body["summary"]["invalid"] == 2

    client.post("/v1/events", json=event(3), headers=tenant.headers)
    resp = client.post(
        "/v1/events", json={"events": [event(3, "thumbs_down")]}, headers=tenant.headers
    )
    is_problem(resp, 409)


def test_events_before_their_generation_are_linked_when_it_arrives(
    client: FlaskClient, tenant: Tenant
) -> None:
    client.post(
        "/v1/events",
        json={
            "events": [
                event(1, "thumbs_up", generation="late"),
                event(2, "rating", generation="late", rating=5),
                event(3, "regenerate", generation="late"),
                event(4, "accept", generation="other"),
            ]
        },
        headers=tenant.headers,
    )
    assert client.get("/v1/generations/late", headers=tenant.headers).status_code == 404

    created = client.post(
        "/v1/generations", json=generation("late", feature="autocomplete"), headers=tenant.headers
    )
    assert created.status_code == 201
    got = client.get("/v1/generations/late", headers=tenant.headers).get_json()
    assert got["feature"] == "autocomplete"
    assert got["model"] == {"name": "gpt-4o", "version": "2024-08-06"}
    fb = got["feedback"]
    assert fb["events"] == 3
    assert fb["by_type"] == {"thumbs_up": 1, "rating": 1, "regenerate": 1}
    assert fb["by_signal"] == {"positive": 1, "strong_positive": 1, "strong_negative": 1}
    assert fb["score"] == round((1 + 2 - 2) / 3, 4)
    assert fb["rating_mean"] == 5


def test_list_filters_and_cursor(client: FlaskClient, tenant: Tenant) -> None:
    events = [
        event(1, "thumbs_up", generation="a", user_id="u1", timestamp="2026-01-01T10:00:00Z"),
        event(2, "thumbs_down", generation="a", user_id="u2", timestamp="2026-01-02T10:00:00Z"),
        event(
            3,
            "comment",
            generation="b",
            user_id="u1",
            text="meh",
            timestamp="2026-01-03T10:00:00+02:00",
        ),
        event(4, "thumbs_up", generation="b", user_id="u1", timestamp="2026-01-04T10:00:00Z"),
        event(5, "copy", generation="a", user_id="u3"),
    ]
    assert (
        client.post("/v1/events", json={"events": events}, headers=tenant.headers).status_code
        == 200
    )

    def ids(**params: str) -> list[str]:
        return [str(e["id"]) for e in all_events(client, tenant, **params)]

    assert ids() == [f"evt-{i}" for i in range(1, 6)]  # pages of 2 never overlap
    assert ids(generation_id="a") == ["evt-1", "evt-2", "evt-5"]
    assert ids(user_id="u1") == ["evt-1", "evt-3", "evt-4"]
    assert ids(since="2026-01-02T00:00:00Z", until="2026-01-04T00:00:00Z") == ["evt-2", "evt-3"]
    resp = client.get("/v1/events?type=thumbs_up&type=comment", headers=tenant.headers)
    assert [e["id"] for e in resp.get_json()["data"]] == ["evt-1", "evt-3", "evt-4"]
    third = client.get("/v1/events/evt-3", headers=tenant.headers).get_json()
    assert third["timestamp"] == "2026-01-03T08:00:00Z"  # stored and returned in UTC
    run_jobs(client.application)  # free text is shown once the worker has screened it
    third = client.get("/v1/events/evt-3", headers=tenant.headers).get_json()
    assert (third["text"], third["screening"]) == ("meh", "redacted")


def test_timestamps_are_instants_stored_in_utc(client: FlaskClient, tenant: Tenant) -> None:
    # Offsets beyond PostgreSQL's +-15:59 are valid RFC 3339 instants: stored converted.
    body = event(1, timestamp="2026-01-03T10:00:00+16:30")
    assert client.post("/v1/events", json=body, headers=tenant.headers).status_code == 201
    got = client.get("/v1/events/evt-1", headers=tenant.headers).get_json()
    assert got["timestamp"] == "2026-01-02T17:30:00Z"
    # The same instant written with another offset is the same event, not a conflict.
    same = event(1, timestamp="2026-01-02T17:30:00Z")
    resp = client.post("/v1/events", json=same, headers=tenant.headers)
    assert (resp.status_code, resp.get_json()["status"]) == (200, "duplicate")


def test_tenants_are_isolated(client: FlaskClient, make_tenant: object) -> None:
    acme = make_tenant("acme")  # type: ignore[operator]
    globex = make_tenant("globex")  # type: ignore[operator]
    client.post("/v1/generations", json=generation("shared-id"), headers=acme.headers)
    client.post("/v1/events", json=event(1, generation="shared-id"), headers=acme.headers)

    is_problem(client.get("/v1/generations/shared-id", headers=globex.headers), 404)
    is_problem(client.get("/v1/events/evt-1", headers=globex.headers), 404)
    page = client.get("/v1/events?generation_id=shared-id", headers=globex.headers).get_json()
    assert page["data"] == []

    # The same client ids are free to use in another project, and stay separate.
    assert (
        client.post(
            "/v1/events",
            json=event(1, "thumbs_down", generation="shared-id"),
            headers=globex.headers,
        ).status_code
        == 201
    )
    mine = client.get("/v1/events/evt-1", headers=acme.headers).get_json()
    assert mine["type"] == "thumbs_up"
