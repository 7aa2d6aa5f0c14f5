"""Every limit at its exact boundary: the limit itself is accepted, one more is refused with a
problem, and a refused request stores nothing (events, conversations, the Label Studio hook)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson
import pytest
from flask import Flask
from flask.testing import FlaskClient
from pydantic import SecretStr
from sqlalchemy import func, select

from app.cli import make_app
from app.config import Settings
from app.models import Event, Item, LabelStudioProject
from app.payloads.conversations import MAX_MESSAGE_CHARS, MAX_MESSAGES
from app.services.projects import create_project
from tests.conftest import MakeTenant
from tests.helpers import Tenant, conversation, event, is_problem
from workers.queue import InProcessJobQueue

REVIEWER = ("events:write", "events:read", "items:read")
SECRET = "boundary-secret"
LS_PROJECT = 777


@pytest.fixture
def writer(make_tenant: MakeTenant) -> Tenant:
    return make_tenant(scopes=REVIEWER)


@contextmanager
def held_queue(app: Flask) -> Iterator[None]:
    """Nothing curates while this holds: the embedded queue's thread waits on a gate and the
    jobs queued meanwhile are dropped on exit (RQ runs nothing without a worker; the
    redis_client fixture empties it). Screening is not what these tests are about."""
    queue = app.extensions["winnow"].queue
    gate = threading.Event()
    if isinstance(queue, InProcessJobQueue):
        queue.enqueue(gate.wait, 60)
    try:
        yield
    finally:
        if isinstance(queue, InProcessJobQueue):
            while not queue._jobs.empty():
                queue._jobs.get_nowait()
                queue._jobs.task_done()
        gate.set()


def padded(payload: Any, size: int) -> bytes:
    """`payload` as JSON of exactly `size` bytes (trailing whitespace is valid JSON)."""
    body = orjson.dumps(payload)
    assert len(body) <= size, (len(body), size)
    return body + b" " * (size - len(body))


def post(client: FlaskClient, path: str, body: bytes, headers: dict[str, str]) -> Any:
    return client.post(path, data=body, headers={**headers, "Content-Type": "application/json"})


def count(app: Flask, model: type[Any]) -> int:
    with app.extensions["winnow"].db.session() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_an_event_body_of_exactly_the_limit_is_accepted_one_byte_more_refused(
    app: Flask, client: FlaskClient, writer: Tenant, settings: Settings
) -> None:
    limit = settings.max_body_bytes
    over = post(client, "/v1/events", padded(event("big"), limit + 1), writer.headers)
    problem = is_problem(over, 413)
    assert problem["detail"] == "request body too large"
    assert count(app, Event) == 0
    exact = post(client, "/v1/events", padded(event("big"), limit), writer.headers)
    assert exact.status_code == 201, exact.get_data(as_text=True)[:300]
    assert count(app, Event) == 1


def test_a_conversation_body_of_exactly_the_limit_is_accepted_one_byte_more_refused(
    app: Flask, client: FlaskClient, writer: Tenant, settings: Settings
) -> None:
    limit = settings.max_body_bytes
    with held_queue(app):
        over = post(client, "/v1/conversations", padded(conversation("c"), limit + 1),
                    writer.headers)
        is_problem(over, 413)
        assert count(app, Item) == 0
        exact = post(client, "/v1/conversations", padded(conversation("c"), limit),
                     writer.headers)
        assert exact.status_code == 201, exact.get_data(as_text=True)[:300]
        assert count(app, Item) == 1


def test_the_webhook_body_of_exactly_the_limit_is_accepted_one_byte_more_refused(
    settings: Settings,
) -> None:
    app = make_app(settings.model_copy(
        update={"label_studio_webhook_secret": SecretStr(SECRET)}))
    try:
        with app.extensions["winnow"].db.session() as session:
            project = create_project(session, "acme")
            session.add(LabelStudioProject(project_id=project.id, kind="review",
                                           ls_project_id=LS_PROJECT, config_sha256="0" * 64))
        client = app.test_client()
        hook = {"action": "ANNOTATION_CREATED", "project": {"id": LS_PROJECT},
                "task": {"id": 3}, "annotation": {"id": 9, "task": 3}}
        headers = {"X-Winnow-Webhook-Secret": SECRET}
        limit = settings.max_body_bytes
        with held_queue(app):
            is_problem(post(client, "/v1/hooks/label-studio", padded(hook, limit + 1), headers),
                       413)
            exact = post(client, "/v1/hooks/label-studio", padded(hook, limit), headers)
            assert exact.status_code == 202, exact.get_data(as_text=True)[:300]
            assert exact.get_json()["tasks"] == [3]
    finally:
        app.extensions["winnow"].db.dispose()


def test_an_event_batch_of_1000_is_accepted_and_1001_refused_whole(
    app: Flask, client: FlaskClient, writer: Tenant
) -> None:
    assert app.config["WINNOW_MAX_BATCH"] == 1000
    too_many = {"events": [event(f"b{i}") for i in range(1001)]}
    problem = is_problem(client.post("/v1/events", json=too_many, headers=writer.headers), 413)
    assert "1001" in problem["detail"] and "1000" in problem["detail"]
    assert count(app, Event) == 0
    batch = {"events": [event(f"b{i}") for i in range(1000)]}
    resp = client.post("/v1/events", json=batch, headers=writer.headers)
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    assert resp.get_json()["summary"]["created"] == 1000
    assert count(app, Event) == 1000


def test_a_conversation_batch_of_1000_is_accepted_and_1001_refused_whole(
    app: Flask, client: FlaskClient, writer: Tenant
) -> None:
    with held_queue(app):
        too_many = {"conversations": [conversation(f"c{i}") for i in range(1001)]}
        resp = client.post("/v1/conversations", json=too_many, headers=writer.headers)
        is_problem(resp, 413)
        assert count(app, Item) == 0
        batch = {"conversations": [conversation(f"c{i}") for i in range(1000)]}
        resp = client.post("/v1/conversations", json=batch, headers=writer.headers)
        assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
        assert resp.get_json()["summary"]["created"] == 1000
        assert count(app, Item) == 1000


def _messages(n: int, text: str = "hi") -> list[dict[str, str]]:
    return [{"role": "user" if i % 2 == 0 else "assistant", "content": text} for i in range(n)]


def test_message_count_at_the_limit_is_accepted_one_more_refused(
    app: Flask, client: FlaskClient, writer: Tenant
) -> None:
    with held_queue(app):
        over = dict(conversation("many"), messages=_messages(MAX_MESSAGES + 1))
        problem = is_problem(client.post("/v1/conversations", json=over, headers=writer.headers),
                             422)
        assert [e["pointer"] for e in problem["errors"]] == ["/messages"]
        assert count(app, Item) == 0
        exact = dict(conversation("many"), messages=_messages(MAX_MESSAGES))
        resp = client.post("/v1/conversations", json=exact, headers=writer.headers)
        assert resp.status_code == 201, resp.get_data(as_text=True)[:300]
        with app.extensions["winnow"].db.session() as session:
            assert session.scalar(select(Item.turns)) == MAX_MESSAGES


@pytest.mark.parametrize("char", ["a", "é", "😀"])  # the limit counts characters, not bytes
def test_message_length_at_the_limit_is_accepted_one_more_refused(
    app: Flask, client: FlaskClient, writer: Tenant, char: str
) -> None:
    with held_queue(app):
        over = conversation("long", "u", "question?", char * (MAX_MESSAGE_CHARS + 1))
        resp = client.post("/v1/conversations", json=over, headers=writer.headers)
        problem = is_problem(resp, 422)
        assert [e["pointer"] for e in problem["errors"]] == ["/messages/1/content"]
        assert char * 20 not in resp.get_data(as_text=True)  # the text is not echoed back
        assert count(app, Item) == 0
        exact = conversation("long", "u", "question?", char * MAX_MESSAGE_CHARS)
        resp = client.post("/v1/conversations", json=exact, headers=writer.headers)
        assert resp.status_code == 201, resp.get_data(as_text=True)[:300]
        assert count(app, Item) == 1
