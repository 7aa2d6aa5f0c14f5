"""Analytics benchmark: the feedback query over 10,000,000 events on 1,000,000 generations,
against a bare SQL GROUP BY over the same rows, in the same run.

- winnow: `GET /v1/analytics/feedback?group_by=model_version&interval=day&since=30d` through
  the Flask app (authentication, the rollup read, statistics, JSON), as a client sees it. The
  rollups are built first (timed: the first refresh, which rolls up every day) and refreshed
  once more after 10,000 new events (timed: what the worker's chore costs under live traffic).
- bare-sql: the floor a database gives without rollups: `SELECT model_version, day, type,
  count(*) FROM events JOIN generations ... GROUP BY 1, 2, 3` over the same 30 days: fewer
  figures than winnow answers (no users, rates, intervals), so the comparison is generous to it.

Rows are made by PostgreSQL itself (generate_series), spread over 30 days, 5 model versions,
4 prompt versions, 3 features and 100,000 users, 10 events per generation of 10 types. Run with
`bash benchmarks/run-analytics` (starts PostgreSQL); results go to benchmarks/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TYPES = ["accept", "copy", "tweak", "ignore", "regenerate", "abandon", "thumbs_up",
         "thumbs_down", "rating", "flag"]
TARGET_P95 = 1.0  # seconds


def _settings(data_dir: str) -> Any:
    from app.config import Settings

    return Settings(database_url=os.environ["WINNOW_BENCH_DATABASE_URL"], redis_url=None,
                    data_dir=Path(data_dir), rate_limit="1000000/second")


def fresh_project(db: Any, scopes: list[str]) -> tuple[int, str]:
    """An empty, migrated database with project `bench` and a key of `scopes`."""
    from sqlalchemy import text

    from app.migrate import upgrade
    from app.services.keys import create_key
    from app.services.projects import create_project

    with db.engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    upgrade(db.engine)
    with db.session() as session:
        project = create_project(session, "bench")
        token = create_key(session, project, "bench", scopes).token
        return int(project.id), token


def first_day(days: int) -> datetime:
    return datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(
        days=days - 1)


def insert_feedback(conn: Any, project_id: int, generations: int, events: int, start: datetime,
                    days: int, model_version: str = "'v' || (i / 30 % 5)") -> None:
    """`generations` generations over `days` days from `start` (5 model versions by the SQL
    expression `model_version` of i, 4 prompt versions, 3 features, 100,000 users) and
    `events` events spread over them (10 types, ratings), made by PostgreSQL itself."""
    from sqlalchemy import text

    types = "ARRAY[" + ",".join(f"'{t}'" for t in TYPES) + "]"
    conn.execute(text(
        "INSERT INTO generations (project_id, external_id, model_name, model_version, "
        "prompt_id, prompt_version, feature, user_id, created_at, received_at, body_hash) "
        f"SELECT :p, 'g' || i, 'model', {model_version}, 'support', (i / 150 % 4)::text, "
        "'f' || (i / 600 % 3), 'u' || (i * 7919 % 100000), c, c, md5(i::text) FROM ("
        "  SELECT i, :start + (i % :days) * interval '1 day' + (i * 7 % 86000) * "
        "  interval '1 second' AS c FROM generate_series(1::bigint, :n) AS i) AS s"),
        {"p": project_id, "n": generations, "start": start, "days": days})
    conn.execute(text(
        "INSERT INTO events (project_id, external_id, generation_ref, type, rating, "
        "user_id, occurred_at, received_at, body_hash) "
        "SELECT :p, 'e' || i, 'g' || g, t, CASE WHEN t = 'rating' THEN 1 + i / 7 % 5 END, "
        "'u' || (g * 7919 % 100000), c, c, md5(i::text) FROM ("
        f"  SELECT i, 1 + i % :n AS g, ({types})[1 + ((i * 2654435761) >> 7) % 10] AS t,"
        "   :start + ((1 + i % :n) % :days) * interval '1 day' + interval '23 hours' AS c"
        "  FROM generate_series(0::bigint, :m - 1) AS i) AS s"),
        {"p": project_id, "n": generations, "m": events, "start": start, "days": days})


def vacuum(db: Any, *tables: str) -> None:
    from sqlalchemy import text

    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in tables:
            conn.execute(text(f"VACUUM ANALYZE {table}"))


def seed(db: Any, generations: int, events: int, days: int) -> dict[str, Any]:
    project_id, token = fresh_project(db, ["events:read"])
    start = first_day(days)
    began = time.perf_counter()
    with db.engine.begin() as conn:
        insert_feedback(conn, project_id, generations, events, start, days)
    vacuum(db, "generations", "events")
    return {"project_id": project_id, "token": token, "start": start,
            "seconds": round(time.perf_counter() - began, 1)}


def reused(db: Any, args: argparse.Namespace) -> dict[str, Any] | None:
    """The rows of an earlier run, if it seeded these sizes (its live rows removed)."""
    from sqlalchemy import func, select, text

    from app.models import Event, Generation, Project
    from app.services.keys import create_key

    with db.session() as session:
        project = session.scalar(select(Project).where(Project.slug == "bench"))
        if project is None:
            return None
        session.execute(text("DELETE FROM events WHERE external_id LIKE 'live%'"))
        session.execute(text("DELETE FROM generations WHERE external_id LIKE 'live%'"))
        counts = (session.scalar(select(func.count()).select_from(Generation)),
                  session.scalar(select(func.count()).select_from(Event)))
        if counts != (args.generations, args.events):
            return None
        first = session.scalar(select(func.min(Generation.created_at)))
        start = first.replace(hour=0, minute=0, second=0, microsecond=0)
        token = create_key(session, project, "bench", ["events:read"]).token
        return {"project_id": project.id, "token": token, "start": start, "seconds": 0.0}


BARE = """
SELECT g.model_version, (coalesce(g.created_at, g.received_at) AT TIME ZONE 'UTC')::date AS day,
       e.type, count(*)
