"""Console page benchmark: server time of each page with 100,000 items and 1,000,000 events,
against the API call that reads the same data, in the same run.

- pages: each console page (`/`, `/review`, `/samples`, `/items`, an item, `/datasets`, a
  dataset with a diff, `/skew`, `/settings`) requested through the Flask app with a signed-in
  session cookie, as a browser's request reaches the server: session lookup, services, template.
- api: the HTTP API's answer over the same data where there is one (`/v1/analytics/feedback`
  per model version and day, `/v1/items`, `/v1/items/<id>`, `/v1/datasets`, `/v1/analytics/skew`):
  what the data costs before any HTML, so the ratio says what the page itself adds.

Rows are made by PostgreSQL (generate_series): 100,000 generations over 30 days (5 model
versions, 4 prompt versions, 3 features), 10 events each, and 100,000 items (80% accepted, 10%
quarantined, the rest rejected or duplicates) with redacted two-turn conversations; one dataset
with two versions built by the real build job. Run with `bash benchmarks/run-console`
(starts PostgreSQL); results go to benchmarks/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
from analytics import _settings as settings_for  # noqa: E402
from analytics import (  # noqa: E402  (the feedback rows and helpers the analytics run seeds)
    first_day,
    fresh_project,
    insert_feedback,
    p95,
    vacuum,
)

TARGET_S = 0.3  # the target: each page under 300 ms server time
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')

ITEMS_SQL = """
INSERT INTO items (project_id, external_id, source, generation_ref, conversation_ref, user_id,
    state, turns, redacted, findings, signals, reasons, attempts, occurred_at, received_at,
    screened_at, body_hash, push_attempts, content_hash)
SELECT :p, 'it' || i, 'share', 'g' || i, 'c' || i, 'u' || (i * 7919 % 100000),
    CASE WHEN i % 10 = 0 THEN 'quarantined' WHEN i % 20 = 1 THEN 'rejected_prank'
         WHEN i % 40 = 3 THEN 'rejected_pii' ELSE 'accepted' END,
    2,
    jsonb_build_array(
      jsonb_build_object('role', 'user', 'text', 'Question ' || i || ' about ' ||
        (ARRAY['billing', 'invoices', 'login', 'exports', 'the API', 'reports'])[1 + i % 6] ||
        ': how do I set up <PERSON_1>''s account so mail goes to <EMAIL_ADDRESS_1>?'),
      jsonb_build_object('role', 'assistant', 'text', 'Open Settings, then ' ||
        (ARRAY['Billing', 'Security', 'Exports', 'Developers'])[1 + i % 4] ||
        ', and add the address under Recipients. ' || repeat('More detail follows. ', 8))),
    jsonb_build_array(
      jsonb_build_object('type', 'PERSON', 'turn', 0, 'start', 40, 'end', 50,
                         'placeholder', '<PERSON_1>', 'score', 0.85)),
    CASE WHEN i % 10 = 0 OR i % 20 = 1 THEN jsonb_build_array(jsonb_build_object(
      'category', 'jailbreak', 'score', 0.4 + (i % 50) / 100.0,
      'reason', 'asks the assistant to ignore its instructions')) ELSE '[]'::jsonb END,
    CASE WHEN i % 10 = 0 THEN '["prank score between the thresholds: a person decides"]'::jsonb
         WHEN i % 20 = 1 THEN '["prank: jailbreak"]'::jsonb ELSE '[]'::jsonb END,
    1, c, c, c, md5(i::text), 0, md5('h' || i)
FROM (SELECT i, :start + (i % :days) * interval '1 day' + (i * 13 % 86000) * interval '1 second'
      AS c FROM generate_series(1::bigint, :n) AS i) AS s
