"""Every answer keeps the contract: no 5xx for bad input, 503 + Retry-After when the database is
gone, responses that match the OpenAPI document, conditional file requests per RFC 9110, and
problem+json for every error the framework lets us shape."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from jsonschema import Draft202012Validator
from schemathesis import Case, GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import event as sa_event
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from app.cli import make_app
from app.config import Settings
from app.models import Event
from app.services.keys import create_key
from app.services.projects import create_project
from tests.conftest import PG_URL, MakeTenant
from tests.helpers import Tenant, conversation, event, generation, is_problem, run_jobs

ADMIN = ("admin",)


@pytest.fixture
def admin(make_tenant: MakeTenant) -> Tenant:
    return make_tenant("contract", scopes=ADMIN)


def _document(client: FlaskClient) -> dict[str, Any]:
    doc: dict[str, Any] = client.get("/v1/openapi.json").get_json()
    return doc


def _conforms(doc: dict[str, Any], path: str, method: str, resp: Any) -> None:
    """The body matches the schema the document gives for this status and media type."""
    documented = doc["paths"][path][method]["responses"][str(resp.status_code)]
    schema = documented["content"][resp.mimetype]["schema"]
    validator = Draft202012Validator({**schema, "components": doc["components"]})
    errors = [e.message for e in validator.iter_errors(resp.get_json())]
    assert not errors, errors


# --- 12: no 5xx ------------------------------------------------------------------------------


def test_a_unicode_digit_is_no_erasure_id(client: FlaskClient, admin: Tenant) -> None:
    """'²'.isdigit() is True and int('²') raises: it was a 500."""
    for erasure_id in ("%C2%B2", "%D9%A3", "1%C2%B2"):
        body = is_problem(client.get(f"/v1/erasures/{erasure_id}", headers=admin.headers), 404)
        assert "²" not in body["detail"]


@pytest.mark.parametrize("path", ["/v1/events", "/v1/items"])
@pytest.mark.parametrize("cursor", [
    "ZTo5MjIzMzcyMDM2ODU0Nzc1ODA4",  # e:9223372036854775808, one past BIGINT
    "ZTo5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OQ",  # e:99999999999999999999999999
    "ZTrCsg",  # e:² (a Unicode digit)
])
def test_a_cursor_no_row_id_fits_is_a_bad_query(
    client: FlaskClient, admin: Tenant, path: str, cursor: str
) -> None:
    body = is_problem(client.get(f"{path}?cursor={cursor}", headers=admin.headers), 400)
    assert body["errors"][0]["field"] == "cursor"


def test_the_largest_row_id_is_still_a_cursor(client: FlaskClient, admin: Tenant) -> None:
    """e:9223372036854775807 (BIGINT's maximum): an empty page, not an error."""
    resp = client.get("/v1/events?cursor=ZTo5MjIzMzcyMDM2ODU0Nzc1ODA3", headers=admin.headers)
    assert resp.status_code == 200
    assert resp.get_json() == {"data": [], "next_cursor": None}


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/v1/events/%00"),
    ("GET", "/v1/events/a%00b"),
    ("GET", "/v1/generations/%00"),
    ("GET", "/v1/items/%00"),
    ("GET", "/v1/items/x%1F"),
    ("POST", "/v1/items/%00/release"),
    ("POST", "/v1/items/%00/reject"),
    ("GET", "/v1/datasets/%00"),
    ("GET", "/v1/datasets/d/versions/%00"),
    ("GET", "/v1/erasures/%00"),
    ("DELETE", "/v1/users/%00"),
])
def test_control_characters_in_a_path_id_are_a_404(
    client: FlaskClient, admin: Tenant, method: str, path: str
) -> None:
    """PostgreSQL refuses NUL in text: the query raised and the answer was a 500."""
    is_problem(client.open(path, method=method, headers=admin.headers), 404)


# Faults of a real PostgreSQL server (and the Redis that configuration runs with): these tests
# take the PostgreSQL variant of the `settings` fixture only.
ONLY_PG = pytest.mark.parametrize("settings", ["postgresql"], indirect=True)


@pytest.fixture
def pg_app(settings: Settings) -> Iterator[Flask]:
    assert settings.database_url is not None  # ONLY_PG: the PostgreSQL configuration
    application = make_app(settings)
    yield application
    application.extensions["winnow"].db.dispose()


