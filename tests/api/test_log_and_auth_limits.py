"""Log lines name routes and escape control characters; failed authentication is limited per
client address (memory on SQLite, Redis on PostgreSQL, shared by every app instance)."""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pydantic import SecretStr
from redis import Redis
from sqlalchemy import Engine

from app.cli import make_app
from app.config import Settings
from app.labelstudio import SECRET_HEADER
from app.logs import UNMATCHED, escape_controls
from tests.conftest import PG_URL, REDIS_URL, TEST_ENCRYPTION_KEY, MakeTenant
from tests.helpers import event, is_problem

FORGED = "/v1/events/y%0D%0Afake-line%1B%5B31mRED"
HOOK_SECRET = "the-right-secret"


def access_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "winnow.access"]


def test_escape_controls_shows_every_control_character() -> None:
    assert escape_controls("a\r\nb\tc\x1b[31md\x00\x7f\x85\u2028") == (
        "a\\r\\nb\\tc\\x1b[31md\\x00\\x7f\\x85\\u2028"
    )
    assert escape_controls("plain text, ünïcode and \\ stay") == "plain text, ünïcode and \\ stay"


def test_access_log_names_the_route_never_the_path(
    client: FlaskClient, make_tenant: MakeTenant, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="winnow.access")
    admin = make_tenant("acme", scopes=("admin",))
    erased = client.delete("/v1/users/smoke@example.com", headers=admin.headers)
    assert erased.status_code < 500, erased.get_data(as_text=True)
    assert client.get(FORGED, headers=admin.headers).status_code == 404
    assert client.get("/no/such/smoke@example.com").status_code == 404
    lines = access_lines(caplog)
    assert f'"DELETE /v1/users/<user_id>" {erased.status_code} ' in lines[0]
    # Werkzeug matches no route for a path with a line break: the placeholder, never the path.
    assert lines[1].split('"')[1] in ("GET /v1/events/<event_id>", f"GET {UNMATCHED}")
    assert f'"GET {UNMATCHED}" 404 ' in lines[2]
    assert lines[0].startswith("127.0.0.1 ")
    assert "smoke" not in caplog.text and "fake-line" not in caplog.text


