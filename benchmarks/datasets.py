"""Dataset export benchmark: items/s and peak memory of building one version from 1,000,000
curated items, against a bare streaming export of the same rows, in the same run.

- winnow: `workers.datasets.build.build_version` as a worker runs it, on PostgreSQL: read the
  items a chunk at a time with their generation, feedback, ranks, tweaks and annotations; label,
  select, assign and record each conversation's split (a new dataset each round, so every group
  is drawn and written); write eval, fine-tune and preference JSONL per split and the manifest.
- winnow-next: version 2 of the same dataset, as the next build of a growing dataset runs:
  every group's recorded split is looked up (none is new), the rest as above.
- bare-export: the floor: the same rows read with the same keyset pagination, each written as
  one JSON line ({id, messages}) to one file. No feedback, splits, labels or manifest.

Each target runs in a fresh child process (spawned), so its peak RSS (ru_maxrss) is its own;
items are inserted before any clock starts. Targets alternate who goes first. Run with
`bash benchmarks/run-datasets` (starts PostgreSQL); results go to benchmarks/results/.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import resource
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
EVENT_TYPES = ["thumbs_up", "accept", "copy", "thumbs_down", "regenerate", "ignore"]
TARGET_RATE = 20_000  # items/s
TARGET_RSS_MB = 300


def settings(data_dir: str) -> Any:
    from app.config import Settings

    return Settings(database_url=os.environ["WINNOW_BENCH_DATABASE_URL"], redis_url=None,
                    data_dir=Path(data_dir))


def seed(n: int, data_dir: str) -> int:
    from sqlalchemy import insert, text

    from app.db import Database
    from app.migrate import upgrade
    from app.models import Event, Generation, Item, Project
    from app.models.base import utcnow

    db = Database(settings(data_dir).effective_database_url)
    with db.engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    upgrade(db.engine)
    now = utcnow()
    with db.session() as session:
        project = Project(slug="bench", name="bench")
        session.add(project)
        session.flush()
        project_id = int(project.id)
    step = 20_000
    for start in range(0, n, step):
        ids = range(start, min(n, start + step))
        with db.engine.begin() as conn:
            conn.execute(insert(Generation), [
                {"project_id": project_id, "external_id": f"g-{i}", "model_name": "gpt-4o",
                 "model_version": "2024-08-06", "prompt_id": "support", "prompt_version": "3",
                 "feature": "help", "received_at": now, "body_hash": "x" * 64}
                for i in ids])
            conn.execute(insert(Item), [
                {"project_id": project_id, "external_id": f"i-{i}", "source": "api",
                 "generation_ref": f"g-{i}", "conversation_ref": f"c-{i}",
                 "user_id": f"u-{i % 997}", "state": "accepted", "turns": 2,
                 "redacted": [
                     {"role": "user", "text": f"Question {i}: how do I set up <PERSON_1>'s "
                                              "account so invoices go to the finance team?"},
                     {"role": "assistant", "text": "Open Settings, then Billing, and add the "
                                                   "finance address under Invoice recipients."},
                 ],
                 "findings": [], "signals": [], "reasons": [], "attempts": 0,
                 "occurred_at": now, "received_at": now, "body_hash": "x" * 64,
                 "push_attempts": 0}
                for i in ids])
            conn.execute(insert(Event), [
                {"project_id": project_id, "external_id": f"e-{i}", "generation_ref": f"g-{i}",
                 "type": EVENT_TYPES[i % len(EVENT_TYPES)], "occurred_at": now,
                 "received_at": now, "body_hash": "x" * 64}
                for i in ids])
        print(f"seeded {min(n, start + step)}/{n}", end="\r", flush=True)
    print()
    # Steady state: the bulk insert's visibility map and statistics done before any clock.
    with db.engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
    db.dispose()
    return project_id


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_winnow(data_dir: str, project_id: int, name: str, out: Any) -> None:
    """Version 1 of a new dataset: every group drawn and recorded."""
    from app.cli import make_app
    from app.models import Dataset, DatasetVersion
    from app.payloads.datasets import DatasetDefinition

    rt = make_app(settings(data_dir)).extensions["winnow"]
    definition = DatasetDefinition(name=name, purpose="eval")
    with rt.db.session() as session:
        dataset = Dataset(project_id=project_id, name=name, purpose="eval", salt=name,
                          definition=definition.model_dump(mode="json"), holdouts=0)
        session.add(dataset)
        session.flush()
        version = DatasetVersion(dataset_id=dataset.id, number=1, message="bench",
                                 definition=dataset.definition, state="building")
        session.add(version)
        session.flush()
        version_id = version.id
    _build(version_id, out)


def run_winnow_next(data_dir: str, project_id: int, name: str, out: Any) -> None:
    """Version 2 of the dataset this round's `winnow` built: every group's recorded split is
    looked up (none is new)."""
    from sqlalchemy import select, text

    from app.cli import make_app
    from app.models import Dataset, DatasetVersion

    rt = make_app(settings(data_dir)).extensions["winnow"]
    # The next version of a dataset comes later, when autovacuum has long processed the
    # first one's million new records: the same state, reached before the clock starts.
    with rt.db.engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(
            text("VACUUM ANALYZE dataset_groups"))
    with rt.db.session() as session:
        dataset = session.scalars(select(Dataset).where(
            Dataset.name == name.replace("winnow-next", "winnow"))).one()
        version = DatasetVersion(dataset_id=dataset.id, number=2, parent=1, message="bench",
                                 definition=dataset.definition, state="building")
        session.add(version)
        session.flush()
        version_id = version.id
    _build(version_id, out)


def _build(version_id: int, out: Any) -> None:
    from workers.datasets.build import build_version

    before = _peak_mb()
    start = time.perf_counter()
    result = build_version(version_id)
    seconds = time.perf_counter() - start
    assert result.get("state") == "ready", result
    items = sum(result[s]["items"] for s in ("train", "validation", "test"))
    out.put({"seconds": seconds, "items": items, "peak_mb": _peak_mb(),
             "peak_before_mb": before})


def run_bare(data_dir: str, project_id: int, name: str, out: Any) -> None:
    import orjson
    from sqlalchemy import select

    from app.db import Database
    from app.models import Item

    db = Database(settings(data_dir).effective_database_url)
    path = Path(data_dir) / f"{name}.jsonl"
    before = _peak_mb()
    start = time.perf_counter()
    items = 0
    last = 0
    with path.open("wb") as handle:
        while True:
            with db.session() as session:
                rows = session.execute(
                    select(Item.id, Item.external_id, Item.redacted)
                    .where(Item.project_id == project_id, Item.id > last)
                    .order_by(Item.id).limit(2000)).all()
            if not rows:
                break
            last = rows[-1][0]
            for _, external_id, redacted in rows:
                handle.write(orjson.dumps({"id": external_id, "messages": redacted}) + b"\n")
            items += len(rows)
    seconds = time.perf_counter() - start
    out.put({"seconds": seconds, "items": items, "peak_mb": _peak_mb(),
             "peak_before_mb": before})


def in_child(target: Any, *args: Any) -> dict[str, Any]:
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    child = ctx.Process(target=target, args=(*args, queue))
    child.start()
    result: dict[str, Any] = queue.get()
    child.join()
    assert child.exitcode == 0, child.exitcode
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    data_dir = tempfile.mkdtemp(prefix="winnow-bench-datasets-")
    started = time.perf_counter()
    project_id = seed(args.items, data_dir)
    print(f"seeded {args.items} items in {time.perf_counter() - started:.0f} s", flush=True)
    runs: dict[str, list[dict[str, Any]]] = {"winnow": [], "winnow-next": [], "bare-export": []}
    for r in range(args.rounds):
        # The next version needs the first: winnow always before winnow-next.
        order = [("winnow", run_winnow), ("winnow-next", run_winnow_next)]
        bare = ("bare-export", run_bare)
        targets = [bare, *order] if r % 2 else [*order, bare]
        for name, target in targets:
            got = in_child(target, data_dir, project_id, f"bench-{name}-{r}")
            assert got["items"] == args.items, got
            got["rate"] = got["items"] / got["seconds"]
            runs[name].append(got)
            print(f"round {r + 1} {name:12s} {got['rate']:9.0f} items/s  peak RSS "
                  f"{got['peak_mb']:6.0f} MB (at start {got['peak_before_mb']:.0f} MB)",
                  flush=True)
    median = {n: statistics.median(x["rate"] for x in v) for n, v in runs.items()}
    peak = {n: max(x["peak_mb"] for x in v) for n, v in runs.items()}
    winnow = min(median["winnow"], median["winnow-next"])
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "items": args.items, "rounds": args.rounds, "runs": runs,
        "median_items_per_s": median, "peak_rss_mb": peak,
        "ratio_vs_bare_export": {
            n: round(median[n] / median["bare-export"], 3) for n in ("winnow", "winnow-next")
        },
        "targets": {"items_per_s": TARGET_RATE, "rss_mb": TARGET_RSS_MB},
        "meets_targets": winnow >= TARGET_RATE
        and max(peak["winnow"], peak["winnow-next"]) < TARGET_RSS_MB,
    }
    print(json.dumps({k: result[k] for k in ("median_items_per_s", "peak_rss_mb",
                                             "ratio_vs_bare_export", "meets_targets")},
                     indent=2))
    out = ROOT / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    (out / f"datasets-{result['when'].replace(':', '')}.json").write_text(
        json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
