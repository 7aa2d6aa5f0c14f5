"""Push benchmark: tasks/s from accepted items to Label Studio tasks through Winnow's push job,
against Label Studio's own bulk import of the same tasks, in the same run.

- winnow: `workers.labelstudio.push.push_project` on PostgreSQL + Redis, as a worker runs it:
  select and order the accepted items (negative feedback first), read their feedback, claim them
  (committed), build the tasks with predictions, import in batches with task ids returned,
  record the ids. The items are inserted before the clock starts.
- import-only: the same task payloads through `projects.import_tasks` alone (one client call
  per batch of the same size), into a fresh project: the floor the push job stands on.

Each round uses fresh Label Studio projects (deleted afterwards). Run with
`bash benchmarks/run-labelstudio` (starts PostgreSQL, Redis and Label Studio); results go to
benchmarks/results/.

With `--prefilled N` it measures instead how a push scales with the Label Studio project's size:
- winnow-empty: the push job into a fresh, empty project (as `winnow` above);
- winnow-full: the same push job, the same number of new items, into the review project of a
  Winnow project that already holds N tasks (imported once in bulk before any clock starts, as
  earlier pushes would have left them; the project grows by each round's push).
The figure is the median over rounds of full/empty tasks/s.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
EVENT_TYPES = ["thumbs_down", "accept", "regenerate", "copy", "thumbs_up", "ignore"]


def seed(app: Any, slug: str, n: int) -> int:
    from app.models import Project

    db = app.extensions["winnow"].db
    with db.session() as session:
        project = Project(slug=slug, name=slug)
        session.add(project)
        session.flush()
        project_id = int(project.id)
    add_items(app, project_id, n)
    return project_id


def add_items(app: Any, project_id: int, n: int, first: int = 0) -> None:
    """`n` accepted items with one reaction each, numbered from `first`."""
    from app.models import Event, Item
    from app.models.base import utcnow

    db = app.extensions["winnow"].db
    with db.session() as session:
        now = utcnow()
        session.add_all(
            Item(
                project_id=project_id, external_id=f"i-{i}", source="api",
                generation_ref=f"g-{i}", user_id=f"u-{i % 97}", state="accepted", turns=2,
                redacted=[
                    {"role": "user", "text": f"Question {i}: how do I configure <PERSON_1>'s "
                                             "account so invoices go to the finance team?"},
                    {"role": "assistant", "text": "Open Settings, Billing, and add the "
                                                  "finance address under Invoice recipients. "
                                                  * 3},
                ],
                findings=[], signals=[], reasons=[], occurred_at=now, body_hash="x" * 64,
            )
            for i in range(first, first + n)
        )
        session.add_all(
            Event(project_id=project_id, external_id=f"e-{i}", generation_ref=f"g-{i}",
                  type=EVENT_TYPES[i % len(EVENT_TYPES)], occurred_at=now, body_hash="x" * 64)
            for i in range(first, first + n)
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--prefilled", type=int, default=0,
                        help="measure pushes into a project already holding this many tasks "
                             "against an empty one (e.g. 100000)")
    args = parser.parse_args()

    from pydantic import SecretStr
    from sqlalchemy import select, text

    from app.cli import make_app
    from app.config import Settings
    from app.feedback import DEFAULT_SIGNAL_MAP
    from app.labelstudio import connect
    from app.migrate import upgrade
    from app.models import Item, Project
    from app.services.reactions import feedback_of
    from workers.labelstudio.push import push_project
    from workers.labelstudio.setup import label_config, setup_project
    from workers.labelstudio.tasks import review_task

    settings = Settings(
        database_url=os.environ["WINNOW_BENCH_DATABASE_URL"],
        redis_url=os.environ["WINNOW_BENCH_REDIS_URL"],
        encryption_key=SecretStr("S0ZSXBt0JmjVgRr4zo4k8Jb2X2Q8F5o1UwHqN3v7c1o="),
        label_studio_url=os.environ["WINNOW_TEST_LABEL_STUDIO_URL"],
        label_studio_token=SecretStr(os.environ["WINNOW_TEST_LABEL_STUDIO_TOKEN"]),
        push_batch_size=args.batch,
    )
    app = make_app(settings)
    engine = app.extensions["winnow"].db.engine
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    upgrade(engine)
    ls = connect(settings)
    if args.prefilled:
        scaling(app, settings, ls, args)
        return
    db = app.extensions["winnow"].db
    rates: dict[str, list[float]] = {"winnow": [], "import-only": []}
    created: list[int] = []
    try:
        for r in range(args.rounds):
            slug = f"bench-{uuid.uuid4().hex[:8]}"
            project_id = seed(app, slug, args.items)
            with db.session() as session:
                setup_project(session, session.get_one(Project, project_id), settings, ls)
            # The same task payloads, built outside the clock, for the import-only baseline.
            with db.session() as session:
                rows = session.execute(select(Item.id, Item.redacted, Item.generation_ref)
                                       .where(Item.project_id == project_id)).all()
                fb = feedback_of(session, project_id, {i: g for i, _, g in rows})
            tasks = [review_task(i, red, fb[i], DEFAULT_SIGNAL_MAP) for i, red, _ in rows]
            bare = ls.projects.create(title=f"import-only {slug}",
                                      label_config=label_config("review"))
            created.append(bare.id)

            def only_import(tasks: list[dict[str, Any]] = tasks, target: int = bare.id) -> None:
                for start in range(0, len(tasks), args.batch):
                    ls.projects.import_tasks(id=target, request=tasks[start:start + args.batch],
                                             return_task_ids=True)

            def winnow(project_id: int = project_id) -> None:
                result = push_project(project_id)
                assert result.created == args.items and result.waiting == 0, result

            pair = [("winnow", winnow), ("import-only", only_import)]
            for name, run in pair if r % 2 == 0 else pair[::-1]:
                start = time.perf_counter()
                run()
                seconds = time.perf_counter() - start
                rates[name].append(args.items / seconds)
                print(f"round {r + 1} {name:12s} {args.items / seconds:8.0f} tasks/s", flush=True)
            from app.models import LabelStudioProject

            with db.session() as session:
                created.extend(session.scalars(select(LabelStudioProject.ls_project_id).where(
                    LabelStudioProject.project_id == project_id)))
    finally:
        delete_projects(ls, created)
    median = {name: statistics.median(v) for name, v in rates.items()}
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "items": args.items, "batch": args.batch, "rounds": args.rounds, "rates": rates,
        "median": median,
        "ratio_vs_import_only": round(median["winnow"] / median["import-only"], 3),
    }
    print(json.dumps({k: result[k] for k in ("median", "ratio_vs_import_only")}, indent=2))
    out = ROOT / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    (out / f"labelstudio-{result['when'].replace(':', '')}.json").write_text(
        json.dumps(result, indent=2))


def delete_projects(ls: Any, ids: list[int]) -> None:
    for ls_project in ids:
        try:
            ls.projects.delete(id=ls_project)
        except Exception as exc:  # best effort clean-up
            print(f"could not delete Label Studio project {ls_project}: {exc}")


def review_project(app: Any, project_id: int) -> int:
    """The Label Studio project that takes the project's new review tasks."""
    from workers.labelstudio.setup import projects_of

    with app.extensions["winnow"].db.session() as session:
        return int(projects_of(session, project_id, "review")[-1].ls_project_id)


