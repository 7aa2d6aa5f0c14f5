"""Ingestion benchmark: `winnow serve` on PostgreSQL against bare Flask baselines, same run.

Three servers run side by side under gunicorn with the same settings, on the same database and
the same `events` table: Winnow, `baseline` (a bare Flask endpoint inserting the same rows in one
json_to_recordset statement) and `values` (the same, with a multi-row VALUES statement); see
baseline.py. A load generator on loopback (this process, asyncio + aiohttp) drives them in turn,
each going first in turn from round to round:

- single, open loop: one event per POST at a constant rate (default 200/s). Latency is counted
  from when each request was due to start, so a stalled server cannot hide its queue.
- single, closed loop: one event per POST, N requests in flight: the most events/s it takes.
- batch, closed loop: 100 events per POST, N requests in flight: events/s and per-POST latency.

After each phase the rows in the database are counted against the acknowledgements (Winnow's
`created` results, the baseline's `inserted` counts); then the table is emptied and PostgreSQL
checkpointed, so every phase starts from the same state. Results go to benchmarks/results/.
Run it with `bash benchmarks/run` (which starts PostgreSQL and Redis); see benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import psycopg
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent
EVENT_TYPES = ("thumbs_up", "thumbs_down", "rating", "comment", "tweak", "accept", "ignore",
               "regenerate", "copy", "flag", "abandon", "accept")
COMMENT = "The answer cited the right section but the code sample did not compile on 3.11."
TWEAK = ("Thanks for reaching out. Your refund was issued on Monday and should reach your card "
         "within five working days; the reference is in the confirmation e-mail we sent you.")


def make_event(run: str, seq: int) -> dict[str, Any]:
    """A realistic event: the mix of types a product UI sends, with ids unique to this run."""
    kind = EVENT_TYPES[seq % len(EVENT_TYPES)]
    event: dict[str, Any] = {
        "id": f"{run}-{seq}",
        "type": kind,
        "generation_id": f"{run}-gen-{seq // 3}",
        "user_id": f"user-{seq % 997}",
        "timestamp": "2026-11-24T10:15:30.123456+00:00",
    }
    if kind == "rating":
        event["rating"] = seq % 5 + 1
    elif kind == "comment":
        event["text"] = COMMENT
    elif kind == "tweak":
        event["text"] = TWEAK
    elif kind == "flag":
        event["reason"] = "inaccurate"
    if seq % 2:
        event["metadata"] = {"ui": "web", "surface": "chat", "session": f"s-{seq // 20}"}
    return event


@dataclass
class Target:
    name: str
    project: str  # the slug whose rows it writes
    url: str
    headers: dict[str, str]

    def count(self, status: int, body: bytes, sent: int) -> int:
        """Events this answer acknowledges as stored."""
        if self.name != "winnow":
            return int(orjson.loads(body)["inserted"]) if status == 201 else 0
        if status == 201:
            return 1
        if status in (200, 207):
            return sum(r["status"] == "created" for r in orjson.loads(body)["results"])
        return 0


@dataclass
class PhaseResult:
    target: str
    phase: str
    seconds: float
    requests: int
    errors: int
    events: int
    events_per_s: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    statuses: dict[str, int] = field(default_factory=dict)
    rows: int = -1  # rows found in the database afterwards; must equal `events`


def percentile(sorted_ms: list[float], q: float) -> float:
    if not sorted_ms:
        return float("nan")
    return sorted_ms[min(len(sorted_ms) - 1, int(q * len(sorted_ms)))]


class Recorder:
    def __init__(self, target: Target, phase: str) -> None:
        self.target, self.phase = target, phase
        self.latencies: list[float] = []
        self.statuses: dict[str, int] = {}
        self.events = 0

    async def post(self, client: aiohttp.ClientSession, body: bytes, sent: int,
                   started: float) -> None:
        loop = asyncio.get_running_loop()
        try:
            async with client.post(self.target.url, data=body,
                                   headers=self.target.headers) as resp:
                payload = await resp.read()
                status = resp.status
        except aiohttp.ClientError as exc:
            status, payload = 0, type(exc).__name__.encode()
        self.latencies.append((loop.time() - started) * 1000)
        self.statuses[str(status)] = self.statuses.get(str(status), 0) + 1
        self.events += self.target.count(status, payload, sent)

    def result(self, seconds: float) -> PhaseResult:
        ms = sorted(self.latencies)
        ok = {"200", "201"}
        errors = sum(n for s, n in self.statuses.items() if s not in ok)
        return PhaseResult(self.target.name, self.phase, round(seconds, 3), len(ms), errors,
                           self.events, round(self.events / seconds, 1),
                           round(percentile(ms, 0.50), 2), round(percentile(ms, 0.99), 2),
                           round(ms[-1] if ms else float("nan"), 2), dict(self.statuses))


async def open_loop(client: aiohttp.ClientSession, target: Target, bodies: Callable[[], bytes],
                    rate: float, seconds: float) -> PhaseResult:
    loop = asyncio.get_running_loop()
    rec = Recorder(target, f"single@{rate:g}/s")
    tasks: list[asyncio.Task[None]] = []
    start = loop.time() + 0.05
    for i in range(int(rate * seconds)):
        due = start + i / rate
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(rec.post(client, bodies(), 1, due)))
    await asyncio.gather(*tasks)
    return rec.result(loop.time() - start)


async def closed_loop(client: aiohttp.ClientSession, target: Target, phase: str,
                      bodies: Callable[[], bytes], per_body: int, concurrency: int,
                      seconds: float) -> PhaseResult:
    loop = asyncio.get_running_loop()
    rec = Recorder(target, phase)
    start = loop.time()
    deadline = start + seconds

    async def worker() -> None:
        while loop.time() < deadline:
            body = bodies()
            await rec.post(client, body, per_body, loop.time())

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return rec.result(loop.time() - start)


def body_source(run: str, batch: int) -> Callable[[], bytes]:
    seq = itertools.count()

    def single() -> bytes:
        return orjson.dumps(make_event(run, next(seq)))

    def many() -> bytes:
        return orjson.dumps({"events": [make_event(run, next(seq)) for _ in range(batch)]})

    return single if batch == 1 else many


# --- servers ------------------------------------------------------------------------------


def winnow(env: dict[str, str], *args: str) -> str:
    out = subprocess.run([str(Path(sys.executable).parent / "winnow"), *args], env=env,
                         check=True, capture_output=True, text=True)
    return out.stdout.strip()


def libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def prepare_database(env: dict[str, str]) -> tuple[str, dict[str, int]]:
    """A fresh schema; a project and key for Winnow, a project for each baseline's rows."""
    with psycopg.connect(libpq(env["WINNOW_DATABASE_URL"]), autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")
    winnow(env, "db", "upgrade")
    winnow(env, "projects", "create", "bench")
    winnow(env, "projects", "create", "baseline")
    winnow(env, "projects", "create", "values")
    # The limiter still runs on every request (in Redis); the limit is set out of reach.
    token = winnow(env, "keys", "create", "--project", "bench", "--rate-limit",
                   "1000000/second").splitlines()[-1]
    with psycopg.connect(libpq(env["WINNOW_DATABASE_URL"])) as conn:
        ids = dict(conn.execute("SELECT slug, id FROM projects").fetchall())
    return token, ids


def start(cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(cmd, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
                            cwd=ROOT, start_new_session=True)


async def wait_ready(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    async with aiohttp.ClientSession() as client:
        for _ in range(300):
            if proc.poll() is not None:
                sys.exit(f"server exited: see {log}")
            try:
                async with client.get(url) as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    sys.exit(f"server not ready at {url}: see {log}")


# --- the run ------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cores": os.cpu_count(), "cpu": model, "python": platform.python_version(),
            "platform": platform.platform()}


def settle(dsn: str, project: str) -> int:
    """Count a phase's rows, then empty the table and checkpoint: every phase starts alike."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute("SELECT count(*) FROM events e JOIN projects p ON p.id = "
                           "e.project_id WHERE p.slug = %s", (project,)).fetchone()
        conn.execute("TRUNCATE events")
        conn.execute("CHECKPOINT")
    return int(row[0]) if row else 0


async def run_round(client: aiohttp.ClientSession, targets: list[Target], run: str,
                    args: argparse.Namespace, dsn: str) -> list[PhaseResult]:
    results = []

    def settled(r: PhaseResult, target: Target) -> None:
        r.rows = settle(dsn, target.project)
        results.append(r)
        print(f"  {r.target:9} {r.phase:16} {r.events_per_s:9.0f} events/s  "
              f"p50 {r.p50_ms:7.2f} ms  p99 {r.p99_ms:7.2f} ms  errors {r.errors}  "
              f"rows {'ok' if r.rows == r.events else 'MISMATCH'}", flush=True)

    for target in targets:
        tag = f"{run}-{target.name}"
        settled(await open_loop(client, target, body_source(f"{tag}-o", 1), args.rate,
                                args.open_seconds), target)
        settled(await closed_loop(client, target, "single max", body_source(f"{tag}-s", 1), 1,
                                  args.single_concurrency, args.closed_seconds), target)
        settled(await closed_loop(client, target, f"batch {args.batch}",
                                  body_source(f"{tag}-b", args.batch), args.batch,
                                  args.batch_concurrency, args.closed_seconds), target)
    return results


def summarize(results: list[PhaseResult]) -> dict[str, dict[str, dict[str, float]]]:
    """Median over rounds of each figure, per target and phase."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    keys = sorted({(r.target, r.phase) for r in results})
    for target, phase in keys:
        rs = [r for r in results if r.target == target and r.phase == phase]
        out.setdefault(target, {})[phase] = {
            k: statistics.median(getattr(r, k) for r in rs)
            for k in ("events_per_s", "p50_ms", "p99_ms", "max_ms")
        } | {"errors": sum(r.errors for r in rs), "rounds": len(rs)}
    return out


async def main_async(args: argparse.Namespace) -> int:
    url = os.environ.get("WINNOW_BENCH_DATABASE_URL")
    redis = os.environ.get("WINNOW_BENCH_REDIS_URL")
    if not url or not redis:
        sys.exit("set WINNOW_BENCH_DATABASE_URL and WINNOW_BENCH_REDIS_URL "
                 "(bash benchmarks/run does)")
    # `winnow serve` with Redis refuses to start without a shared key; one per run will do.
    key = os.environ.get("WINNOW_ENCRYPTION_KEY") or Fernet.generate_key().decode()
    env = {**os.environ, "WINNOW_DATABASE_URL": url, "WINNOW_REDIS_URL": redis,
           "WINNOW_LOG_LEVEL": "WARNING", "WINNOW_ENCRYPTION_KEY": key}
    logs = ROOT / "benchmarks" / "results"
    logs.mkdir(parents=True, exist_ok=True)
    token, projects = prepare_database(env)

    server_args = ["--workers", str(args.workers), "--threads", str(args.threads)]
    json_headers = {"Content-Type": "application/json"}
    targets = [
        Target("winnow", "bench", f"http://127.0.0.1:{args.port}/v1/events",
               {**json_headers, "Authorization": f"Bearer {token}"}),
        Target("baseline", "baseline", f"http://127.0.0.1:{args.port + 1}/v1/events",
               json_headers),
        Target("values", "values", f"http://127.0.0.1:{args.port + 2}/v1/events",
               json_headers),
    ]
    commands = [
        [str(Path(sys.executable).parent / "winnow"), "serve", "--port", str(args.port)],
        *([sys.executable, str(ROOT / "benchmarks" / "baseline.py"), "--dsn", libpq(url),
           "--project-id", str(projects[slug]), "--port", str(args.port + i),
           "--statement", form] for i, slug, form in ((1, "baseline", "recordset"),
                                                       (2, "values", "values"))),
    ]
    ready = ["/readyz", "/healthz", "/healthz"]
    logs_of = [logs / f"{t.name}-server.log" for t in targets]
    procs = [start([*cmd, *server_args], env, log) for cmd, log in zip(commands, logs_of,
                                                                         strict=True)]
    try:
        for i, (proc, log) in enumerate(zip(procs, logs_of, strict=True)):
            await wait_ready(f"http://127.0.0.1:{args.port + i}{ready[i]}", proc, log)
        connector = aiohttp.TCPConnector(limit=0, keepalive_timeout=4)
        timeout = aiohttp.ClientTimeout(total=30)
        results: list[PhaseResult] = []
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as client:
            for target in targets:  # warm up: imports, connection pools, JIT-free caches
                await closed_loop(client, target, "warm-up", body_source(
                    f"warm-{target.name}", 1), 1, args.single_concurrency, 2)
                await closed_loop(client, target, "warm-up", body_source(
                    f"warmb-{target.name}", args.batch), args.batch, args.batch_concurrency, 2)
                settle(libpq(url), target.project)
            for i in range(args.rounds):
                order = targets[i % 3:] + targets[:i % 3]  # each goes first in turn
                print(f"round {i + 1}/{args.rounds}", flush=True)
                results += await run_round(client, order, f"r{i}", args, libpq(url))
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()

    consistent = all(r.rows == r.events for r in results)
    summary = summarize(results)
    single_open = f"single@{args.rate:g}/s"
    batch = f"batch {args.batch}"
    def paired(base: str, phase: str, figure: str) -> float:
        """Median over rounds of winnow/base, each round's figures measured minutes apart."""
        per_round = [getattr(wr, figure) / getattr(br, figure) for wr, br in zip(
            [r for r in results if r.target == "winnow" and r.phase == phase],
            [r for r in results if r.target == base and r.phase == phase], strict=True)]
        return round(statistics.median(per_round), 3)

    ratios = {
        base: {
            "batch_events_per_s": paired(base, batch, "events_per_s"),
            "single_max_events_per_s": paired(base, "single max", "events_per_s"),
            f"{single_open}_p99": paired(base, single_open, "p99_ms"),
        }
        for base in ("baseline", "values")
    }
    report = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "config": vars(args),
        "summary": summary,
        "ratios_winnow_over": ratios,
        "rows_match_acks": consistent,
        "runs": [asdict(r) for r in results],
    }
    out = logs / f"ingest-{time.strftime('%Y%m%dT%H%M%S')}.json"
    out.write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2))

    print(f"\nmedian of {args.rounds} rounds, {machine()['cores']} cores "
          f"({machine()['cpu']}); load generator on the same machine")
    print(f"{'':9} {'phase':16} {'events/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6}")
    for target, phases in summary.items():
        for phase, f in phases.items():
            print(f"{target:9} {phase:16} {f['events_per_s']:9.0f} {f['p50_ms']:8.2f} "
                  f"{f['p99_ms']:8.2f} {f['errors']:6.0f}")
    for base, figures in ratios.items():
        print(f"winnow / {base}, median of the rounds' ratios: {figures}")
    print("rows in the database after each phase "
          f"{'equal the events acknowledged' if consistent else 'DO NOT MATCH the acks'}")
    print(f"written {out.relative_to(ROOT)}")
    return 0 if consistent else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rate", type=float, default=200, help="open-loop requests/s")
    parser.add_argument("--open-seconds", type=float, default=15)
    parser.add_argument("--closed-seconds", type=float, default=10)
    parser.add_argument("--batch", type=int, default=100, help="events per batch POST")
    parser.add_argument("--single-concurrency", type=int, default=8)
    parser.add_argument("--batch-concurrency", type=int, default=4)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="gunicorn processes for every server (winnow serve's default)")
    parser.add_argument("--threads", type=int, default=4,
                        help="threads per process for every server (winnow serve's default)")
    parser.add_argument("--port", type=int, default=8100,
                        help="winnow; the baselines get +1 and +2")
    sys.exit(asyncio.run(main_async(parser.parse_args())))


if __name__ == "__main__":
    main()