"""


def seed(db: Any, n_items: int, events_per: int, days: int) -> dict[str, Any]:
    from sqlalchemy import text

    project_id, token = fresh_project(db, ["admin"])
    start = first_day(days)
    began = time.perf_counter()
    with db.engine.begin() as conn:
        # Model versions in the order of days (v0 first, v4 last): a newest version exists.
        insert_feedback(conn, project_id, n_items, n_items * events_per, start, days,
                        model_version="'v' || (i % :days * 5 / :days)")
        conn.execute(text(ITEMS_SQL), {"p": project_id, "n": n_items, "start": start,
                                       "days": days})
        # Every 40th item (not otherwise held back) a near-copy of the one before it.
        conn.execute(text(
            "UPDATE items SET state = 'duplicate', duplicate_of_id = id - 1, "
            "duplicate_kind = 'near', similarity = 0.91 "
            "WHERE project_id = :p AND id % 40 = 7"), {"p": project_id})
    vacuum(db, "generations", "events", "items")
    return {"project_id": project_id, "token": token, "start": start,
            "seconds": round(time.perf_counter() - began, 1)}


def build_dataset(app: Any, project_id: int) -> tuple[str, float]:
    """An eval dataset of the accepted items, two versions, by the real build job."""
    from app.payloads.datasets import DatasetDefinition
    from app.services import datasets
    from workers.datasets.build import build_version

    rt = app.extensions["winnow"]
    with rt.db.session() as session:
        datasets.create_dataset(session, project_id, DatasetDefinition(name="support-eval",
                                                                       purpose="eval"))
    began = time.perf_counter()
    for n in (1, 2):
        with rt.db.session() as session:
            version = datasets.request_version(session, project_id, "support-eval",
                                               f"bench {n}", False, rt.queue)
            version_id = version.id
        result = build_version(version_id)
        assert result.get("state") == "ready", result
    return "support-eval", time.perf_counter() - began


def sign_in(client: Any, token: str) -> None:
    page = client.get("/signin").get_data(as_text=True)
    found = TOKEN.search(page)
    assert found, "no CSRF token on the sign-in page"
    answer = client.post("/signin", data={"key": token, "csrf_token": found.group(1)})
    assert answer.status_code == 302, answer.status_code


def timed(client: Any, path: str, n: int,
          headers: dict[str, str] | None = None) -> tuple[float, list[float]]:
    """The first request (cold: imports, the pool, nothing kept yet), then n more."""
    began = time.perf_counter()
    client.get(path, headers=headers)
    first = time.perf_counter() - began
    out = []
    for _ in range(n):
        began = time.perf_counter()
        answer = client.get(path, headers=headers)
        out.append(time.perf_counter() - began)
        assert answer.status_code == 200, (path, answer.status_code,
                                           answer.get_data(as_text=True)[:300])
    return first, out


def summary(first_and_rest: tuple[float, list[float]]) -> dict[str, float]:
    first, values = first_and_rest
    return {"n": len(values), "first_s": round(first, 4),
            "p50_s": round(statistics.median(values), 4), "p95_s": round(p95(values), 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--events-per-item", type=int, default=10)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--requests", type=int, default=20, help="timed requests per page")
    args = parser.parse_args()

    from sqlalchemy import select

    from app.cli import make_app
    from app.db import Database
    from app.models import Item
    from app.services import rollups

    data_dir = tempfile.mkdtemp(prefix="winnow-bench-console-")
    settings = settings_for(data_dir)
    db = Database(settings.effective_database_url)
    total = args.items * args.events_per_item
    print(f"seeding {args.items:,} items and generations, {total:,} events ...", flush=True)
    seeded = seed(db, args.items, args.events_per_item, args.days)
    print(f"seeded in {seeded['seconds']} s", flush=True)
    pid = seeded["project_id"]
    with db.session() as session:
        rollups.rebuild(session, pid)
    app = make_app(settings)
    name, build_seconds = build_dataset(app, pid)
    print(f"dataset built (2 versions) in {build_seconds:.1f} s", flush=True)
    with db.session() as session:
        quarantined = session.scalar(select(Item.external_id).where(
            Item.state == "quarantined").order_by(Item.id.desc()).limit(1))
        accepted = session.scalar(select(Item.external_id).where(
            Item.state == "accepted").order_by(Item.id.desc()).limit(1))
    today = datetime.now(UTC).date().isoformat()
    pages = {
        "overview": "/",
        "overview-prompts": "/?by=prompt_version&since=7d",
        "review": "/review",
        "review-item": f"/review?item={quarantined}",
        "samples": f"/samples?date={today}",
        "items": "/items",
        "items-filtered": "/items?state=quarantined&model=model",
        "item": f"/items/{accepted}",
        "datasets": "/datasets",
        "dataset": f"/datasets/{name}",
        "dataset-diff": f"/datasets/{name}?a=1&b=2",
        "skew": f"/skew?dataset={name}@2&split=test&since=30d",
        "settings": "/settings",
    }
    api = {
        "overview": "/v1/analytics/feedback?group_by=model,model_version&interval=day",
        "items": "/v1/items?limit=50",
        "item": f"/v1/items/{accepted}",
        "datasets": "/v1/datasets",
        "skew": f"/v1/analytics/skew?dataset={name}@2&split=test&since=30d",
    }
    client = app.test_client()
    sign_in(client, seeded["token"])
    bearer = {"Authorization": f"Bearer {seeded['token']}"}
    results: dict[str, Any] = {}
    for label, path in pages.items():
        n = max(3, args.requests // 5) if label == "skew" else args.requests
        page_times = summary(timed(client, path, n))
        entry: dict[str, Any] = {"path": path, "page": page_times,
                                 "meets_target": page_times["p95_s"] < TARGET_S}
        if label in api:
            api_times = summary(timed(app.test_client(), api[label], n, bearer))
            entry["api"] = api_times | {"path": api[label]}
            entry["page_p50_over_api_p50"] = round(page_times["p50_s"] / api_times["p50_s"], 2)
        results[label] = entry
        print(f"  {label:18} first {page_times['first_s'] * 1000:7.1f} ms  "
              f"p50 {page_times['p50_s'] * 1000:7.1f} ms  p95 "
              f"{page_times['p95_s'] * 1000:7.1f} ms"
              + (f"  (api p50 {entry['api']['p50_s'] * 1000:.1f} ms)" if "api" in entry else ""),
              flush=True)
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "processor": platform.processor() or platform.machine(),
                    "python": platform.python_version()},
        "items": args.items, "events": total, "days": args.days,
        "seed_seconds": seeded["seconds"], "dataset_build_seconds": round(build_seconds, 1),
        "target_s": TARGET_S, "pages": results,
        "all_meet_target": all(r["meets_target"] for r in results.values()),
    }
    out = ROOT / "benchmarks" / "results" / f"console-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "pages"}, indent=2))
    app.extensions["winnow"].db.dispose()
    db.dispose()


if __name__ == "__main__":
    main()