def prefill(app: Any, ls: Any, ls_project: int, n: int) -> float:
    """`n` review tasks in the project, imported in bulk (items numbered past any pushed)."""
    from app.feedback import DEFAULT_SIGNAL_MAP
    from app.services.reactions import Feedback
    from workers.labelstudio.tasks import review_task

    redacted = [{"role": "user", "text": "How do I move <PERSON_1>'s invoices to finance?"},
                {"role": "assistant", "text": "Open Settings, Billing, Invoice recipients."}]
    feedback = Feedback({"thumbs_down": 1}, {})
    start = time.perf_counter()
    step = 2000
    for first in range(0, n, step):
        tasks = [review_task(10**9 + i, redacted, feedback, DEFAULT_SIGNAL_MAP)
                 for i in range(first, min(n, first + step))]
        ls.projects.import_tasks(id=ls_project, request=tasks)
        print(f"  prefilled {min(n, first + step):,}/{n:,} tasks "
              f"({time.perf_counter() - start:.0f} s)", end="\r", flush=True)
    print()
    return time.perf_counter() - start


def scaling(app: Any, settings: Any, ls: Any, args: argparse.Namespace) -> None:
    from app import runtime
    from app.models import Project
    from workers.labelstudio.push import push_project
    from workers.labelstudio.setup import setup_project

    # What Label Studio does with a project this size, so no rollover to a new project here
    # (Winnow's default starts one at 100,000 tasks: docs/annotation.md).
    settings = settings.model_copy(update={"label_studio_tasks_per_project": 10_000_000})
    runtime.current().settings = settings

    db = app.extensions["winnow"].db
    created: list[int] = []

    def set_up(slug: str, n: int) -> tuple[int, int]:
        project_id = seed(app, slug, n)
        with db.session() as session:
            setup_project(session, session.get_one(Project, project_id), settings, ls)
        ls_project = review_project(app, project_id)
        created.append(ls_project)
        return project_id, ls_project

    rates: dict[str, list[float]] = {"winnow-empty": [], "winnow-full": []}
    try:
        full, full_ls = set_up(f"bench-full-{uuid.uuid4().hex[:8]}", 0)
        print(f"prefilling Label Studio project {full_ls} with {args.prefilled:,} tasks",
              flush=True)
        fill_seconds = prefill(app, ls, full_ls, args.prefilled)
        for r in range(args.rounds):
            empty, _ = set_up(f"bench-{uuid.uuid4().hex[:8]}", args.items)
            add_items(app, full, args.items, first=r * args.items)

            def push(project_id: int) -> None:
                result = push_project(project_id)
                assert result.created == args.items and result.waiting == 0, result

            pair = [("winnow-empty", empty), ("winnow-full", full)]
            for name, project_id in pair if r % 2 == 0 else pair[::-1]:
                start = time.perf_counter()
                push(project_id)
                seconds = time.perf_counter() - start
                rates[name].append(args.items / seconds)
                print(f"round {r + 1} {name:12s} {args.items / seconds:8.0f} tasks/s", flush=True)
        in_full = ls.projects.get(id=full_ls).task_number
    finally:
        delete_projects(ls, created)
    median = {name: statistics.median(v) for name, v in rates.items()}
    ratio = round(statistics.median(f / e for f, e in zip(rates["winnow-full"],
                                                           rates["winnow-empty"], strict=True)), 3)
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "items": args.items, "batch": args.batch, "rounds": args.rounds,
        "prefilled": args.prefilled, "prefill_seconds": round(fill_seconds, 1),
        "tasks_in_full_project_at_end": in_full, "rates": rates, "median": median,
        "ratio_full_over_empty": ratio, "target_ratio": 0.8, "meets_target": ratio >= 0.8,
    }
    print(json.dumps({k: result[k] for k in ("median", "tasks_in_full_project_at_end",
                                             "ratio_full_over_empty", "meets_target")}, indent=2))
    out = ROOT / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    (out / f"labelstudio-prefilled-{result['when'].replace(':', '')}.json").write_text(
        json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
