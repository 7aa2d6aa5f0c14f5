"""Ingest as data grows: batch throughput of `winnow serve` into an `events` table that already
holds 10,000,000 events, against the same server into an empty one, in the same run.

Two Winnow servers run side by side under gunicorn with `winnow serve`'s settings (as in
ingest.py), each on its own database of the same PostgreSQL: `winnow_bench` (emptied after
every phase) and `winnow_bench_stored`, whose events table is filled once with `--stored`
events of another project (the mix of types, texts, metadata and users the load generator
sends, spread over a year, already screened), then `VACUUM ANALYZE`d before any clock starts.
The filled database is kept between runs and refilled only when its count or schema changed
(the fill takes a few minutes). Each round posts batches of 100 events, N in flight, to each
server in turn (each going first in turn); the stored table keeps what a phase added, so it
only grows. Rows are counted against the acknowledgements after every phase.

Run with `bash benchmarks/run-ingest-stored` (starts PostgreSQL and Redis); results go to
benchmarks/results/. The figure: the median over rounds of stored/empty events/s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import psycopg
from cryptography.fernet import Fernet

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest import (  # the load generator and server helpers of ingest.py
    ROOT,
    Target,
    body_source,
    closed_loop,
    libpq,
    machine,
    start,
    wait_ready,
    winnow,
)

STORED_DB = "winnow_bench_stored"
TARGET_RATIO = 0.9  # within 10% of the empty table


def with_database(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


def fresh(env: dict[str, str]) -> dict[str, int]:
    """A fresh schema at head with the projects the run uses; their ids."""
    with psycopg.connect(libpq(env["WINNOW_DATABASE_URL"]), autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")
    winnow(env, "db", "upgrade")
    winnow(env, "projects", "create", "bench")
    winnow(env, "projects", "create", "archive")
    with psycopg.connect(libpq(env["WINNOW_DATABASE_URL"])) as conn:
        return dict(conn.execute("SELECT slug, id FROM projects").fetchall())


FILL = """
INSERT INTO events (project_id, external_id, generation_ref, type, rating, text, reason,
                    user_id, occurred_at, received_at, metadata, sealed, screening, body_hash)
SELECT %(project)s, 'arch-' || n, 'arch-gen-' || (n / 3),
       (ARRAY['thumbs_up','thumbs_down','rating','comment','tweak','accept','ignore',
              'regenerate','copy','flag','abandon','accept'])[n %% 12 + 1],
       CASE WHEN n %% 12 = 2 THEN n %% 5 + 1 END,
       CASE n %% 12 WHEN 3 THEN %(comment)s WHEN 4 THEN %(tweak)s END,
       CASE WHEN n %% 12 = 9 THEN 'inaccurate' END,
       'user-' || (n %% 997),
       timestamptz '2025-11-01' + (n * interval '3 seconds'),
       timestamptz '2025-11-01' + (n * interval '3 seconds') + interval '2 seconds',
       CASE WHEN n %% 2 = 1 THEN jsonb_build_object('ui', 'web', 'surface', 'chat',
                                                    'session', 's-' || (n / 20)) END,
       NULL, NULL, md5(n::text) || md5((n + 1)::text)
