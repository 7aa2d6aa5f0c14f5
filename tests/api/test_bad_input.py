"""Every kind of bad input gets a clear 4xx problem+json and loses nothing already accepted."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.services.keys import revoke_key
from tests.conftest import MakeTenant
from tests.helpers import Tenant, event, generation, is_problem


@pytest.fixture
def accepted(client: FlaskClient, tenant: Tenant) -> list[str]:
    """Events stored before the bad input arrives; each test checks they are all still there."""
    batch = {"events": [event(f"ok-{i}", "accept") for i in range(3)]}
    assert client.post("/v1/events", json=batch, headers=tenant.headers).status_code == 200
    return [f"evt-ok-{i}" for i in range(3)]


def still_there(client: FlaskClient, tenant: Tenant, ids: list[str]) -> None:
    page = client.get("/v1/events?limit=1000", headers=tenant.headers).get_json()
    assert [e["id"] for e in page["data"]] == ids


BAD_EVENTS: list[tuple[str, dict[str, Any], str, str]] = [
    ("unknown type", event(1, "love"), "/type", "unknown event type"),
    ("missing type", {"id": "e", "generation_id": "g"}, "/type", "field required"),
    ("rating too high", event(1, "rating", rating=6), "/rating", "less than or equal to 5"),
    ("rating too low", event(1, "rating", rating=0), "/rating", "greater than or equal to 1"),
    ("rating as string", event(1, "rating", rating="5"), "/rating", "valid integer"),
    ("rating as bool", event(1, "rating", rating=True), "/rating", "valid integer"),
    ("rating as float", event(1, "rating", rating=4.5), "/rating", "valid integer"),
    ("rating missing", event(1, "rating"), "/rating", "field required"),
    ("tweak without text", event(1, "tweak"), "/text", "field required"),
    ("tweak with blank text", event(1, "tweak", text="   "), "/text", "blank"),
    ("comment with NUL", event(1, "comment", text="a\x00b"), "/text", "NUL"),
    ("id as number", {**event(1), "id": 5}, "/id", "valid string"),
    ("id with slash", {**event(1), "id": "../etc"}, "/id", "pattern"),
    ("id too long", {**event(1), "id": "x" * 129}, "/id", "pattern"),
    ("naive timestamp", event(1, timestamp="2026-01-01T00:00:00"), "/timestamp", "timezone"),
    ("bad timestamp", event(1, timestamp="yesterday"), "/timestamp", "datetime"),
    (
        "timestamp before year 1 in UTC",
        event(1, timestamp="0001-01-01T00:00:00+05:00"),
        "/timestamp",
        "out of range",
    ),
    (
        "timestamp after 9999 in UTC",
        event(1, timestamp="9999-12-31T23:00:00-05:00"),
        "/timestamp",
        "out of range",
    ),
    ("unknown field", event(1, rating=3), "/rating", "unknown field"),
    ("metadata not object", event(1, metadata=[1]), "/metadata", "dictionary"),
    ("metadata with NUL", event(1, metadata={"k": "\x00"}), "/metadata", "NUL"),
    ("metadata too big", event(1, metadata={"k": "x" * 9000}), "/metadata", "bytes"),
    ("missing generation", {"id": "e", "type": "copy"}, "/generation_id", "field required"),
]


@pytest.mark.parametrize(
    ("body", "pointer", "message"), [b[1:] for b in BAD_EVENTS], ids=[b[0] for b in BAD_EVENTS]
)
def test_invalid_event_is_422_naming_the_field(
    client: FlaskClient,
    tenant: Tenant,
    accepted: list[str],
    body: dict[str, Any],
    pointer: str,
    message: str,
) -> None:
    problem = is_problem(client.post("/v1/events", json=body, headers=tenant.headers), 422)
    assert problem["errors"][0]["pointer"] == pointer
    assert problem["errors"][0]["field"] == pointer.strip("/")
    assert message in problem["errors"][0]["detail"]
    # The same event inside a batch is refused with the batch path.
    resp = client.post("/v1/events", json={"events": [body]}, headers=tenant.headers)
    assert is_problem(resp, 422)["errors"][0]["pointer"] == "/events/0" + pointer
    still_there(client, tenant, accepted)


@pytest.mark.parametrize(
    ("raw", "content_type", "status"),
    [
        (b"{not json", "application/json", 400),
        (b"", "application/json", 400),
        (b'{"id": "a", "type": "copy", "generation_id": "g"', "application/json", 400),
        (b"\xff\xfe{}", "application/json", 400),
        (b'{"id": "\\ud800"}', "application/json", 400),
        (b"[1, 2]", "application/json", 422),
        (b'"just a string"', "application/json", 422),
        (b"null", "application/json", 422),
        (b'{"events": "nope"}', "application/json", 422),
        (b'{"events": []}', "application/json", 422),
        (b'{"events": [], "extra": 1}', "application/json", 422),
        (b"type=copy", "application/x-www-form-urlencoded", 415),
        (b'{"id": "a"}', "text/plain", 415),
    ],
)
def test_malformed_bodies(
    client: FlaskClient,
    tenant: Tenant,
    accepted: list[str],
    raw: bytes,
    content_type: str,
    status: int,
) -> None:
    resp = client.post(
        "/v1/events", data=raw, headers={**tenant.headers, "Content-Type": content_type}
    )
    is_problem(resp, status)
    still_there(client, tenant, accepted)


def test_oversize_body_is_413(client: FlaskClient, tenant: Tenant, accepted: list[str]) -> None:
    big = {"events": [event(i, "comment", text="x" * 2000) for i in range(600)]}
    raw = json.dumps(big).encode()
    assert len(raw) > 1024 * 1024
    resp = client.post(
        "/v1/events", data=raw, headers={**tenant.headers, "Content-Type": "application/json"}
    )
    is_problem(resp, 413)
    still_there(client, tenant, accepted)


def test_oversize_batch_is_413(client: FlaskClient, tenant: Tenant, accepted: list[str]) -> None:
    batch = {"events": [event(i) for i in range(1001)]}
    problem = is_problem(client.post("/v1/events", json=batch, headers=tenant.headers), 413)
    assert "1000" in problem["detail"]
    still_there(client, tenant, accepted)
    # 1,000 is allowed.
    batch = {"events": [event(i) for i in range(1000)]}
    assert client.post("/v1/events", json=batch, headers=tenant.headers).status_code == 200


def test_bad_generations(client: FlaskClient, tenant: Tenant) -> None:
    cases = [
        (generation(model=None), "/model"),
        (generation(model={"name": ""}), "/model/name"),
        (generation(tokens={"input": -1}), "/tokens/input"),
        (generation(tokens={"input": 2**40}), "/tokens/input"),
        (generation(cost_usd="1.0"), "/cost_usd"),
        (generation(latency_ms=1.5), "/latency_ms"),
        (generation(feature="a\nb"), "/feature"),
    ]
    for body, pointer in cases:
        resp = client.post("/v1/generations", json=body, headers=tenant.headers)
        assert is_problem(resp, 422)["errors"][0]["pointer"] == pointer, body
    assert (
        client.post("/v1/generations", json=generation("g"), headers=tenant.headers).status_code
        == 201
    )
    problem = is_problem(
        client.post("/v1/generations", json=generation("g", feature="x"), headers=tenant.headers),
        409,
    )
    assert problem["type"] == "urn:winnow:problem:conflicting-replay"


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=1001",
        "limit=ten",
        "cursor=%%%",
        "cursor=ZXZpbA",
        "since=never",
        "since=2026-01-01T00:00:00",
        "type=love",
        "generation_id=a/b",
        "colour=red",
    ],
)
def test_bad_query_parameters_are_400(client: FlaskClient, tenant: Tenant, query: str) -> None:
    problem = is_problem(client.get(f"/v1/events?{query}", headers=tenant.headers), 400)
    assert problem["errors"] or problem["detail"]


def test_auth_failures(app: Flask, client: FlaskClient, make_tenant: MakeTenant) -> None:
    tenant = make_tenant("acme")
    reader = make_tenant("acme", scopes=("events:read",))
    cases = [
        ({}, 401, "missing API key"),
        ({"Authorization": "Basic abc"}, 401, "Bearer"),
        ({"Authorization": "Bearer "}, 401, "Bearer"),
        ({"Authorization": "Bearer nonsense"}, 401, "malformed"),
        ({"Authorization": "Bearer wn_000000000000_" + "a" * 43}, 401, "invalid API key"),
        ({"Authorization": tenant.headers["Authorization"] + "x"}, 401, "invalid API key"),
        (reader.headers, 403, "events:write"),
    ]
    for headers, status, detail in cases:
        problem = is_problem(client.post("/v1/events", json=event(1), headers=headers), status)
        assert detail in problem["detail"], (headers, problem)
    resp = client.post("/v1/events", json=event(1), headers={})
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")

    # A revoked key stops working at once.
    assert client.post("/v1/events", json=event(1), headers=tenant.headers).status_code == 201
    prefix = tenant.token.split("_")[1]
    with app.extensions["winnow"].db.session() as session:
        revoke_key(session, prefix)
    problem = is_problem(client.get("/v1/events", headers=tenant.headers), 401)
    assert "revoked" in problem["detail"]
    # Admin keys may do everything; events:write alone may not read.
    writer = make_tenant("acme", scopes=("events:write",))
    is_problem(client.get("/v1/events", headers=writer.headers), 403)
    admin = make_tenant("acme", scopes=("admin",))
    assert client.get("/v1/events", headers=admin.headers).status_code == 200


def test_unknown_routes_and_methods_are_problems(client: FlaskClient, tenant: Tenant) -> None:
    is_problem(client.get("/v1/nothing-here", headers=tenant.headers), 404)
    resp = client.delete("/v1/events", headers=tenant.headers)
    is_problem(resp, 405)
    assert "GET" in resp.headers["Allow"]