def test_every_log_record_comes_out_on_one_line_escaped(app: Flask) -> None:
    """Whoever logs (here a logger named like gunicorn's) and whatever formatter is used."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    logger = logging.getLogger("gunicorn.error.test-escape")
    logger.addHandler(handler)
    try:
        logger.warning("bad request line %r %s", "x", "y\r\nfake-line\x1b[31mRED")
        try:
            raise ValueError("value\nwith a forged line")
        except ValueError:
            logger.exception("failed on %s", "z\n")
    finally:
        logger.removeHandler(handler)
    lines = out.getvalue().splitlines()
    name = "gunicorn.error.test-escape"
    assert lines[0] == f"{name}: bad request line 'x' y\\r\\nfake-line\\x1b[31mRED"
    assert lines[1] == f"{name}: failed on z\\n"
    assert lines[2].startswith("Traceback (most recent call last):\\n")
    assert lines[2].endswith("ValueError: value\\nwith a forged line")
    assert len(lines) == 3 and "\x1b" not in out.getvalue()


def limited(settings: Settings, limit: str = "3/minute") -> Flask:
    return make_app(settings.model_copy(update={
        "auth_failure_limit": limit,
        "label_studio_webhook_secret": SecretStr(HOOK_SECRET),
    }))


@pytest.fixture
def guarded(settings: Settings) -> Iterator[Flask]:
    app = limited(settings)
    yield app
    app.extensions["winnow"].db.dispose()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def wrong_key(i: int) -> dict[str, str]:
    return bearer(f"wn_{i:012x}_guessedsecretguessedsecret")


def test_wrong_api_keys_are_limited_per_address_even_for_a_right_key(guarded: Flask) -> None:
    client = guarded.test_client()
    with guarded.extensions["winnow"].db.session() as session:
        from app.services.keys import create_key
        from app.services.projects import create_project

        token = create_key(session, create_project(session, "acme"), "t").token
    assert client.post("/v1/events", json=event(1), headers=bearer(token)).status_code == 201
    for _ in range(5):  # no key at all is not a guess: never counted
        is_problem(client.get("/v1/events/evt-1"), 401)
    for i in range(3):
        is_problem(client.get("/v1/events/evt-1", headers=wrong_key(i)), 401)
    refused = client.get("/v1/events/evt-1", headers=wrong_key(3))
    problem = is_problem(refused, 429)
    assert problem["type"] == "urn:winnow:problem:auth-failures-limited"
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    # Past the budget a right key is refused too, so guessing on tells nothing; nothing is kept.
    is_problem(client.post("/v1/events", json=event(2), headers=bearer(token)), 429)
    # Another address is unaffected, and the first event is still there.
    other = {"REMOTE_ADDR": "10.0.0.2"}
    assert client.get("/v1/events/evt-1", headers=bearer(token),
                      environ_base=other).status_code == 200
    assert client.get("/v1/events/evt-2", headers=bearer(token),
                      environ_base=other).status_code == 404
    is_problem(client.get("/v1/events/evt-1", headers=wrong_key(9), environ_base=other), 401)


def test_wrong_webhook_secrets_are_limited_per_address(guarded: Flask) -> None:
    client = guarded.test_client()
    for i in range(3):
        wrong = client.post("/v1/hooks/label-studio", json={}, headers={SECRET_HEADER: f"no{i}"})
        is_problem(wrong, 401)
    is_problem(client.post("/v1/hooks/label-studio", json={}), 429)  # no secret: counted too
    right = {SECRET_HEADER: HOOK_SECRET}
    refused = client.post("/v1/hooks/label-studio", json={}, headers=right)
    assert is_problem(refused, 429)["type"] == "urn:winnow:problem:auth-failures-limited"
    assert int(refused.headers["Retry-After"]) >= 1
    # From another address the right secret passes the check (then the empty body is refused).
    passed = client.post("/v1/hooks/label-studio", json={}, headers=right,
                         environ_base={"REMOTE_ADDR": "10.0.0.3"})
    assert passed.status_code == 422


def test_an_address_is_let_in_again_when_the_window_ends(settings: Settings) -> None:
    app = limited(settings, "2 per 2 seconds")
    client = app.test_client()
    for i in range(2):
        is_problem(client.get("/v1/events/x", headers=wrong_key(i)), 401)
    refused = client.get("/v1/events/x", headers=wrong_key(2))
    is_problem(refused, 429)
    time.sleep(int(refused.headers["Retry-After"]) + 0.2)  # the window, not a speed
    is_problem(client.get("/v1/events/x", headers=wrong_key(3)), 401)
    app.extensions["winnow"].db.dispose()


@pytest.mark.postgres
@pytest.mark.redis
def test_failures_are_shared_by_every_app_on_one_redis(
    pg_engine: Engine, redis_client: Redis, tmp_path: Path
) -> None:
    production = Settings(data_dir=tmp_path, database_url=PG_URL, redis_url=REDIS_URL,
                          encryption_key=SecretStr(TEST_ENCRYPTION_KEY))
    first, second = limited(production), limited(production)
    try:
        for i in range(3):
            is_problem(first.test_client().get("/v1/events/x", headers=wrong_key(i)), 401)
        is_problem(second.test_client().get("/v1/events/x", headers=wrong_key(3)), 429)
    finally:
        for app in (first, second):
            app.extensions["winnow"].db.dispose()


def test_auth_failure_limit_setting_is_validated() -> None:
    with pytest.raises(ValueError, match="auth_failure_limit"):
        Settings(auth_failure_limit="lots")
    assert Settings().auth_failure_limit == "20/minute"
