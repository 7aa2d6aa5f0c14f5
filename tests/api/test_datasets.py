"""Datasets over HTTP: versions from growing data never leak the test split, diffs are right,
rebuilds are byte-identical, files stream with ETag/304/Range, and bad input gets a clear 4xx.
Embedded (SQLite, in-process queue) and PostgreSQL + RQ."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.cli import make_app
from app.config import Settings
from tests.conftest import MakeTenant
from tests.helpers import Tenant, conversation, event, generation, is_problem, run_jobs

SCOPES = ("events:write", "events:read", "items:read", "datasets:read", "datasets:write")
TASKS = [
    ("export my invoices as a spreadsheet", "Billing, then Invoices, then Export as CSV"),
    ("change the language of the app", "Settings, then Language, and pick one from the list"),
    ("invite a colleague to my workspace", "Members, then Invite, and enter their address"),
    ("turn on two-factor sign in", "Security, then Two-factor, and scan the code"),
    ("archive an old project", "the project's menu, then Archive; it stays searchable"),
    ("connect the calendar integration", "Integrations, then Calendar, and allow access"),
    ("see last month's usage", "Usage, then pick the month in the date selector"),
    ("cancel my subscription", "Billing, then Plan, then Cancel at the bottom"),
]


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    # Conversations here differ only in their ticket number: exact-dedupe only, so that each
    # stays its own item (dedupe has its own tests).
    application = make_app(settings.model_copy(update={"dedupe_threshold": 1.0}))
    yield application
    application.extensions["winnow"].db.dispose()


@pytest.fixture
def owner(make_tenant: MakeTenant) -> Tenant:
    return make_tenant(scopes=SCOPES)


def ask(i: int) -> tuple[str, str]:
    task, answer = TASKS[i % len(TASKS)]
    return (f"Ticket {1000 + i}: how do I {task}?",
            f"For ticket {1000 + i}: open {answer}.")


def add_conversations(client: FlaskClient, t: Tenant, ids: range, signal: str = "thumbs_up"
                      ) -> None:
    for i in ids:
        gid = f"gen-{i}"
        assert client.post("/v1/generations", json=generation(gid, feature="help"),
                           headers=t.headers).status_code == 201
        body = conversation(f"c-{i}", f"u-{i % 7}", *ask(i), generation_id=gid,
                            conversation_id=f"conv-{i}")
        resp = client.post("/v1/conversations", json=body, headers=t.headers)
        assert resp.status_code == 201, resp.get_data(as_text=True)
        resp = client.post("/v1/events", json=event(f"{signal}-{i}", signal, gid),
                           headers=t.headers)
        assert resp.status_code in (200, 201), resp.get_data(as_text=True)


def build(app: Flask, client: FlaskClient, t: Tenant, name: str, message: str,
          **extra: Any) -> dict[str, Any]:
    resp = client.post(f"/v1/datasets/{name}/versions", json={"message": message, **extra},
                       headers=t.headers)
    assert resp.status_code == 202, resp.get_data(as_text=True)
    number = resp.get_json()["version"]
    assert resp.headers["Location"] == f"/v1/datasets/{name}/versions/{number}"
    run_jobs(app)
    versions = client.get(f"/v1/datasets/{name}/versions", headers=t.headers).get_json()["data"]
    version: dict[str, Any] = versions[number - 1]
    assert version["state"] == "ready", version
    return version


def manifest(client: FlaskClient, t: Tenant, name: str, v: int | str) -> dict[str, Any]:
    resp = client.get(f"/v1/datasets/{name}/versions/{v}", headers=t.headers)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    body: dict[str, Any] = json.loads(resp.get_data())
    return body


def ids(m: dict[str, Any], split: str) -> set[str]:
    return {entry[0] for entry in m["items"][split]}


def records(client: FlaskClient, t: Tenant, name: str, v: int, split: str, fmt: str
            ) -> list[dict[str, Any]]:
    resp = client.get(f"/v1/datasets/{name}/versions/{v}/files/{split}/{fmt}",
                      headers=t.headers)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.mimetype == "application/x-ndjson"
    data = resp.get_data()
    assert resp.headers["ETag"] == f'"{hashlib.sha256(data).hexdigest()}"'
    return [json.loads(line) for line in data.splitlines()]


def define(client: FlaskClient, t: Tenant, **fields: Any) -> dict[str, Any]:
    body = {"name": "help-eval", "purpose": "eval",
            "splits": {"train": 0.4, "validation": 0.3, "test": 0.3}, **fields}
    resp = client.post("/v1/datasets", json=body, headers=t.headers)
    assert resp.status_code == 201, resp.get_data(as_text=True)
    out: dict[str, Any] = resp.get_json()
    return out


def test_versions_from_growing_data_never_leak_the_test_split(
    app: Flask, client: FlaskClient, owner: Tenant
) -> None:
    add_conversations(client, owner, range(0, 24))
    run_jobs(app)
    define(client, owner)
    v1 = build(app, client, owner, "help-eval", "first cut")
    m1 = manifest(client, owner, "help-eval", 1)
    assert m1["version"] == 1 and m1["parent"] is None and m1["message"] == "first cut"
    assert sum(len(ids(m1, s)) for s in ("train", "validation", "test")) == 24
    assert all(ids(m1, s) for s in ("train", "validation", "test"))
    assert v1["splits"]["test"]["items"] == len(ids(m1, "test"))

    # Files match the manifest's checksums and carry what the issue asks for.
    for split in ("train", "validation", "test"):
        evals = records(client, owner, "help-eval", 1, split, "eval")
        assert {r["id"] for r in evals} == ids(m1, split)
        assert all(r["input"][0]["role"] == "user" and r["reference"].startswith("For ticket")
                   for r in evals)
        assert all(r["labels"]["signal"] == "positive" for r in evals)
        assert all(r["source"]["model"] == "gpt-4o" and r["source"]["feature"] == "help"
                   for r in evals)
        tuned = records(client, owner, "help-eval", 1, split, "finetune")
        assert [r["messages"][-1]["role"] for r in tuned] == ["assistant"] * len(evals)

    # The data grows: new items, and new feedback on an old one.
    first_train = sorted(ids(m1, "train"))[0]
    resp = client.post("/v1/events", json=event("late-down", "thumbs_down",
                                                f"gen-{first_train[2:]}"), headers=owner.headers)
    assert resp.status_code in (200, 201)
    add_conversations(client, owner, range(24, 60))
    run_jobs(app)
    build(app, client, owner, "help-eval", "more tickets")
    m2 = manifest(client, owner, "help-eval", 2)
    assert m2["parent"] == 1
    for split in ("train", "validation", "test"):
        assert ids(m1, split) <= ids(m2, split)  # sticky
    for a, b in ((m1, m2), (m2, m1), (m2, m2)):
        assert not ids(a, "test") & (ids(b, "train") | ids(b, "validation"))

    # The diff: the 36 new items added, nothing removed, the re-voted item changed.
    diff = client.get("/v1/datasets/help-eval/diff?from=1&to=2", headers=owner.headers)
    assert diff.status_code == 200, diff.get_data(as_text=True)
    d = diff.get_json()
    for split in ("train", "validation", "test"):
        assert set(d["splits"][split]["added"]) == ids(m2, split) - ids(m1, split)
        assert d["splits"][split]["removed"] == []
    assert sum(d["summary"][s]["added"] for s in d["summary"]) == 36
    assert d["splits"]["train"]["changed"] == [first_train]

    # Nothing new: a rebuild gives byte-identical data files.
    build(app, client, owner, "help-eval", "rebuild")
    m3 = manifest(client, owner, "help-eval", "latest")
    assert m3["version"] == 3
    for split in ("train", "validation", "test"):
        assert m3["splits"][split]["files"] == m2["splits"][split]["files"]
    assert m3["items"] == m2["items"]

    # A deliberate holdout refresh: the old test items are in no split any more, and it says so.
    add_conversations(client, owner, range(60, 90))
    run_jobs(app)
    v4 = build(app, client, owner, "help-eval", "new holdout", refresh_holdout=True)
    m4 = manifest(client, owner, "help-eval", 4)
    assert m4["refresh_holdout"] is True and v4["refresh_holdout"] is True
    old_test = ids(m3, "test")
    for split in ("train", "validation", "test"):
        assert not old_test & ids(m4, split)
    assert m4["excluded"]["retired"] == len(old_test)
    assert ids(m4, "test") and ids(m4, "test") <= {f"c-{i}" for i in range(60, 90)}
    for m in (m1, m2, m3):
        for split in ("train", "validation"):
            assert not ids(m4, "test") & ids(m, split)


def test_files_stream_with_etag_304_and_range(
    app: Flask, client: FlaskClient, owner: Tenant
) -> None:
    add_conversations(client, owner, range(0, 10))
    run_jobs(app)
    define(client, owner, splits={"train": 1.0, "validation": 0.0, "test": 0.0})
    build(app, client, owner, "help-eval", "v1")
    url = "/v1/datasets/help-eval/versions/1/files/train/eval"
    full = client.get(url, headers=owner.headers)
    etag = full.headers["ETag"]
    data = full.get_data()
    assert len(data) > 100
    m = manifest(client, owner, "help-eval", 1)
    assert etag == '"{}"'.format(m["splits"]["train"]["files"]["eval"]["sha256"])
    same = client.get(url, headers={**owner.headers, "If-None-Match": etag})
    assert same.status_code == 304 and not same.get_data()
    part = client.get(url, headers={**owner.headers, "Range": "bytes=100-"})
    assert part.status_code == 206 and part.get_data() == data[100:]
    assert part.headers["Content-Range"] == f"bytes 100-{len(data) - 1}/{len(data)}"
    whole = client.get("/v1/datasets/help-eval/versions/1", headers=owner.headers)
    assert whole.headers["ETag"] == f'"{hashlib.sha256(whole.get_data()).hexdigest()}"'


def test_bad_input_gets_a_clear_4xx(app: Flask, client: FlaskClient, owner: Tenant,
                                    make_tenant: MakeTenant) -> None:
    h = owner.headers
    assert "no dataset 'nope'" in is_problem(client.get("/v1/datasets/nope", headers=h),
                                             404)["detail"]
    add_conversations(client, owner, range(0, 3))
    run_jobs(app)
    define(client, owner)
    is_problem(client.post("/v1/datasets", json={"name": "help-eval", "purpose": "eval"},
                           headers=h), 409)
    for bad in ("../etc", "a/b", "UPPER", "", "x" * 65, ".hidden"):
        problem = is_problem(client.post("/v1/datasets", json={"name": bad, "purpose": "eval"},
                                         headers=h), 422)
        assert problem["errors"][0]["field"] == "name"
    is_problem(client.post("/v1/datasets", json={"name": "x", "purpose": "eval",
                                                 "splits": {"train": 0.9, "test": 0.9}},
                           headers=h), 422)
    is_problem(client.post("/v1/datasets", json={"name": "x", "purpose": "eval",
                                                 "description": "nul\x00"}, headers=h), 422)
    is_problem(client.post("/v1/datasets/help-eval/versions", json={}, headers=h), 422)
    is_problem(client.post("/v1/datasets/help-eval/versions", data="{", headers=h,
                           content_type="application/json"), 400)
    assert "no ready version" in is_problem(
        client.get("/v1/datasets/help-eval/versions/latest", headers=h), 404)["detail"]
    build(app, client, owner, "help-eval", "v1")
    base = "/v1/datasets/help-eval/versions"
    for url, words in (
        (f"{base}/7", "no version 7"),
        (f"{base}/one", "a number or 'latest'"),
        (f"{base}/1/files/holdout/eval", "no split 'holdout'"),
        (f"{base}/1/files/train/parquet", "no format 'parquet'"),
        (f"{base}/1/files/..%2F..%2Fmanifest.json/eval", ""),
        ("/v1/datasets/..%2Fhelp-eval/versions/1", ""),
        ("/v1/datasets/%2E%2E/versions/1", "dataset names are"),
        ("/v1/datasets/help-eval/diff?from=1&to=9", "no version 9"),
        (f"{base}/1/examples/c-999", "no example"),
    ):
        problem = is_problem(client.get(url, headers=h), 404)
        assert words in problem["detail"], (url, problem)
    is_problem(client.get("/v1/datasets/help-eval/diff?from=1", headers=h), 400)
    # Scopes: a key without datasets:read cannot list or pull.
    writer = make_tenant(scopes=("events:write",))
    is_problem(client.get(f"{base}/1", headers=writer.headers), 403)
    # Another project's key sees no such dataset.
    other = make_tenant("other", scopes=SCOPES)
    is_problem(client.get(f"{base}/1", headers=other.headers), 404)
    # Nothing accepted was lost: version 1 is still there and whole.
    assert manifest(client, owner, "help-eval", 1)["version"] == 1


def test_any_fsspec_store_works(settings: Settings, make_tenant: MakeTenant) -> None:
    """A non-local store (fsspec's memory filesystem standing in for s3://): versions are
    written there and served from it, with ETag and Range."""
    import uuid

    import fsspec

    url = f"memory://winnow-{uuid.uuid4().hex[:8]}"
    application = make_app(settings.model_copy(update={"dedupe_threshold": 1.0,
                                                         "datasets_url": url}))
    try:
        client = application.test_client()
        from app.services.keys import create_key
        from app.services.projects import create_project

        with application.extensions["winnow"].db.session() as session:
            project = create_project(session, "remote")
            owner = Tenant("remote", project.id,
                           create_key(session, project, "t", SCOPES).token)
        add_conversations(client, owner, range(0, 6))
        run_jobs(application)
        define(client, owner, splits={"train": 1.0, "validation": 0.0, "test": 0.0})
        build(application, client, owner, "help-eval", "remote")
        fs = fsspec.filesystem("memory")
        root = url.removeprefix("memory://")
        stored = fs.cat(f"{root}/remote/help-eval/1/train/eval.jsonl")
        assert stored.count(b"\n") == 6
        resp = client.get("/v1/datasets/help-eval/versions/1/files/train/eval",
                          headers={**owner.headers, "Range": "bytes=10-"})
        assert resp.status_code == 206 and resp.get_data() == stored[10:]
        etag = client.get("/v1/datasets/help-eval/versions/1/files/train/eval",
                          headers=owner.headers).headers["ETag"]
        assert etag == f'"{hashlib.sha256(stored).hexdigest()}"'
        same = client.get("/v1/datasets/help-eval/versions/1/files/train/eval",
                          headers={**owner.headers, "If-None-Match": etag})
        assert same.status_code == 304
        assert not fs.glob(f"{root}/**/*.part")
    finally:
        application.extensions["winnow"].db.dispose()


def test_preference_pairs_from_tweaks_and_regenerations_and_lineage(
    app: Flask, client: FlaskClient, owner: Tenant
) -> None:
    """A tweak (screened for PII before it reaches a file) and a regeneration become pairs; any
    exported example leads back to its item, generation, events and PII findings."""
    h = owner.headers
    question = "Ticket 7: how do I export my invoices? I'm Maria Gonzalez."
    for gid in ("gen-a", "gen-b", "gen-t"):
        assert client.post("/v1/generations", json=generation(gid, feature="help"),
                           headers=h).status_code == 201
    # The same prompt answered twice in one conversation: the first regenerated, the second
    # accepted.
    for cid, gid, answer in (("first", "gen-a", "I cannot help with that."),
                             ("second", "gen-b", "Open Billing, then Invoices, then Export.")):
        body = conversation(cid, "u-1", question, answer, generation_id=gid,
                            conversation_id="conv-x")
        assert client.post("/v1/conversations", json=body, headers=h).status_code == 201
    events = [event("regen", "regenerate", "gen-a"), event("acc", "accept", "gen-b"),
              event("tw", "tweak", "gen-t",
                    text="Open Billing > Invoices. Questions? Write to maria.g@example.com")]
    body = conversation("tweaked", "u-2", "Ticket 8: where are my invoices?",
                        "Open Billing.", generation_id="gen-t", conversation_id="conv-y")
    assert client.post("/v1/conversations", json=body, headers=h).status_code == 201
    assert client.post("/v1/events", json={"events": events}, headers=h).status_code in (200,
                                                                                          201)
    run_jobs(app)
    define(client, owner, name="prefs", purpose="preference",
           splits={"train": 1.0, "validation": 0.0, "test": 0.0})
    build(app, client, owner, "prefs", "pairs")
    pairs = {p["id"]: p for p in records(client, owner, "prefs", 1, "train", "preference")}
    assert set(pairs) == {"second>first", "tweaked:tweak"}
    regen = pairs["second>first"]
    assert regen["origin"] == "regenerate"
    assert regen["chosen"].startswith("Open Billing") and regen["rejected"].startswith("I cannot")
    assert "Maria" not in json.dumps(regen) and "<PERSON_1>" in regen["prompt"][0]["content"]
    tweak = pairs["tweaked:tweak"]
    assert tweak["origin"] == "tweak" and tweak["rejected"] == "Open Billing."
    assert "maria.g@example.com" not in tweak["chosen"] and "<EMAIL_ADDRESS_1>" in tweak["chosen"]

    from app.models import Project
    from app.services.keys import create_key

    with app.extensions["winnow"].db.session() as session:
        project = session.get_one(Project, owner.project_id)
        puller = create_key(session, project, "pull", ("datasets:read",)).token
    is_problem(client.get("/v1/datasets/prefs/versions/1/examples/tweaked",
                          headers={"Authorization": f"Bearer {puller}"}), 403)  # items:read
    reader = h
    lineage = client.get("/v1/datasets/prefs/versions/1/examples/second%3Efirst",
                         headers=reader)
    assert lineage.status_code == 200, lineage.get_data(as_text=True)
    got = lineage.get_json()
    assert got["split"] == "train" and got["files"] == ["preference"]
    assert [i["item"]["id"] for i in got["items"]] == ["second", "first"]
    second, first = got["items"]
    assert second["generation"]["model"]["name"] == "gpt-4o"
    assert [e["type"] for e in first["events"]] == ["regenerate"]
    assert {f["entity_type"] for f in second["item"]["findings"]} == {"PERSON"}
    assert "Maria" not in lineage.get_data(as_text=True)
    one = client.get("/v1/datasets/prefs/versions/1/examples/tweaked", headers=reader).get_json()
    assert one["files"] == ["eval", "finetune"]
    tweak_text = one["items"][0]["events"][0]["text"]  # free text, as screened at intake
    assert "<EMAIL_ADDRESS_1>" in tweak_text and "maria.g@example.com" not in tweak_text


def test_a_group_recorded_twice_in_one_build_keeps_one_record(app: Flask, owner: Tenant) -> None:
    """The draw is a pure function of the group, so a second record of it (it recurred before
    the first was committed) is dropped, not an error (COPY's unique violation on PostgreSQL
    falls back to ON CONFLICT DO NOTHING)."""
    from sqlalchemy import func, select

    from app.models import Dataset, DatasetGroup
    from workers.datasets.build import record_groups

    db = app.extensions["winnow"].db
    with db.session() as session:
        dataset = Dataset(project_id=owner.project_id, name="d", purpose="eval", salt="s",
                          definition={}, holdouts=0)
        session.add(dataset)
        session.flush()
        dataset_id = dataset.id
    rows = [(dataset_id, f"{n:032x}", "train", 1) for n in range(5)]
    for batch in (rows[:3], rows, rows[2:]):
        with db.session() as session:
            record_groups(session, session.get_bind().dialect.name, batch)
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(DatasetGroup)) == 5


def test_annotated_items_take_their_verdict_and_screened_correction(
    app: Flask, client: FlaskClient, owner: Tenant
) -> None:
    """Annotations (stored as the Label Studio sync stores them) decide labels and the
    reference; an annotator's typed correction is PII-screened before it reaches a file."""
    from datetime import UTC, datetime

    from sqlalchemy import select

    from app.models import Annotation, Item

    add_conversations(client, owner, range(0, 3))
    run_jobs(app)
    now = datetime.now(UTC)
    with app.extensions["winnow"].db.session() as session:
        items = {i.external_id: i.id for i in session.scalars(select(Item))}
        for n, (verdict, correction) in enumerate((
            ("bad", "Open Billing; stuck? mail maria.g@example.com"),
            ("bad", "Open Billing, then Export."),
        )):
            session.add(Annotation(
                project_id=owner.project_id, item_id=items["c-0"], kind="review",
                ls_project_id=1, ls_task_id=1, ls_annotation_id=n + 1, annotator=f"a{n}",
                verdict=verdict, failure_modes=["wrong_or_incomplete"], correction=correction,
                created_at=now, updated_at=now.replace(microsecond=n)))
        session.add(Annotation(
            project_id=owner.project_id, item_id=items["c-1"], kind="review", ls_project_id=1,
            ls_task_id=2, ls_annotation_id=9, verdict="good", created_at=now, updated_at=now))
    define(client, owner, name="bad-answers", selection={"verdicts": ["bad"]},
           splits={"train": 1.0, "validation": 0.0, "test": 0.0})
    build(app, client, owner, "bad-answers", "corrections")
    [record] = records(client, owner, "bad-answers", 1, "train", "eval")
    assert record["id"] == "c-0" and record["labels"] == {
        "verdict": "bad", "failure_modes": ["wrong_or_incomplete"], "signal": "positive",
        "corrected": True}
    # The latest correction wins; the earlier one (with an address) is screened anyway.
    assert record["reference"] == "Open Billing, then Export."
    m = manifest(client, owner, "bad-answers", 1)
    assert m["splits"]["train"]["labels"]["verdict"] == {"bad": 1}
    with app.extensions["winnow"].db.session() as session:
        for a in session.scalars(select(Annotation).where(Annotation.ls_annotation_id == 2)):
            a.updated_at = now.replace(year=now.year - 1)  # make the address one the latest
    build(app, client, owner, "bad-answers", "older correction")
    [record] = records(client, owner, "bad-answers", 2, "train", "eval")
    assert "maria.g@example.com" not in record["reference"]
    assert "<EMAIL_ADDRESS_1>" in record["reference"]
    [tuned] = records(client, owner, "bad-answers", 2, "train", "finetune")
    assert tuned["messages"][-1]["content"] == record["reference"]


def test_erasing_the_first_sharer_promotes_another_users_copy(
    app: Flask, client: FlaskClient, make_tenant: MakeTenant
) -> None:
    """Nothing left pointing nowhere: bob's copy of alice's conversation takes its place when
    she is erased, and a later copy by carol counts as a duplicate of bob's."""
    admin = make_tenant(scopes=("admin",))
    body = conversation("x", "alice", "Ticket 42: how do I rename a project?",
                        "Open the project's settings and edit its name.")
    for cid, user in (("alice-x", "alice"), ("bob-x", "bob"), ("dan-x", "dan")):
        resp = client.post("/v1/conversations", json={**body, "id": cid, "user_id": user},
                           headers=admin.headers)
        assert resp.status_code == 201
        run_jobs(app)
    states = {i["id"]: i for i in client.get("/v1/items", headers=admin.headers)
              .get_json()["data"]}
    assert states["bob-x"]["duplicate_of"] == "alice-x" == states["dan-x"]["duplicate_of"]
    resp = client.delete("/v1/users/alice", headers=admin.headers)
    assert resp.status_code == 202 and resp.get_json()["promoted"] == 1
    run_jobs(app)
    bob = client.get("/v1/items/bob-x", headers=admin.headers).get_json()
    assert bob["state"] == "accepted" and bob["duplicate_of"] is None
    assert "promoted: the item it copied was erased" in bob["reasons"]
    assert bob["votes"] == 2  # itself and dan's copy
    assert client.get("/v1/items/dan-x", headers=admin.headers).get_json()[
        "duplicate_of"] == "bob-x"
    resp = client.post("/v1/conversations", json={**body, "id": "carol-x", "user_id": "carol"},
                       headers=admin.headers)
    run_jobs(app)
    carol = client.get("/v1/items/carol-x", headers=admin.headers).get_json()
    assert carol["state"] == "duplicate" and carol["duplicate_of"] == "bob-x"
    is_problem(client.get("/v1/items/alice-x", headers=admin.headers), 404)
