"""Canary values in every text and metadata field the API accepts never come out raw (issue 12).

An e-mail address, a phone number, a card number, a social security number, a name and a
street address go into every free-text and metadata field of generations, events (comment,
tweak, flag, share) and conversations, and into an annotator's correction typed in the real
Label Studio. After the worker has screened everything, pushed to Label Studio, synced back
and built a dataset, none of the canaries is found in: the database files (SQLite file and
WAL; a `pg_dump` of the PostgreSQL database), Redis, the log records, any API answer, the
Label Studio tasks, or the dataset files. Identifiers (ids, user ids) are the client's keys,
not text, and hold no canary here.
"""

from __future__ import annotations

import logging
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from app.models import Project
from app.services.keys import create_key
from tests.helpers import conversation, generation, run_jobs
from tests.integration.test_labelstudio import (  # noqa: F401  (fixtures)
    Served,
    annotations_of,
    ls,
    ls_settings,
    ls_tasks,
    served,
    start,
    wait_for,
)

NAME = "Rosalind Whitcombe"
EMAIL = "rosalind.whitcombe@example.org"
PHONE = "(415) 555-0199"
CARD = "4111 1111 1111 1111"
SSN = "536-90-4399"
ADDRESS = "1457 Larkspur Avenue, Springfield, IL 62704"
CANARIES = (NAME, "Whitcombe", EMAIL, "rosalind.whitcombe", PHONE, "555-0199", CARD,
            "4111111111111111", SSN, "1457 Larkspur")
SENTENCE = (f"My name is {NAME} and I live at {ADDRESS}. Call me on {PHONE} or write to "
            f"{EMAIL}; my card is {CARD} and my SSN is {SSN}.")

pytestmark = [pytest.mark.labelstudio, pytest.mark.slow]


def _found(text: str) -> list[str]:
    return [c for c in CANARIES if c.casefold() in text.casefold()]


def _post(client: Any, path: str, body: Any, h: dict[str, str]) -> None:
    resp = client.post(path, json=body, headers=h)
    assert resp.status_code in (200, 201), resp.get_data(as_text=True)[:300]


def _database_text(app: Flask, tmp_path: Path) -> str:
    settings = app.config["WINNOW_SETTINGS"]
    url: str = settings.effective_database_url
    if url.startswith("sqlite"):
        db = Path(url.removeprefix("sqlite:///"))
        data = b"".join(p.read_bytes() for p in (db, db.with_name(db.name + "-wal"))
                        if p.exists())
        return data.decode("utf-8", errors="replace")
    from sqlalchemy.engine import make_url

    u = make_url(url)
    pg_dump = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_dump"))[-1]
    out = subprocess.run(
        [str(pg_dump), "-h", u.host or "127.0.0.1", "-p", str(u.port), "-U",
         u.username or "postgres", "--data-only", u.database or ""],
        capture_output=True, check=True, env={**os.environ, "PGPASSWORD": u.password or ""})
    return out.stdout.decode()


def _redis_text(app: Flask) -> str:
    url = app.config["WINNOW_SETTINGS"].redis_url
    if not url:
        return ""
    from redis import Redis

    r = Redis.from_url(url)
    parts: list[str] = []
    for key in r.scan_iter(count=1000):
        kind = r.type(key).decode()
        value: Any = {"string": r.get, "hash": r.hgetall, "list": lambda k: r.lrange(k, 0, -1),
                      "set": r.smembers, "zset": lambda k: r.zrange(k, 0, -1)}.get(
                          kind, lambda k: b"")(key)
        parts.append(repr(key) + repr(value))
    return "\n".join(parts)