FROM events e JOIN generations g
  ON g.project_id = e.project_id AND g.external_id = e.generation_ref
WHERE g.project_id = :p AND ((g.created_at >= :since AND g.created_at < :until)
   OR (g.created_at IS NULL AND g.received_at >= :since AND g.received_at < :until))
GROUP BY 1, 2, 3
"""


def bare(db: Any, project_id: int, since: datetime, until: datetime) -> tuple[float, int]:
    from sqlalchemy import text

    began = time.perf_counter()
    with db.engine.connect() as conn:
        rows = conn.execute(text(BARE), {"p": project_id, "since": since, "until": until}).all()
    return time.perf_counter() - began, len(rows)


def winnow(client: Any, token: str) -> tuple[float, int]:
    began = time.perf_counter()
    resp = client.get("/v1/analytics/feedback?group_by=model_version&interval=day&since=30d",
                      headers={"Authorization": f"Bearer {token}"})
    took = time.perf_counter() - began
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    return took, len(resp.get_json()["groups"])


def live_traffic(db: Any, project_id: int, n: int) -> None:
    """n / 10 new generations today and n events on them, as intake stores them between two
    refreshes."""
    from sqlalchemy import text

    with db.engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO generations (project_id, external_id, model_name, model_version, "
            "user_id, created_at, received_at, body_hash) SELECT :p, 'live' || i, 'model', "
            "'v' || (i % 5), 'u' || i, now(), now(), md5(i::text) "
            "FROM generate_series(1, :k) AS i"), {"p": project_id, "k": n // 10})
        conn.execute(text(
            "INSERT INTO events (project_id, external_id, generation_ref, type, user_id, "
            "occurred_at, received_at, body_hash) SELECT :p, 'live' || i, "
            "'live' || (1 + i % :k), 'accept', 'u1', now(), now(), md5(i::text) "
            "FROM generate_series(1, :n) AS i"), {"p": project_id, "k": n // 10, "n": n})


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--generations", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--queries", type=int, default=40, help="winnow queries to time")
    parser.add_argument("--bare-queries", type=int, default=5, help="bare GROUP BYs to time")
    parser.add_argument("--reuse", action="store_true",
                        help="keep the rows a previous run seeded (same sizes) and rebuild the "
                        "rollups from them")
    args = parser.parse_args()

    from app.cli import make_app
    from app.db import Database
    from app.services import rollups

    data_dir = tempfile.mkdtemp(prefix="winnow-bench-analytics-")
    settings = _settings(data_dir)
    db = Database(settings.effective_database_url)
    print(f"seeding {args.events:,} events on {args.generations:,} generations ...", flush=True)
    seeded = reused(db, args) if args.reuse else None
    if seeded is None:
        seeded = seed(db, args.generations, args.events, args.days)
    print(f"seeded in {seeded['seconds']} s", flush=True)
    pid = seeded["project_id"]

    began = time.perf_counter()
    with db.session() as session:
        built = rollups.rebuild(session, pid)
    first_refresh = time.perf_counter() - began
    print(f"first refresh: {built.days} days in {first_refresh:.1f} s", flush=True)
    live_traffic(db, pid, 10_000)
    began = time.perf_counter()
    with db.session() as session:
        again = rollups.refresh(session, pid)
    live_refresh = time.perf_counter() - began
    print(f"refresh after 1,000 generations and 10,000 events today: {again.days} day(s) in "
          f"{live_refresh:.2f} s",
          flush=True)

    app = make_app(settings)
    client = app.test_client()
    since = seeded["start"]
    until = since + timedelta(days=args.days)
    winnow(client, seeded["token"])  # warm: imports, the key's first lookup, the pool
    times: dict[str, list[float]] = {"winnow": [], "bare-sql": []}
    groups = rows = 0
    every = max(1, args.queries // max(1, args.bare_queries))
    for i in range(args.queries):
        took, groups = winnow(client, seeded["token"])
        times["winnow"].append(took)
        if i % every == 0 and len(times["bare-sql"]) < args.bare_queries:
            took, rows = bare(db, pid, since, until)
            times["bare-sql"].append(took)
            print(f"  bare GROUP BY {took:.2f} s ({rows} rows)", flush=True)
    summary = {
        name: {"n": len(v), "p50_s": round(statistics.median(v), 4), "p95_s": round(p95(v), 4)}
        for name, v in times.items()}
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "processor": platform.processor() or platform.machine(),
                    "python": platform.python_version()},
        "generations": args.generations, "events": args.events, "days": args.days,
        "seed_seconds": seeded["seconds"],
        "first_refresh_seconds": round(first_refresh, 2),
        "refresh_after_10k_events_seconds": round(live_refresh, 3),
        "groups_answered": groups, "bare_rows": rows,
        "queries": summary,
        "winnow_p95_over_bare_p95": round(summary["winnow"]["p95_s"] / summary["bare-sql"]["p95_s"],
                                          5),
        "target_p95_s": TARGET_P95,
        "meets_target": summary["winnow"]["p95_s"] < TARGET_P95,
    }
    out = ROOT / "benchmarks" / "results" / f"analytics-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    app.extensions["winnow"].db.dispose()
    db.dispose()


if __name__ == "__main__":
    main()