def _terminate_on(app: Flask, when: str) -> None:
    """A real fault: the server ends this connection's backend (as a restart would) the first
    time the app is about to run `when` (a statement prefix, or "COMMIT")."""
    assert PG_URL is not None
    admin_url = make_url(PG_URL).set(drivername="postgresql").render_as_string(
        hide_password=False)
    engine = app.extensions["winnow"].db.engine
    done: list[int] = []

    def kill(conn: Any) -> None:
        if done:
            return
        pid = conn.connection.dbapi_connection.info.backend_pid
        done.append(pid)
        with psycopg.connect(admin_url, autocommit=True) as killer:
            killer.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,))

    if when == "COMMIT":
        sa_event.listen(engine, "commit", kill)
    else:
        def before(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            if statement.lstrip().upper().startswith(when):
                kill(conn)
        sa_event.listen(engine, "before_cursor_execute", before)


def _events_stored(app: Flask) -> int:
    with app.extensions["winnow"].db.session() as session:
        return int(session.scalar(select(func.count()).select_from(Event)) or 0)


@pytest.mark.postgres
@pytest.mark.redis  # the PostgreSQL configuration runs with Redis
@ONLY_PG
def test_database_lost_during_a_batch_is_a_503_and_the_retry_stores_it(
    pg_app: Flask, make_tenant: MakeTenant
) -> None:
    t = make_tenant("faults")
    client = pg_app.test_client()
    batch = {"events": [event(i) for i in range(50)]}
    _terminate_on(pg_app, 'INSERT INTO "EVENTS"')
    body = is_problem(client.post("/v1/events", json=batch, headers=t.headers), 503)
    assert body["stored"] is False and "nothing was stored" in body["detail"]
    assert _events_stored(pg_app) == 0
    resp = client.post("/v1/events", json=batch, headers=t.headers)  # the pool reconnects
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.get_json()["summary"]["created"] == 50
    assert _events_stored(pg_app) == 50


@pytest.mark.postgres
@pytest.mark.redis  # the PostgreSQL configuration runs with Redis
@ONLY_PG
def test_a_connection_idle_past_the_ping_age_is_checked_and_replaced_when_dead(
    pg_app: Flask, make_tenant: MakeTenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No ping for a connection used moments ago; one idle past IDLE_PING_SECONDS is pinged,
    and when the server ended its backend meanwhile (a real termination), the pool connects
    afresh and the request succeeds."""
    from app import db as db_module

    t = make_tenant("idle")
    client = pg_app.test_client()
    engine = pg_app.extensions["winnow"].db.engine
    pings: list[int] = []
    real_ping = engine.dialect.do_ping

    def counted(dbapi_connection: Any) -> bool:
        pings.append(1)
        return bool(real_ping(dbapi_connection))

    monkeypatch.setattr(engine.dialect, "do_ping", counted)
    assert client.post("/v1/events", json=event(1), headers=t.headers).status_code == 201
    pings.clear()
    for i in range(2, 5):  # back to back: the connection was just given back, no ping
        assert client.post("/v1/events", json=event(i), headers=t.headers).status_code == 201
    assert pings == []

    # The server ends the pooled connection's backend while it sits idle; time passes.
    with engine.connect() as conn:  # the one connection the requests used, back in the pool
        pid = conn.connection.dbapi_connection.info.backend_pid
    assert engine.pool.checkedin() == 1
    assert PG_URL is not None
    admin_url = make_url(PG_URL).set(drivername="postgresql").render_as_string(
        hide_password=False)
    with psycopg.connect(admin_url, autocommit=True) as killer:
        killer.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,))
    monkeypatch.setattr(db_module, "IDLE_PING_SECONDS", 0.0)
    pings.clear()
    resp = client.post("/v1/events", json=event(9), headers=t.headers)
    assert resp.status_code == 201, resp.get_data(as_text=True)
    assert pings  # it was pinged, found dead, and replaced
    assert _events_stored(pg_app) == 5


@pytest.mark.postgres
@pytest.mark.redis  # the PostgreSQL configuration runs with Redis
@ONLY_PG
def test_database_lost_while_committing_says_the_outcome_is_unknown(
    pg_app: Flask, make_tenant: MakeTenant
) -> None:
    t = make_tenant("faults")
    client = pg_app.test_client()
    _terminate_on(pg_app, "COMMIT")
    resp = client.post("/v1/events", json={"events": [event(1)]}, headers=t.headers)
    body = is_problem(resp, 503)
    assert resp.headers["Retry-After"].isdigit()
    assert body["stored"] is None and "may or may not" in body["detail"]
    replay = client.post("/v1/events", json={"events": [event(1)]}, headers=t.headers)
    assert replay.status_code == 200
    assert replay.get_json()["results"][0]["status"] in ("created", "duplicate")
    assert _events_stored(pg_app) == 1


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


@pytest.mark.postgres
@pytest.mark.redis  # the PostgreSQL configuration runs with Redis
@ONLY_PG
def test_an_unreachable_database_is_a_503_with_retry_after(settings: Settings) -> None:
    assert settings.database_url is not None
    url = make_url(settings.database_url).set(host="127.0.0.1", port=_closed_port())
    app = make_app(settings.model_copy(update={
        "database_url": url.render_as_string(hide_password=False)}))
    client = app.test_client()
    try:
        for method, path in (("POST", "/v1/events"), ("GET", "/v1/events"),
                             ("POST", "/v1/generations")):
            resp = client.open(path, method=method, json={"events": [event(1)]},
                               headers={"Authorization": "Bearer wn_abcdef123456_x"})
            body = is_problem(resp, 503)
            assert int(resp.headers["Retry-After"]) > 0
            assert body["stored"] is False and "nothing was stored" in body["detail"]
    finally:
        app.extensions["winnow"].db.dispose()


@pytest.mark.postgres
@pytest.mark.redis  # the PostgreSQL configuration runs with Redis
@ONLY_PG
def test_an_unreachable_queue_is_a_503_not_a_500(settings: Settings) -> None:
    """Redis down when a build is enqueued: the version row is committed, so `stored` is null."""
    assert settings.redis_url is not None
    app = make_app(settings.model_copy(update={
        "redis_url": f"redis://127.0.0.1:{_closed_port()}/0"}))
    client = app.test_client()
    try:
        with app.extensions["winnow"].db.session() as session:
            token = create_key(session, create_project(session, "noqueue"), "t", ADMIN,
                               None).token
        headers = {"Authorization": f"Bearer {token}"}
        resp = client.post("/v1/datasets", json={"name": "d", "purpose": "eval"},
                           headers=headers)
        assert resp.status_code == 201, resp.get_data(as_text=True)
        resp = client.post("/v1/datasets/d/versions", json={"message": "m"}, headers=headers)
        body = is_problem(resp, 503)
        assert body["type"] == "urn:winnow:problem:queue-unavailable"
        assert int(resp.headers["Retry-After"]) > 0 and body["stored"] is None
    finally:
        app.extensions["winnow"].db.dispose()


# --- 13: the document and the validator agree ------------------------------------------------


def test_a_replayed_single_post_matches_the_document(
    client: FlaskClient, admin: Tenant
) -> None:
    doc = _document(client)
    for path, body in (("/v1/events", event(1)), ("/v1/generations", generation("g-1")),
                       ("/v1/conversations", conversation("c-1"))):
        first = client.post(path, json=body, headers=admin.headers)
        assert first.status_code == 201
        _conforms(doc, path, "post", first)
        replay = client.post(path, json=body, headers=admin.headers)
        assert replay.status_code == 200 and replay.get_json()["status"] == "duplicate"
        _conforms(doc, path, "post", replay)
        batch = client.post(path, json={path.rsplit("/", 1)[1]: [body]}, headers=admin.headers)
        assert batch.status_code == 200 and batch.get_json()["summary"]["duplicate"] == 1
        _conforms(doc, path, "post", batch)


@pytest.mark.parametrize("value", ["0", "1700000000", "2024-08-06", "2024-08-06 12:00:00Z",
                                   "2024-08-06T12:00Z", "2024-08-06T12:00:00"])
def test_a_timestamp_is_an_rfc3339_date_time_and_nothing_else(
    client: FlaskClient, admin: Tenant, value: str
) -> None:
    """The document says `format: date-time`; pydantic alone took 0 as 1970-01-01."""
    body = is_problem(client.get(f"/v1/events?until={value}", headers=admin.headers), 400)
    assert body["errors"][0]["field"] == "until"
    resp = client.post("/v1/events", json=event(1, timestamp=value), headers=admin.headers)
    assert is_problem(resp, 422)["errors"][0]["field"] == "timestamp"


def test_a_number_is_no_timestamp_and_rfc3339_still_is(
    client: FlaskClient, admin: Tenant
) -> None:
    resp = client.post("/v1/events", json=event(1, timestamp=0), headers=admin.headers)
    assert is_problem(resp, 422)["errors"][0]["field"] == "timestamp"
    for i, value in enumerate(("2024-08-06T12:00:00Z", "2024-08-06t12:00:00.25+02:00")):
        resp = client.post("/v1/events", json=event(10 + i, timestamp=value),
                           headers=admin.headers)
        assert resp.status_code == 201, resp.get_data(as_text=True)
    resp = client.get("/v1/events?since=2024-08-06T13:00:00%2B02:00", headers=admin.headers)
    assert [e["id"] for e in resp.get_json()["data"]] == ["evt-10"]


@pytest.mark.parametrize("value", [0, 1, "true", "yes", None])
def test_refresh_holdout_is_a_json_boolean(
    client: FlaskClient, admin: Tenant, value: Any
) -> None:
    resp = client.post("/v1/datasets/any/versions",
                       json={"message": "m", "refresh_holdout": value}, headers=admin.headers)
    assert is_problem(resp, 422)["errors"][0]["field"] == "refresh_holdout"


def test_split_ratios_are_json_numbers(client: FlaskClient, admin: Tenant) -> None:
    body = {"name": "d", "purpose": "eval", "splits": {"train": "1", "validation": 0, "test": 0}}
    resp = client.post("/v1/datasets", json=body, headers=admin.headers)
    assert is_problem(resp, 422)["errors"][0]["field"] == "splits.train"


def _fuzz(operation: Any, mode: GenerationMode, headers: dict[str, str],
          checks: list[Any]) -> None:
    @given(case=operation.as_strategy(generation_mode=mode, headers=headers))
    @settings(max_examples=40, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def run(case: Case) -> None:
        case.call_and_validate(headers=headers, checks=checks)

    try:
        run()
    except Unsatisfiable:
        # Nothing to make invalid: an operation with no body, query or path parameter.
        assert mode is GenerationMode.NEGATIVE
        assert not (operation.body or operation.query or operation.path_parameters)


@pytest.mark.slow
def test_property_based_run_keeps_the_document(app: Flask, make_tenant: MakeTenant) -> None:
    """Valid and invalid requests generated from the document, for every operation: no 5xx,
    every status, media type and body as documented, and invalid input refused."""
    headers = make_tenant("fuzz", scopes=ADMIN).headers
    schema = schemathesis.openapi.from_wsgi("/v1/openapi.json", app)
    # The key is fixed: a case made "invalid" by dropping it would be valid once it is added.
    schema.config.generation.update(with_security_parameters=False)
    # Refusals too: 207 (a batch's valid items are stored, its invalid ones refused, as
    # documented), 413 (a body or batch past the limits) and 414.
    rejection = schema.config.checks.negative_data_rejection
    rejection.expected_statuses = [*rejection.expected_statuses, "207", "413", "414"]
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    checks = [not_a_server_error, status_code_conformance, content_type_conformance,
              response_schema_conformance]
    for operation in operations:
        _fuzz(operation, GenerationMode.POSITIVE, headers, checks)
        _fuzz(operation, GenerationMode.NEGATIVE, headers, [*checks, negative_data_rejection])


# --- 14: conditional file requests and problem+json for every error --------------------------


@pytest.fixture
def manifest(app: Flask, client: FlaskClient, admin: Tenant) -> tuple[str, bytes, str]:
    """A ready version of an empty dataset: its manifest is a file served like the others."""
    resp = client.post("/v1/datasets", json={"name": "cond", "purpose": "eval"},
                       headers=admin.headers)
    assert resp.status_code == 201, resp.get_data(as_text=True)
    resp = client.post("/v1/datasets/cond/versions", json={"message": "m"}, headers=admin.headers)
    assert resp.status_code == 202, resp.get_data(as_text=True)
    run_jobs(app)
    url = "/v1/datasets/cond/versions/1"
    full = client.get(url, headers=admin.headers)
    assert full.status_code == 200, full.get_data(as_text=True)
    assert len(full.get_data()) > 20
    return url, full.get_data(), full.headers["ETag"]


def test_a_failed_if_match_is_a_412_problem_without_the_file(
    client: FlaskClient, admin: Tenant, manifest: tuple[str, bytes, str]
) -> None:
    url, data, etag = manifest
    for other in ('"0000"', 'W/' + etag, '"a", "b"'):
        resp = client.get(url, headers={**admin.headers, "If-Match": other})
        is_problem(resp, 412)
        assert data not in resp.get_data() and b'"splits"' not in resp.get_data()
        assert resp.headers["ETag"] == etag
    resp = client.get(url, headers={**admin.headers, "If-Match": '"0000"', "Range": "bytes=5-"})
    is_problem(resp, 412)


def test_if_match_star_or_the_etag_sends_the_file(
    client: FlaskClient, admin: Tenant, manifest: tuple[str, bytes, str]
) -> None:
    url, data, etag = manifest
    for match in ("*", etag, f'"other", {etag}'):
        resp = client.get(url, headers={**admin.headers, "If-Match": match})
        assert resp.status_code == 200 and resp.get_data() == data
    resp = client.get(url, headers={**admin.headers, "If-Match": etag, "Range": "bytes=5-"})
    assert resp.status_code == 206 and resp.get_data() == data[5:]


def test_a_matching_if_none_match_is_a_304_even_with_range(
    client: FlaskClient, admin: Tenant, manifest: tuple[str, bytes, str]
) -> None:
    url, data, etag = manifest
    for match in (etag, "W/" + etag, "*"):
        resp = client.get(url, headers={**admin.headers, "If-None-Match": match,
                                        "Range": "bytes=5-"})
        assert resp.status_code == 304 and not resp.get_data()
        assert resp.headers["ETag"] == etag and "Content-Range" not in resp.headers
    resp = client.get(url, headers={**admin.headers, "If-None-Match": '"other"',
                                    "Range": "bytes=5-"})
    assert resp.status_code == 206 and resp.get_data() == data[5:]
    assert resp.headers["Content-Range"] == f"bytes 5-{len(data) - 1}/{len(data)}"


def test_if_range_and_dates(
    client: FlaskClient, admin: Tenant, manifest: tuple[str, bytes, str]
) -> None:
    url, data, etag = manifest
    resp = client.get(url, headers={**admin.headers, "If-Range": '"other"', "Range": "bytes=5-"})
    assert resp.status_code == 200 and resp.get_data() == data
    resp = client.get(url, headers={**admin.headers, "If-Range": etag, "Range": "bytes=5-"})
    assert resp.status_code == 206 and resp.get_data() == data[5:]
    past, future = "Sat, 01 Jan 2000 00:00:00 GMT", "Fri, 01 Jan 2100 00:00:00 GMT"
    resp = client.get(url, headers={**admin.headers, "If-Unmodified-Since": past})
    is_problem(resp, 412)
    resp = client.get(url, headers={**admin.headers, "If-Modified-Since": future})
    assert resp.status_code == 304 and not resp.get_data()
    # If-None-Match wins over If-Modified-Since.
    resp = client.get(url, headers={**admin.headers, "If-Modified-Since": future,
                                    "If-None-Match": '"other"'})
    assert resp.status_code == 200 and resp.get_data() == data


def test_an_unsatisfiable_range_is_a_416_problem(
    client: FlaskClient, admin: Tenant, manifest: tuple[str, bytes, str]
) -> None:
    url, data, _etag = manifest
    resp = client.get(url, headers={**admin.headers, "Range": f"bytes={len(data) + 10}-"})
    is_problem(resp, 416)
    assert resp.headers["Content-Range"] == f"bytes */{len(data)}"


def test_405_and_options(client: FlaskClient, admin: Tenant) -> None:
    resp = client.patch("/v1/events", json={}, headers=admin.headers)
    body = is_problem(resp, 405)
    assert "PATCH" in body["detail"] and "POST" in resp.headers["Allow"]
    resp = client.put("/v1/events/e-1", headers=admin.headers)
    assert "GET" in is_problem(resp, 405)["detail"] or "GET" in resp.headers["Allow"]
    for headers in (admin.headers, {}):  # OPTIONS says what is allowed, without a key
        resp = client.options("/v1/events", headers=headers)
        assert resp.status_code == 204 and not resp.get_data()
        assert "Content-Type" not in resp.headers
        assert {"GET", "POST"} <= {m.strip() for m in resp.headers["Allow"].split(",")}
    is_problem(client.options("/v1/nowhere"), 404)


def test_the_frameworks_own_errors_are_problems(
    client: FlaskClient, admin: Tenant, settings: Settings
) -> None:
    too_big = b'{"events": [' + b" " * settings.max_body_bytes + b"]}"
    resp = client.post("/v1/events", data=too_big, content_type="application/json",
                       headers=admin.headers)
    is_problem(resp, 413)
    resp = client.get("/v1/events?generation_id=" + "a" * 9000, headers=admin.headers)
    is_problem(resp, 414)
    resp = client.get("/v1/" + "a" * 9000, headers=admin.headers)
    is_problem(resp, 414)