FROM generate_series(%(first)s, %(last)s) AS n
"""


def fill(dsn: str, project: int, stored: int) -> None:
    step = 1_000_000
    started = time.perf_counter()
    with psycopg.connect(dsn, autocommit=True) as conn:
        for first in range(0, stored, step):
            last = min(stored, first + step) - 1
            conn.execute(FILL, {"project": project, "first": first, "last": last,
                                "comment": "The answer cited the right section.",
                                "tweak": "Your refund was issued on Monday."})
            print(f"  filled {last + 1:,}/{stored:,} events "
                  f"({time.perf_counter() - started:.0f} s)", flush=True)
        conn.execute("VACUUM ANALYZE events")
        conn.execute("CHECKPOINT")


def prepare_stored(env: dict[str, str], stored: int) -> dict[str, int]:
    """The stored database, filled unless it already holds `stored` archive events at head."""
    dsn = libpq(env["WINNOW_DATABASE_URL"])
    maintenance = with_database(libpq(os.environ["WINNOW_BENCH_DATABASE_URL"]), "postgres")
    with psycopg.connect(maintenance, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                        (STORED_DB,)).fetchone() is None:
            conn.execute(f"CREATE DATABASE {STORED_DB}")
    try:
        with psycopg.connect(dsn) as conn:
            ids = dict(conn.execute("SELECT slug, id FROM projects").fetchall())
            have = conn.execute("SELECT count(*) FROM events WHERE project_id = %s",
                                (ids["archive"],)).fetchone()
        # "current: 0008  head: 0008"
        words = winnow(env, "db", "current").split()
        at_head = len(words) == 4 and words[1] == words[3]
        if have and have[0] == stored and at_head:
            print(f"{STORED_DB} holds {stored:,} events already", flush=True)
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute("DELETE FROM events WHERE project_id = %s", (ids["bench"],))
                conn.execute("VACUUM ANALYZE events")
            return ids
    except (psycopg.Error, KeyError):
        pass
    print(f"filling {STORED_DB} with {stored:,} events", flush=True)
    ids = fresh(env)
    fill(dsn, ids["archive"], stored)
    return ids


def count(dsn: str, project: int) -> int:
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT count(*) FROM events WHERE project_id = %s",
                           (project,)).fetchone()
    return int(row[0]) if row else 0


def after_phase(dsn: str, empty: bool) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        if empty:
            conn.execute("TRUNCATE events")
        conn.execute("CHECKPOINT")


async def main_async(args: argparse.Namespace) -> int:
    url = os.environ.get("WINNOW_BENCH_DATABASE_URL")
    redis = os.environ.get("WINNOW_BENCH_REDIS_URL")
    if not url or not redis:
        sys.exit("set WINNOW_BENCH_DATABASE_URL and WINNOW_BENCH_REDIS_URL "
                 "(bash benchmarks/run-ingest-stored does)")
    key = os.environ.get("WINNOW_ENCRYPTION_KEY") or Fernet.generate_key().decode()
    base = {**os.environ, "WINNOW_REDIS_URL": redis, "WINNOW_LOG_LEVEL": "WARNING",
            "WINNOW_ENCRYPTION_KEY": key}
    envs = {"empty": {**base, "WINNOW_DATABASE_URL": url},
            "stored": {**base, "WINNOW_DATABASE_URL": with_database(url, STORED_DB)}}
    ids = {"stored": prepare_stored(envs["stored"], args.stored), "empty": fresh(envs["empty"])}
    dsns = {name: libpq(env["WINNOW_DATABASE_URL"]) for name, env in envs.items()}
    with psycopg.connect(dsns["stored"]) as conn:
        size = conn.execute("SELECT pg_total_relation_size('events')").fetchone()
    stored_mb = round(int(size[0]) / 2**20) if size else 0
    logs = ROOT / "benchmarks" / "results"
    logs.mkdir(parents=True, exist_ok=True)
    targets, procs = [], []
    for n, name in enumerate(("empty", "stored")):
        token = winnow(envs[name], "keys", "create", "--project", "bench", "--rate-limit",
                       "1000000/second").splitlines()[-1]
        port = args.port + n
        targets.append(Target("winnow", name, f"http://127.0.0.1:{port}/v1/events",
                              {"Content-Type": "application/json",
                               "Authorization": f"Bearer {token}"}))
        log = logs / f"winnow-{name}-server.log"
        procs.append((start([str(Path(sys.executable).parent / "winnow"), "serve", "--port",
                             str(port), "--workers", str(args.workers), "--threads",
                             str(args.threads)], envs[name], log), log, port))
    rates: dict[str, list[float]] = {"empty": [], "stored": []}
    p99: dict[str, list[float]] = {"empty": [], "stored": []}
    consistent = True
    try:
        for proc, log, port in procs:
            await wait_ready(f"http://127.0.0.1:{port}/readyz", proc, log)
        connector = aiohttp.TCPConnector(limit=0, keepalive_timeout=4)
        async with aiohttp.ClientSession(connector=connector,
                                         timeout=aiohttp.ClientTimeout(total=30)) as client:
            for target in targets:
                await closed_loop(client, target, "warm-up", body_source(
                    f"warm-{target.project}", args.batch), args.batch, args.concurrency, 3)
                after_phase(dsns[target.project], target.project == "empty")
            for r in range(args.rounds):
                for target in targets[r % 2:] + targets[:r % 2]:
                    name = target.project
                    before = count(dsns[name], ids[name]["bench"])
                    got = await closed_loop(client, target, f"batch {args.batch}",
                                            body_source(f"r{r}-{name}", args.batch),
                                            args.batch, args.concurrency, args.seconds)
                    rows = count(dsns[name], ids[name]["bench"]) - before
                    consistent &= rows == got.events and got.errors == 0
                    after_phase(dsns[name], name == "empty")
                    rates[name].append(got.events_per_s)
                    p99[name].append(got.p99_ms)
                    print(f"round {r + 1} {name:6s} {got.events_per_s:8.0f} events/s  "
                          f"p99 {got.p99_ms:7.1f} ms per POST  errors {got.errors}  rows "
                          f"{'ok' if rows == got.events else 'MISMATCH'}", flush=True)
    finally:
        for proc, _, _ in procs:
            proc.terminate()
        for proc, _, _ in procs:
            proc.wait(timeout=30)
    ratio = round(statistics.median(s / e for s, e in zip(rates["stored"], rates["empty"],
                                                           strict=True)), 3)
    result: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(), "config": vars(args),
        "stored_events": args.stored, "stored_table_mb": stored_mb,
        "events_per_s": rates, "p99_ms": p99,
        "median_events_per_s": {n: statistics.median(v) for n, v in rates.items()},
        "ratio_stored_over_empty": ratio, "target_ratio": TARGET_RATIO,
        "meets_target": ratio >= TARGET_RATIO, "rows_match_acks": consistent,
    }
    out = logs / f"ingest-stored-{time.strftime('%Y%m%dT%H%M%S')}.json"
    out.write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2))
    print(f"\nbatch of {args.batch}, {args.concurrency} in flight, median of {args.rounds} "
          f"rounds, {machine()['cores']} cores")
    print(f"empty table          {result['median_events_per_s']['empty']:9.0f} events/s")
    print(f"{args.stored:>10,} stored {result['median_events_per_s']['stored']:9.0f} events/s "
          f"(events table {stored_mb:,} MB)")
    print(f"stored / empty, median of the rounds' ratios: {ratio} (target >= {TARGET_RATIO}: "
          f"{'met' if result['meets_target'] else 'NOT met'})")
    print(f"rows in the database {'equal' if consistent else 'DO NOT MATCH'} the events "
          f"acknowledged; written {out.relative_to(ROOT)}")
    return 0 if consistent else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stored", type=int, default=10_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--port", type=int, default=8110)
    sys.exit(asyncio.run(main_async(parser.parse_args())))


if __name__ == "__main__":
    main()
