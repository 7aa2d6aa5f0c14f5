"""Annotation against a real Label Studio (scripts/labelstudio.sh; `bash scripts/test` starts it).

Each test gets a Winnow app served over HTTP on 127.0.0.1 (so Label Studio's webhooks reach it),
its own Winnow project, and the Label Studio projects `winnow labelstudio setup` creates for it
(deleted afterwards).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.serving import make_server

from app.cli import make_app
from app.config import Settings
from app.models import Annotation, Item, LabelStudioProject, Project
from tests.conftest import IN_CI, MakeTenant
from tests.helpers import Tenant, conversation, event, is_problem, run_jobs

LS_URL = os.environ.get("WINNOW_TEST_LABEL_STUDIO_URL")
LS_TOKEN = os.environ.get("WINNOW_TEST_LABEL_STUDIO_TOKEN")
ROOT = Path(__file__).resolve().parents[2]
SECRET = "test-webhook-secret-" + uuid.uuid4().hex


def need_label_studio() -> None:
    if LS_URL and LS_TOKEN:
        return
    message = "WINNOW_TEST_LABEL_STUDIO_URL / _TOKEN not set: run `bash scripts/test`"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def ls() -> Any:
    need_label_studio()
    from label_studio_sdk import LabelStudio

    return LabelStudio(base_url=LS_URL, api_key=LS_TOKEN)


class Served:
    """The app on a real port, so Label Studio can call its webhook."""

    def __init__(self, app: Flask) -> None:
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture
def ls_settings(settings: Settings) -> Settings:
    need_label_studio()
    return settings.model_copy(
        update={
            "label_studio_url": LS_URL,
            "label_studio_token": LS_TOKEN,
            "label_studio_webhook_secret": SECRET,
        }
    )


@pytest.fixture
def served(ls_settings: Settings, ls: Any) -> Iterator[tuple[Flask, Served]]:
    # The public URL is only known once the server listens: build the app, serve it, then
    # give it the URL (setup reads settings at call time).
    from pydantic import SecretStr

    settings = ls_settings.model_copy(
        update={
            "label_studio_webhook_secret": SecretStr(SECRET),
            "label_studio_token": SecretStr(LS_TOKEN or ""),
        }
    )
    application = make_app(settings)
    server = Served(application)
    settings_with_url = settings.model_copy(update={"public_url": server.url})
    application.config["WINNOW_SETTINGS"] = settings_with_url
    from app import runtime

    runtime.current().settings = settings_with_url
    yield application, server
    server.close()
    with application.extensions["winnow"].db.session() as session:
        for row in session.scalars(select(LabelStudioProject)):
            with suppress(Exception):
                ls.projects.delete(id=row.ls_project_id)
    application.extensions["winnow"].db.dispose()


def setup_ls(app: Flask, slug: str) -> dict[str, int]:
    from app.labelstudio import connect
    from workers.labelstudio.setup import setup_project

    settings = app.config["WINNOW_SETTINGS"]
    with app.extensions["winnow"].db.session() as session:
        project = session.scalar(select(Project).where(Project.slug == slug))
        assert project is not None
        results = setup_project(session, project, settings, connect(settings))
    return {r.kind: r.ls_project_id for r in results}


@contextmanager
def without_auto_push(app: Flask) -> Iterator[None]:
    """Curation enqueues no push while this holds (Label Studio looks unconfigured to it)."""
    from app import runtime

    settings = app.config["WINNOW_SETTINGS"]
    runtime.current().settings = settings.model_copy(update={"label_studio_url": None})
    try:
        yield
    finally:
        runtime.current().settings = settings


def wait_for(check: Callable[[], Any], seconds: float = 20.0) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


def tenant_for(app: Flask, make: MakeTenant | None = None) -> Tenant:
    from app.services.keys import create_key
    from app.services.projects import create_project

    slug = "ls-" + uuid.uuid4().hex[:8]
    with app.extensions["winnow"].db.session() as session:
        project = create_project(session, slug)
        issued = create_key(
            session, project, "test", ("events:write", "events:read", "items:read", "items:review")
        )
        return Tenant(slug, project.id, issued.token)


def start(served: tuple[Flask, Served]) -> tuple[Flask, FlaskClient, Tenant, dict[str, int]]:
    """The served app, a client, a fresh Winnow project with a key, and its Label Studio
    projects (kind -> id)."""
    app, _ = served
    tenant = tenant_for(app)
    return app, app.test_client(), tenant, setup_ls(app, tenant.slug)


def share(
    client: FlaskClient, tenant: Tenant, cid: str, *texts: str, feedback: str | None = None
) -> None:
    gen = f"gen-{cid}"
    resp = client.post(
        "/v1/conversations",
        headers=tenant.headers,
        json=conversation(cid, f"user-{cid}", *texts, generation_id=gen),
    )
    assert resp.status_code == 201, resp.get_data(as_text=True)
    if feedback:
        resp = client.post(
            "/v1/events",
            headers=tenant.headers,
            json=event(f"{cid}-fb", type=feedback, generation=gen),
        )
        assert resp.status_code in (200, 201), resp.get_data(as_text=True)


def items_of(app: Flask, project_id: int) -> list[Item]:
    with app.extensions["winnow"].db.session() as session:
        return list(
            session.scalars(select(Item).where(Item.project_id == project_id).order_by(Item.id))
        )


def annotations_of(app: Flask, project_id: int) -> list[Annotation]:
    with app.extensions["winnow"].db.session() as session:
        return list(
            session.scalars(
                select(Annotation)
                .where(Annotation.project_id == project_id)
                .order_by(Annotation.id)
            )
        )


def ls_tasks(ls: Any, ls_project: int) -> list[dict[str, Any]]:
    return [t.model_dump() for t in ls.tasks.list(project=ls_project, fields="all", page_size=100)]


BAD = [
    {
        "from_name": "verdict",
        "to_name": "dialogue",
        "type": "choices",
        "value": {"choices": ["bad"]},
    },
    {
        "from_name": "failure_modes",
        "to_name": "dialogue",
        "type": "choices",
        "value": {"choices": ["hallucination", "wrong or incomplete"]},
    },
    {
        "from_name": "correction",
        "to_name": "dialogue",
        "type": "textarea",
        "value": {"text": ["Go to Settings > Security > Reset password."]},
    },
    {"from_name": "rating", "to_name": "dialogue", "type": "rating", "value": {"rating": 2}},
]


QUESTIONS = [
    "How do I export a report as CSV?",
    "Why does my invoice show VAT twice?",
    "Can I change the billing date of my subscription?",
    "What happens to shared folders when a member leaves the team?",
    "Is there a keyboard shortcut for duplicating a slide?",
    "How long are deleted files kept in the trash?",
    "Which browsers does the desktop editor support?",
    "Can two people edit the same spreadsheet cell at once?",
    "How do I turn off email notifications for comments?",
    "Where can I see the audit log of my workspace?",
    "What is the maximum upload size for a video?",
    "Does the mobile app work offline?",
]


def test_label_configs_are_accepted_and_a_broken_one_refused(ls: Any) -> None:
    from workers.labelstudio.setup import CONFIGS, label_config

    for kind in CONFIGS:
        project = ls.projects.create(title=f"config check {kind}", label_config=label_config(kind))
        try:
            assert project.id
        finally:
            ls.projects.delete(id=project.id)
    from label_studio_sdk.core.api_error import ApiError

    broken = label_config("review").replace('toName="dialogue"', 'toName="nowhere"', 1)
    with pytest.raises(ApiError) as refused:
        ls.projects.create(title="config check broken", label_config=broken)
    assert refused.value.status_code == 400


def test_share_curate_push_annotate_and_the_webhook_brings_it_back(
    served: tuple[Flask, Served], ls: Any
) -> None:
    app, client, tenant, ids = start(served)
    assert setup_ls(app, tenant.slug) == ids  # idempotent: same projects, no second webhook
    hooks = [h for h in ls.webhooks.list(project=str(ids["review"])) if h.project == ids["review"]]
    assert len(hooks) == 1

    share(
        client,
        tenant,
        "c1",
        "Hi, I'm Maria Gonzalez, maria.g@example.com. How do I reset my password?",
        "Open Settings, then Security.",
        feedback="thumbs_down",
    )
    share(client, tenant, "c2", "What is the capital of France?", "Paris.", feedback="accept")
    run_jobs(app)  # curation, then the push it enqueues
    run_jobs(app)
    items = items_of(app, tenant.project_id)
    assert [i.state for i in items] == ["in_annotation", "in_annotation"]
    tasks = {t["data"]["winnow_item"]: t for t in ls_tasks(ls, ids["review"])}
    assert set(tasks) == {i.id for i in items}
    first = tasks[items[0].id]
    assert items[0].ls_task_id == first["id"]
    text = str(first["data"])
    assert "Maria" not in text and "maria.g@example.com" not in text and "<PERSON_1>" in text
    (prediction,) = first["predictions"]
    assert prediction["model_version"] == "user-feedback:thumbs_down"
    assert prediction["result"][0]["value"] == {"choices": ["bad"]}
    assert tasks[items[1].id]["predictions"][0]["model_version"] == "user-feedback:accept"

    created = ls.annotations.create(id=first["id"], result=BAD, lead_time=4.5)
    stored = wait_for(lambda: (run_jobs(app), annotations_of(app, tenant.project_id))[1])
    assert len(stored) == 1
    a = stored[0]
    assert (a.item_id, a.ls_annotation_id, a.verdict) == (items[0].id, created.id, "bad")
    assert a.failure_modes == ["hallucination", "wrong_or_incomplete"]
    assert a.correction == "Go to Settings > Security > Reset password." and a.rating == 2
    assert a.annotator == "admin@winnow.test" and a.lead_time == 4.5 and a.deleted_at is None

    ls.annotations.update(id=created.id, result=[BAD[0] | {"value": {"choices": ["good"]}}])
    assert wait_for(
        lambda: (run_jobs(app), annotations_of(app, tenant.project_id)[0].verdict == "good")[1]
    )
    ls.annotations.delete(id=created.id)
    gone = wait_for(
        lambda: (run_jobs(app), annotations_of(app, tenant.project_id)[0].deleted_at)[1]
    )
    assert gone is not None
    # A repeated push creates nothing new.
    from workers.labelstudio.push import push_project

    assert push_project(tenant.project_id).created == 0
    assert len(ls_tasks(ls, ids["review"])) == 2


def test_the_periodic_sync_brings_what_a_lost_webhook_missed(
    served: tuple[Flask, Served], ls: Any
) -> None:
    app, _ = served
    client = app.test_client()
    tenant = tenant_for(app)
    # No public URL: no webhook registered (as if every webhook were lost).
    app.config["WINNOW_SETTINGS"] = app.config["WINNOW_SETTINGS"].model_copy(
        update={"public_url": None}
    )
    from app import runtime

    runtime.current().settings = app.config["WINNOW_SETTINGS"]
    ids = setup_ls(app, tenant.slug)
    assert not [
        h for h in ls.webhooks.list(project=str(ids["review"])) if h.project == ids["review"]
    ]
    share(
        client,
        tenant,
        "c1",
        "How long do refunds take?",
        "Five to seven days.",
        feedback="thumbs_up",
    )
    run_jobs(app)
    run_jobs(app)
    (item,) = items_of(app, tenant.project_id)
    ls.annotations.create(id=item.ls_task_id, result=BAD[:1], lead_time=1.0)
    run_jobs(app)
    assert annotations_of(app, tenant.project_id) == []
    from workers.labelstudio.schedule import annotation_round

    assert annotation_round() >= 1  # what `winnow worker` / `winnow up` run periodically
    run_jobs(app)
    (stored,) = annotations_of(app, tenant.project_id)
    assert stored.verdict == "bad" and stored.item_id == item.id


# The webhook secret needs no Label Studio: tests/api/test_webhook_secret.py.


def test_pushing_while_label_studio_is_stopped_then_started_creates_each_task_once(
    served: tuple[Flask, Served], ls: Any
) -> None:
    from app.labelstudio import Unavailable
    from workers.labelstudio.push import push_project

    app, client, tenant, ids = start(served)
    script = ROOT / "scripts" / "labelstudio.sh"
    subprocess.run(["bash", str(script), "stop"], check=True, capture_output=True)
    try:
        with without_auto_push(app):  # the queue would retry it with backoff: push by hand
            for i, question in enumerate(QUESTIONS):
                share(
                    client,
                    tenant,
                    f"c{i}",
                    question,
                    "Here is what I found.",
                    feedback="thumbs_down" if i % 3 == 0 else "copy",
                )
            run_jobs(app)
        with pytest.raises(Unavailable):
            push_project(tenant.project_id)
        # Nothing was claimed (asking how full the project is failed first): each item waits,
        # saying why.
        states = {i.state for i in items_of(app, tenant.project_id)}
        assert states == {"accepted"}
        assert all(i.push_error for i in items_of(app, tenant.project_id))
        ready = client.get("/readyz").get_json()
        assert ready["checks"]["label_studio"].startswith("unreachable")
    finally:
        subprocess.run(["bash", str(script), "start"], check=True, capture_output=True)
    result = push_project(tenant.project_id)
    assert result.created == len(QUESTIONS) and result.waiting == 0
    assert push_project(tenant.project_id).created == 0
    run_jobs(app)
    tasks = ls_tasks(ls, ids["review"])
    assert sorted(t["data"]["winnow_item"] for t in tasks) == [
        i.id for i in items_of(app, tenant.project_id)
    ]
    assert client.get("/readyz").get_json()["checks"]["label_studio"] == "ok"


def test_a_full_label_studio_project_rolls_over_to_the_next(
    served: tuple[Flask, Served], ls: Any
) -> None:
    from app import runtime
    from workers.labelstudio.push import push_project
    from workers.labelstudio.schedule import annotation_round

    app, client, tenant, ids = start(served)
    settings = app.config["WINNOW_SETTINGS"]
    small = settings.model_copy(update={"label_studio_tasks_per_project": 3,
                                        "push_batch_size": 2})
    app.config["WINNOW_SETTINGS"] = small
    with without_auto_push(app):
        for i, question in enumerate(QUESTIONS[:4]):
            share(client, tenant, f"c{i}", question, "Use the menu.")
        run_jobs(app)
    runtime.current().settings = small
    assert push_project(tenant.project_id).created == 4
    with app.extensions["winnow"].db.session() as session:
        rows = [(r.number, r.ls_project_id, r.webhook_id) for r in session.scalars(
            select(LabelStudioProject).where(LabelStudioProject.project_id == tenant.project_id,
                                             LabelStudioProject.kind == "review")
            .order_by(LabelStudioProject.number))]
    assert [n for n, _, _ in rows] == [1, 2] and rows[0][1] == ids["review"]
    first, second = (ls_tasks(ls, p) for _, p, _ in rows)
    assert (len(first), len(second)) == (3, 1)  # full at 3; the rest in the next
    assert rows[1][2] is not None  # its webhook too
    assert ls.projects.get(id=rows[1][1]).title.endswith("conversation review (2)")
    by_item = {t["data"]["winnow_item"]: t["id"] for t in first + second}
    assert {i.id: i.ls_task_id for i in items_of(app, tenant.project_id)} == by_item

    # The next items go to the newest project, which has room; setup keeps both up to date.
    with without_auto_push(app):
        share(client, tenant, "c9", QUESTIONS[9], "Use the menu.")
        run_jobs(app)
    runtime.current().settings = small
    assert push_project(tenant.project_id).created == 1
    assert len(ls_tasks(ls, rows[1][1])) == 2 and len(ls_tasks(ls, rows[0][1])) == 3
    again = setup_ls(app, tenant.slug)
    assert again["review"] == rows[1][1]
    with app.extensions["winnow"].db.session() as session:
        assert session.scalar(select(func.count()).select_from(LabelStudioProject).where(
            LabelStudioProject.project_id == tenant.project_id)) == 3  # 2 review, 1 pairwise

    # Annotations come back from both (webhooks, and the periodic sync reads every project).
    (older,) = [t for t in first if t["data"]["winnow_item"] == min(by_item)]
    ls.annotations.create(id=older["id"], result=BAD[:1], lead_time=1.0)
    ls.annotations.create(id=second[0]["id"], result=BAD[:1], lead_time=1.0)
    assert annotation_round() >= 1
    run_jobs(app)
    stored = wait_for(lambda: (run_jobs(app), annotations_of(app, tenant.project_id))[1])
    assert sorted(a.item_id for a in stored) == sorted(
        [older["data"]["winnow_item"], second[0]["data"]["winnow_item"]])


def test_a_push_that_died_after_importing_is_reconciled_not_repeated(
    served: tuple[Flask, Served], ls: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A fake for a fault we cannot time for real: the process dying between Label Studio's
    # answer and Winnow recording the task ids.
    from workers.labelstudio import claims, push

    app, client, tenant, ids = start(served)
    with without_auto_push(app):
        for i, question in enumerate(QUESTIONS[:5]):
            share(client, tenant, f"c{i}", question, "Use the menu.")
        run_jobs(app)

    def died(lane: Any, tasks: dict[int, int]) -> None:
        raise KeyboardInterrupt("worker killed")

    monkeypatch.setattr(claims, "record", died)
    with pytest.raises(KeyboardInterrupt):
        push.push_project(tenant.project_id)
    monkeypatch.undo()
    assert len(ls_tasks(ls, ids["review"])) == 5
    assert {i.ls_task_id for i in items_of(app, tenant.project_id)} == {None}
    result = push.push_project(tenant.project_id)
    assert (result.created, result.recovered, result.waiting) == (0, 5, 0)
    tasks = ls_tasks(ls, ids["review"])
    assert len(tasks) == 5
    by_item = {t["data"]["winnow_item"]: t["id"] for t in tasks}
    assert {i.id: i.ls_task_id for i in items_of(app, tenant.project_id)} == by_item


def test_no_label_studio_task_holds_a_pii_value_from_the_corpus(
    served: tuple[Flask, Served], ls: Any
) -> None:
    from tests.integration.test_pii_privacy import fully_masked_records

    app, client, tenant, ids = start(served)
    records = fully_masked_records(25)
    for i, (text, _values) in enumerate(records):
        share(client, tenant, f"pii-{i}", text, f"Noted: {text}", feedback="thumbs_up")
    run_jobs(app)
    run_jobs(app)
    tasks = ls_tasks(ls, ids["review"])
    assert (
        len(tasks)
        == len({i.id for i in items_of(app, tenant.project_id) if i.state == "in_annotation"})
        > 0
    )
    dump = repr(tasks)
    assert "<PERSON_1>" in dump or "<EMAIL_ADDRESS_1>" in dump  # the search sees the text
    for _, values in records:
        for value in values:
            assert value not in dump, f"a PII value (len {len(value)}) reached Label Studio"


def test_agreement_per_item_and_project_and_what_feedback_predicts(
    served: tuple[Flask, Served], ls: Any
) -> None:
    app, client, tenant, _ = start(served)
    for i, (question, fb) in enumerate(
        zip(QUESTIONS[:3], ["thumbs_down", "accept", "regenerate"], strict=True)
    ):
        share(client, tenant, f"c{i}", question, "An answer.", feedback=fb)
    run_jobs(app)
    run_jobs(app)
    items = items_of(app, tenant.project_id)
    suffix = uuid.uuid4().hex[:8]
    other = ls.users.create(
        username=f"ann-{suffix}", email=f"ann-{suffix}@winnow.test", password=uuid.uuid4().hex
    )
    me = next(u for u in ls.users.list() if u.email == "admin@winnow.test")
    verdicts = {
        items[0].ls_task_id: ("bad", "bad"),
        items[1].ls_task_id: ("good", "bad"),
        items[2].ls_task_id: ("good", "good"),
    }
    for task_id, pair in verdicts.items():
        for user, verdict in zip((me.id, other.id), pair, strict=True):
            ls.annotations.create(
                id=task_id, completed_by=user, result=[BAD[0] | {"value": {"choices": [verdict]}}]
            )
    wait_for(lambda: (run_jobs(app), len(annotations_of(app, tenant.project_id)) == 6)[1])
    from workers.labelstudio.sync import sync_project

    sync_project(tenant.project_id)  # the webhooks may race; the sync settles it
    assert len(annotations_of(app, tenant.project_id)) == 6
    with app.extensions["winnow"].db.session() as session:
        from app.services.keys import create_key

        project = session.get_one(Project, tenant.project_id)
        token = create_key(session, project, "read", ("items:read",)).token
    resp = client.get(
        f"/v1/projects/{tenant.slug}/agreement", headers={"Authorization": f"Bearer {token}"}
    )
    assert resp.status_code == 200, resp.get_data(as_text=True)
    body = resp.get_json()
    assert (body["annotations"], body["annotators"], body["items_with_overlap"]) == (6, 2, 3)
    assert body["percent_agreement"] == pytest.approx(2 / 3, abs=1e-3)
    # (b,b) (g,b) (g,g): coincidences bb 2, gg 2, gb 2 -> alpha = 4/9
    assert body["krippendorff_alpha"] == pytest.approx(4 / 9, abs=1e-3)
    by = {f["feedback"]: (f["items"], f["agree"]) for f in body["feedback"]}
    assert by == {"thumbs_down": (1, 1), "regenerate": (1, 0)}  # item 2 is a tie: no majority
    assert {i["item_id"] for i in body["items"]} == {"c0", "c1", "c2"}
    other_project = client.get(
        "/v1/projects/someone-else/agreement", headers={"Authorization": f"Bearer {token}"}
    )
    is_problem(other_project, 404)


def test_a_tweak_becomes_a_pairwise_task_screened_and_its_preference_comes_back(
    served: tuple[Flask, Served], ls: Any
) -> None:
    app, client, tenant, ids = start(served)
    share(
        client,
        tenant,
        "c1",
        "Draft a reply to the landlord about the broken heater.",
        "Dear landlord, the heater is broken. Please fix it.",
    )
    tweak = (
        "Dear Mr. Jonathan Whitfield, the heater in flat 4 has been broken since Monday. "
        "Please call me on 0161 496 0725 or write to ana.ruiz@example.net."
    )
    resp = client.post(
        "/v1/events",
        headers=tenant.headers,
        json=event("c1-tweak", type="tweak", generation="gen-c1", text=tweak),
    )
    assert resp.status_code in (200, 201), resp.get_data(as_text=True)
    share(client, tenant, "c2", "What is two plus two?", "Four.")  # no tweak: no pair
    run_jobs(app)
    run_jobs(app)
    items = items_of(app, tenant.project_id)
    (pair,) = ls_tasks(ls, ids["pairwise"])
    assert pair["data"]["winnow_item"] == items[0].id == items[0].id
    assert items[0].ls_pair_task_id == pair["id"] and items[1].ls_pair_task_id is None
    shown = str(pair["data"])
    for secret in ("Whitfield", "0161 496 0725", "ana.ruiz@example.net"):
        assert secret not in shown
    assert pair["data"]["original"] == "Dear landlord, the heater is broken. Please fix it."
    assert "<EMAIL_ADDRESS_1>" in pair["data"]["tweaked"]
    assert pair["data"]["messages"] == [
        {"role": "user", "content": "Draft a reply to the landlord about the broken heater."}
    ]
    from workers.labelstudio.push import push_project

    assert push_project(tenant.project_id).pairs == 0  # exactly once
    ls.annotations.create(
        id=pair["id"],
        result=[
            {
                "from_name": "preference",
                "to_name": "original",
                "type": "pairwise",
                "value": {"selected": "right"},
            }
        ],
    )
    stored = wait_for(
        lambda: (
            run_jobs(app),
            [a for a in annotations_of(app, tenant.project_id) if a.kind == "pairwise"],
        )[1]
    )
    assert [(a.item_id, a.preference) for a in stored] == [(items[0].id, "tweaked")]


# The lock that expires is Redis's (the embedded mode's process lock has no expiry).
@pytest.mark.parametrize("settings", ["postgresql"], indirect=True)
def test_the_push_lock_is_exclusive_and_kept_alive_while_working(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app import runtime
    from workers.labelstudio import push

    assert settings.redis_url
    application = make_app(settings)
    try:
        monkeypatch.setattr(push, "LOCK_SECONDS", 1)
        runtime.current().settings = settings
        from app.jobs import redis_connection

        with push.project_lock(42) as keepalive:
            for _ in range(3):  # 1.8 s of work: longer than the lock lives unless renewed
                time.sleep(0.6)
                keepalive()
            other = redis_connection(settings.redis_url).lock(
                "winnow:labelstudio:push:42", timeout=5, blocking_timeout=0.2
            )
            assert not other.acquire()  # still held by the working push
        assert other.acquire()
        other.release()
    finally:
        application.extensions["winnow"].db.dispose()


def test_erasure_leaves_nothing_in_the_database_label_studio_or_dataset_files(
    served: tuple[Flask, Served], ls: Any
) -> None:
    """DELETE /v1/users/{id}: the user's rows, Label Studio tasks (review and pairwise) and
    dataset examples are gone; other users' stay; later versions never include them."""
    from app.models import Erasure, Event, Generation
    from app.services.keys import create_key

    app, client, tenant, ids = start(served)
    with app.extensions["winnow"].db.session() as session:
        project = session.get_one(Project, tenant.project_id)
        admin = Tenant(tenant.slug, tenant.project_id, create_key(
            session, project, "admin", ("admin",)).token)
    people = {"alice": ("A", QUESTIONS[:3]), "bob": ("B", QUESTIONS[3:6])}
    for user, (tag, questions) in people.items():
        for n, question in enumerate(questions):
            cid, gen = f"{user}-{n}", f"gen-{user}-{n}"
            assert client.post("/v1/generations", json={
                "id": gen, "model": {"name": "m"}, "user_id": user}, headers=admin.headers
            ).status_code == 201
            body = conversation(cid, user, f"Ticket {tag}{n}: {question}",
                                f"Answer {tag}{n}: see the help centre.", generation_id=gen,
                                conversation_id=f"conv-{user}-{n}")
            assert client.post("/v1/conversations", json=body,
                               headers=admin.headers).status_code == 201
            events = [event(f"{cid}-up", "thumbs_up", gen, user_id=user)]
            if n == 0:  # a tweak: a pairwise task too
                events.append(event(f"{cid}-tw", "tweak", gen, user_id=user,
                                    text=f"Answer {tag}{n}, edited: open the help centre."))
            for e in events:
                assert client.post("/v1/events", json=e, headers=admin.headers).status_code in (
                    200, 201)
    run_jobs(app)
    run_jobs(app)
    items = {i.external_id: i for i in items_of(app, tenant.project_id)}
    assert all(i.ls_task_id for i in items.values()), {k: i.state for k, i in items.items()}
    assert items["alice-0"].ls_pair_task_id and items["bob-0"].ls_pair_task_id
    alice_tasks = [t for i in items.values() if i.user_id == "alice"
                   for t in (i.ls_task_id, i.ls_pair_task_id) if t]
    ls.annotations.create(id=items["alice-1"].ls_task_id, result=BAD, lead_time=1.0)
    wait_for(lambda: (run_jobs(app), annotations_of(app, tenant.project_id))[1])

    assert client.post("/v1/datasets", json={
        "name": "all", "purpose": "eval", "splits": {"train": 0.5, "validation": 0.0,
                                                    "test": 0.5}}, headers=admin.headers
    ).status_code == 201
    assert client.post("/v1/datasets/all/versions", json={"message": "v1"},
                       headers=admin.headers).status_code == 202
    run_jobs(app)
    store = Path(app.config["WINNOW_SETTINGS"].data_dir) / "datasets" / tenant.slug / "all"

    def stored_text() -> str:
        return "".join(p.read_text() for p in sorted(store.rglob("*")) if p.is_file())

    assert "Ticket A0" in stored_text() and "alice-1" in stored_text()

    resp = client.delete("/v1/users/alice", headers=admin.headers)
    assert resp.status_code == 202, resp.get_data(as_text=True)
    erasure = resp.get_json()
    assert erasure["items"] == 3 and erasure["label_studio_tasks"] == len(alice_tasks) == 4
    assert erasure["events"] == 4 and erasure["generations"] == 3
    run_jobs(app)
    assert client.get(f"/v1/erasures/{erasure['id']}",
                      headers=admin.headers).get_json()["state"] == "done"

    # The database: nothing of alice; bob untouched.
    with app.extensions["winnow"].db.session() as session:
        assert not session.scalars(select(Item).where(Item.user_id == "alice")).all()
        assert not session.scalars(select(Event).where(Event.user_id == "alice")).all()
        assert not session.scalars(select(Generation).where(Generation.user_id == "alice")).all()
        assert not [a for a in session.scalars(select(Annotation))
                    if a.item_id in {items[f"alice-{n}"].id for n in range(3)}]
        assert len(session.scalars(select(Item).where(Item.user_id == "bob")).all()) == 3
        row = session.get_one(Erasure, erasure["id"])
        assert row.examples is None and row.item_ids is None  # nothing kept once done
    # Label Studio: her tasks (and the annotation on one) are gone; bob's remain.
    from label_studio_sdk.core.api_error import ApiError

    for task in alice_tasks:
        with pytest.raises(ApiError) as missing:
            ls.tasks.get(id=task)
        assert missing.value.status_code == 404
    remaining = [t["data"].get("winnow_item") for t in ls_tasks(ls, ids["review"])]
    assert sorted(remaining) == sorted(items[f"bob-{n}"].id for n in range(3))
    assert len(ls_tasks(ls, ids["pairwise"])) == 1
    # Dataset files: rewritten without her, the manifest says so and its checksums hold.
    text = stored_text()
    for needle in ("Ticket A", "Answer A", "alice"):
        assert needle not in text, needle
    assert "Ticket B0" in text
    manifest = client.get("/v1/datasets/all/versions/1", headers=admin.headers)
    m = json.loads(manifest.get_data())
    assert m["erasures"][0]["items_removed"] == 3 and m["erasures"][0]["erasures"] == [
        erasure["id"]]
    assert sum(m["splits"][s]["items"] for s in m["splits"]) == 3
    for split in m["splits"].values():
        for entry in split["files"].values():
            data = (store / "1" / entry["path"]).read_bytes()
            assert hashlib.sha256(data).hexdigest() == entry["sha256"]
            assert len(data) == entry["bytes"] and data.count(b"\n") == entry["records"]
    assert manifest.headers["ETag"] == f'"{hashlib.sha256(manifest.get_data()).hexdigest()}"'
    # A later version never includes her; erasing again finds nothing.
    assert client.post("/v1/datasets/all/versions", json={"message": "v2"},
                       headers=admin.headers).status_code == 202
    run_jobs(app)
    assert "alice" not in stored_text()
    again = client.delete("/v1/users/alice", headers=admin.headers).get_json()
    assert (again["items"], again["events"], again["label_studio_tasks"]) == (0, 0, 0)
    is_problem(client.delete("/v1/users/..%2Fx", headers=admin.headers), 404)
    is_problem(client.delete("/v1/users/.hidden", headers=admin.headers), 400)
    is_problem(client.delete("/v1/users/bob", headers=tenant.headers), 403)
