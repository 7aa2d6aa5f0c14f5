"""Per-key rate limits, and the signal map a project can override."""

from __future__ import annotations

from flask.testing import FlaskClient

from app.cli import make_app
from app.config import Settings
from app.services.keys import create_key
from app.services.projects import create_project
from tests.conftest import MakeTenant
from tests.helpers import event, generation, is_problem


def test_rate_limit_is_per_key_with_retry_after(
    client: FlaskClient, make_tenant: MakeTenant
) -> None:
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


def test_limits_count_in_memory_while_redis_is_down(settings: Settings) -> None:
    # A real fault: Redis configured on a port where nothing listens.
    down = settings.model_copy(update={"redis_url": "redis://127.0.0.1:1/0"})
    app = make_app(down)
    try:
        with app.app_context(), app.extensions["winnow"].db.session() as session:
            project = create_project(session, "acme")
            token = create_key(session, project, "t", rate_limit="2/minute").token
        client = app.test_client()
        headers = {"Authorization": f"Bearer {token}"}
        for i in range(2):
            resp = client.post("/v1/events", json=event(i), headers=headers)
            assert resp.status_code == 201  # feedback is not refused because Redis is down
            assert resp.headers["X-RateLimit-Remaining"] == str(1 - i)
        is_problem(client.post("/v1/events", json=event(3), headers=headers), 429)
    finally:
        app.extensions["winnow"].db.dispose()


def test_signal_overrides_apply_to_past_events(
    client: FlaskClient, make_tenant: MakeTenant
) -> None:
    writer = make_tenant("acme")
    admin = make_tenant("acme", scopes=("admin",))
    client.post("/v1/generations", json=generation("g"), headers=writer.headers)
    client.post(
        "/v1/events",
        json={
            "events": [
                event(1, "copy", generation="g"),
                event(2, "rating", generation="g", rating=3),
            ]
        },
        headers=writer.headers,
    )
    before = client.get("/v1/generations/g", headers=writer.headers).get_json()["feedback"]
    assert before["by_signal"] == {"positive": 1, "neutral": 1}

    is_problem(
        client.put(
            "/v1/taxonomy", json={"types": {"copy": "strong_positive"}}, headers=writer.headers
        ),
        403,
    )
    resp = client.put(
        "/v1/taxonomy",
        json={"types": {"copy": "strong_positive"}, "ratings": {"3": "negative"}},
        headers=admin.headers,
    )
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
    for bad in (
        {"types": {"love": "positive"}},
        {"types": {"copy": "great"}},
        {"ratings": {"6": "positive"}},
        {"colours": {}},
    ):
        is_problem(client.put("/v1/taxonomy", json=bad, headers=admin.headers), 422)