def test_canaries_in_every_field_never_come_out_raw(
    served: tuple[Flask, Served],  # noqa: F811  (the fixtures imported above)
    ls: Any,  # noqa: F811
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    app, client, tenant, ids = start(served)
    with app.extensions["winnow"].db.session() as session:
        project = session.scalar(select(Project).where(Project.slug == tenant.slug))
        assert project is not None
        admin = {"Authorization": "Bearer " + create_key(session, project, "admin",
                                                         ("admin",)).token}
    meta = {"note": SENTENCE, "contact": {"email": EMAIL, "phone": PHONE}, "ids": [SSN, CARD]}

    _post(client, "/v1/generations", generation("gen-c", feature="support", metadata=meta),
          admin)
    question = f"Hello, {SENTENCE} How do I update my billing details?"
    answer = f"Sure {NAME}: open Billing, then Payment methods. I will write to {EMAIL}."
    _post(client, "/v1/conversations", conversation(
        "conv-c", "u-c", question, answer, generation_id="gen-c", metadata=meta), admin)
    _post(client, "/v1/events", {"events": [
        {"id": "e-comment", "type": "comment", "generation_id": "gen-c", "user_id": "u-c",
         "text": SENTENCE, "metadata": meta},
        {"id": "e-tweak", "type": "tweak", "generation_id": "gen-c", "user_id": "u-c",
         "text": f"Sure {NAME}: open Billing. I will call {PHONE}.", "metadata": meta},
        {"id": "e-flag", "type": "flag", "generation_id": "gen-c", "reason": "other",
         "text": SENTENCE, "metadata": meta},
        {"id": "e-up", "type": "thumbs_up", "generation_id": "gen-c", "user_id": "u-c",
         "metadata": meta},
        {"id": "e-share", "type": "share", "generation_id": "gen-s", "user_id": "u-d",
         "metadata": meta, "conversation": {"consent": True, "messages": [
             {"role": "user", "content": SENTENCE},
             {"role": "assistant", "content": f"Thanks {NAME}, noted."}]}},
    ]}, admin)
    run_jobs(app)  # screening and curation
    run_jobs(app)  # the push curation enqueued (review and pairwise tasks)

    # An annotator types the canaries into a correction, in the real Label Studio.
    review = ls_tasks(ls, ids["review"])
    assert review, "the accepted items were pushed"
    for task in review:
        ls.annotations.create(id=task["id"], result=[
            {"from_name": "verdict", "to_name": "dialogue", "type": "choices",
             "value": {"choices": ["good"]}},
            {"from_name": "correction", "to_name": "dialogue", "type": "textarea",
             "value": {"text": [f"Contact {NAME} at {EMAIL} or {PHONE}."]}},
        ])
    assert wait_for(lambda: (run_jobs(app),
                             len(annotations_of(app, tenant.project_id)) == len(review))[1])
    corrections = [a.correction for a in annotations_of(app, tenant.project_id)]
    assert all(c and "<EMAIL_ADDRESS_1>" in c for c in corrections), corrections

    for name, purpose in (("canary-eval", "eval"), ("canary-pref", "preference")):
        resp = client.post("/v1/datasets", headers=admin, json={
            "name": name, "purpose": purpose,
            "splits": {"train": 1.0, "validation": 0.0, "test": 0.0}})
        assert resp.status_code == 201, resp.get_data(as_text=True)
        resp = client.post(f"/v1/datasets/{name}/versions", headers=admin, json={"message": "c"})
        assert resp.status_code == 202, resp.get_data(as_text=True)
        run_jobs(app)

    answers: list[str] = []

    def get(path: str) -> Any:
        resp = client.get(path, headers=admin)
        assert resp.status_code == 200, (path, resp.get_data(as_text=True)[:300])
        answers.append(resp.get_data(as_text=True))
        return resp

    events = get("/v1/events?limit=1000").get_json()["data"]
    assert {e["screening"] for e in events} == {"redacted"}
    for e in events:
        get(f"/v1/events/{e['id']}")
    for gid in ("gen-c", "gen-s"):
        client.get(f"/v1/generations/{gid}", headers=admin)  # gen-s was never posted: 404
    get("/v1/generations/gen-c")
    items = get("/v1/items?limit=1000").get_json()["data"]
    assert {i["id"] for i in items} == {"conv-c", "e-share"}
    for i in items:
        get(f"/v1/items/{i['id']}")
    for name in ("canary-eval", "canary-pref"):
        manifest = get(f"/v1/datasets/{name}/versions/1").get_json()
        for split, entries in manifest["items"].items():
            for fmt in ("eval", "finetune", "preference"):
                client_resp = client.get(f"/v1/datasets/{name}/versions/1/files/{split}/{fmt}",
                                         headers=admin)
                answers.append(client_resp.get_data(as_text=True))
            for entry in entries:
                get(f"/v1/datasets/{name}/versions/1/examples/{entry[0]}")
    assert any("<EMAIL_ADDRESS_1>" in a for a in answers)  # the text is there, redacted

    leaks = {
        "API answers": _found("\n".join(answers)),
        "database": _found(_database_text(app, tmp_path)),
        "Redis": _found(_redis_text(app)),
        "logs": _found("\n".join(r.getMessage() for r in caplog.records)),
        "Label Studio tasks": _found(repr([
            (t["data"], t.get("predictions")) for kind in ("review", "pairwise")
            for t in ls_tasks(ls, ids[kind])])),
        "dataset files": _found("\n".join(
            p.read_text(errors="replace") for p in (tmp_path / "datasets").rglob("*")
            if p.is_file())),
    }
    assert leaks == {k: [] for k in leaks}
