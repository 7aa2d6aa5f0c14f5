"""The Label Studio webhook's shared secret. Checking it needs no Label Studio: the hook is
answered by Winnow alone, against a Label Studio project row recorded in Winnow's database."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app.cli import make_app
from app.config import Settings
from app.models import Annotation, LabelStudioProject
from app.services.projects import create_project
from tests.helpers import is_problem, run_jobs

SECRET = "test-webhook-secret-" + uuid.uuid4().hex
HEADER = "X-Winnow-Webhook-Secret"
LS_PROJECT = 4242


@pytest.fixture
def hook_app(settings: Settings) -> Any:
    from pydantic import SecretStr

    app = make_app(settings.model_copy(
        update={"label_studio_webhook_secret": SecretStr(SECRET)}))
    with app.extensions["winnow"].db.session() as session:
        project = create_project(session, "acme")
        session.add(LabelStudioProject(project_id=project.id, kind="review",
                                       ls_project_id=LS_PROJECT, config_sha256="0" * 64))
    yield app
    app.extensions["winnow"].db.dispose()


def payload(project: int = LS_PROJECT) -> dict[str, Any]:
    return {
        "action": "ANNOTATION_CREATED",
        "project": {"id": project},
        "task": {"id": 1},
        "annotation": {"id": 1, "task": 1},
    }


def queued(app: Flask) -> int:
    from workers.queue import InProcessJobQueue

    queue = app.extensions["winnow"].queue
    if isinstance(queue, InProcessJobQueue):
        return int(queue._counter)
    return int(queue.queue.count)


def annotation_count(app: Flask) -> int:
    with app.extensions["winnow"].db.session() as session:
        return int(session.scalar(select(func.count()).select_from(Annotation)) or 0)


def test_a_forged_or_missing_secret_is_refused_and_enqueues_nothing(hook_app: Flask) -> None:
    client = hook_app.test_client()
    before = queued(hook_app)
    for headers in (
        {},
        {HEADER: "guess"},
        {HEADER: SECRET[:-1]},
        {HEADER: SECRET + "x"},
        {HEADER: SECRET.upper()},
    ):
        resp = client.post("/v1/hooks/label-studio", json=payload(), headers=headers)
        body = is_problem(resp, 401)
        assert SECRET not in resp.get_data(as_text=True) and HEADER in body["detail"]
    assert queued(hook_app) == before
    ok = client.post("/v1/hooks/label-studio", json=payload(), headers={HEADER: SECRET})
    assert ok.status_code == 202 and ok.get_json()["tasks"] == [1]
    assert ok.get_json()["job_id"]
    assert queued(hook_app) == before + 1


def test_the_secret_is_checked_before_the_body_is_read(hook_app: Flask) -> None:
    client = hook_app.test_client()
    # Without the secret, even a malformed body is a 401: nothing about the body leaks.
    resp = client.post("/v1/hooks/label-studio", data=b"{not json",
                       headers={"Content-Type": "application/json"})
    is_problem(resp, 401)


def test_with_the_secret_bad_bodies_are_clear_problems(hook_app: Flask) -> None:
    client: FlaskClient = hook_app.test_client()
    headers = {HEADER: SECRET}
    bad = client.post("/v1/hooks/label-studio", data=b"{not json",
                      headers={**headers, "Content-Type": "application/json"})
    is_problem(bad, 400)
    wrong = client.post("/v1/hooks/label-studio", json={"action": 5, "project": {"id": "x"}},
                        headers=headers)
    body = is_problem(wrong, 422)
    assert {e["pointer"] for e in body["errors"]} >= {"/action", "/project/id"}
    unknown = client.post("/v1/hooks/label-studio", json=payload(999_999), headers=headers)
    is_problem(unknown, 404)
    run_jobs(hook_app)
    assert annotation_count(hook_app) == 0


def test_the_hook_is_off_without_a_secret(settings: Settings) -> None:
    app = make_app(settings)  # no WINNOW_LABEL_STUDIO_WEBHOOK_SECRET
    try:
        resp = app.test_client().post("/v1/hooks/label-studio", json=payload(),
                                      headers={HEADER: "anything"})
        body = is_problem(resp, 404)
        assert "WINNOW_LABEL_STUDIO_WEBHOOK_SECRET" in body["detail"]
    finally:
        app.extensions["winnow"].db.dispose()
