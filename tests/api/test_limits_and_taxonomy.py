"""Per-key rate limits, and the signal map a project can override."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.conftest import MakeTenant
from tests.helpers import event, generation, is_problem


def test_rate_limit_is_per_key_with_retry_after(client: FlaskClient,
                                                make_tenant: MakeTenant) -> None:
    slow = make_tenant("acme", rate_limit="3/minute")
    other = make_tenant("acme")
    for i in range(3):
        resp = client.post("/v1/events", json=event(i), headers=slow.headers)
        assert resp.status_code == 201
        assert int(resp.headers["X-RateLimit-Remaining"]) == 2 - i
    limited = client.post("/v1/events", json=event(99), headers=slow.headers)
    problem = is_problem(limited, 429)
    assert 0 < int(limited.headers["Retry-After"]) <= 60
    assert problem["title"] == "Too Many Requests"
    # The refused event was not stored, and another key of the same project is unaffected.
    assert client.get("/v1/events/evt-99", headers=other.headers).status_code == 404
    assert client.post("/v1/events", json=event(99), headers=other.headers).status_code == 201
    # Health checks are never limited.
    assert client.get("/healthz").status_code == 200


def test_signal_overrides_apply_to_past_events(client: FlaskClient,
                                               make_tenant: MakeTenant) -> None:
    writer = make_tenant("acme")
    admin = make_tenant("acme", scopes=("admin",))
    client.post("/v1/generations", json=generation("g"), headers=writer.headers)
    client.post("/v1/events", json={"events": [
        event(1, "copy", generation="g"), event(2, "rating", generation="g", rating=3),
    ]}, headers=writer.headers)
    before = client.get("/v1/generations/g", headers=writer.headers).get_json()["feedback"]
    assert before["by_signal"] == {"positive": 1, "neutral": 1}

    is_problem(client.put("/v1/taxonomy", json={"types": {"copy": "strong_positive"}},
                          headers=writer.headers), 403)
    resp = client.put("/v1/taxonomy", json={"types": {"copy": "strong_positive"},
                                            "ratings": {"3": "negative"}},
                      headers=admin.headers)
    assert resp.status_code == 200
    types = {t["name"]: t for t in resp.get_json()["event_types"]}
    assert types["copy"]["signal"] == "strong_positive"
    assert types["copy"]["default_signal"] == "positive"

    after = client.get("/v1/generations/g", headers=writer.headers).get_json()["feedback"]
    assert after["by_signal"] == {"strong_positive": 1, "negative": 1}
    listed = client.get("/v1/events?type=copy", headers=writer.headers).get_json()["data"]
    assert listed[0]["signal"] == "strong_positive"

    # Other projects keep the defaults.
    stranger = make_tenant("globex")
    taxonomy = client.get("/v1/taxonomy", headers=stranger.headers).get_json()
    assert {t["name"]: t["signal"] for t in taxonomy["event_types"]}["copy"] == "positive"

    # An empty override restores the defaults; bad overrides are refused.
    client.put("/v1/taxonomy", json={}, headers=admin.headers)
    assert client.get("/v1/taxonomy", headers=admin.headers).get_json()["overrides"] is None
    for bad in ({"types": {"love": "positive"}}, {"types": {"copy": "great"}},
                {"ratings": {"6": "positive"}}, {"colours": {}}):
        is_problem(client.put("/v1/taxonomy", json=bad, headers=admin.headers), 422)
