"""User text never comes back in an error body or reaches a log line."""

from __future__ import annotations

import logging

import pytest
from flask.testing import FlaskClient

from tests.helpers import Tenant, event

SECRET = "jane.doe@example.com <script>alert(1)</script>"


def test_errors_and_logs_never_echo_request_values(
    client: FlaskClient, tenant: Tenant, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    bodies = [
        event(1, SECRET),  # as the event type
        {**event(2), "id": SECRET},
        event(3, "rating", rating=SECRET),
        event(4, "comment", text=SECRET, extra_field=SECRET),
        {**event(5), SECRET: 1},
        event(6, timestamp=SECRET),
        {
            "events": [
                event(7, "rating", rating=SECRET),
                event(8, SECRET),
                {**event(9), "id": SECRET},
            ]
        },
        {"events": [event(10)], SECRET: []},
        {"generations": [{"id": "g", "model": {"name": SECRET * 10}}]},
    ]
    for body in bodies:
        path = "/v1/generations" if "generations" in body else "/v1/events"
        resp = client.post(path, json=body, headers=tenant.headers)
        assert 400 <= resp.status_code < 500, resp.status_code
        text = resp.get_data(as_text=True)
        assert "jane.doe" not in text and "<script>" not in text, text
    raw = ('{"id": "x", "type": "comment", "text": "' + SECRET + '" ').encode()
    resp = client.post(
        "/v1/events", data=raw, headers={**tenant.headers, "Content-Type": "application/json"}
    )
    assert resp.status_code == 400
    assert "jane.doe" not in resp.get_data(as_text=True)
    resp = client.get("/v1/events", query_string={"user_id": SECRET}, headers=tenant.headers)
    assert resp.status_code == 400 and "jane.doe" not in resp.get_data(as_text=True)
    assert "jane.doe" not in caplog.text
