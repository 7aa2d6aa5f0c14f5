"""`winnow import`, `winnow items`, `winnow jobs`, `winnow eval`: curation from the shell."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import IO, Any

import click
import orjson
from flask.cli import with_appcontext
from pydantic import ValidationError

from app.cli.common import (
    current_settings,
    database,
    drain_embedded_queue,
    fail,
    project_id_of,
    queue_call,
    runtime,
    sealer,
)
from app.models.item import STATES

IMPORT_CHUNK = 500


@click.group("import")
def import_() -> None:
    """Backfill data from files."""


@import_.command("conversations")
@click.argument("file", type=click.File("rb"))
@click.option("--project", "slug", required=True, help="Project slug.")
@with_appcontext
def import_conversations(file: IO[bytes], slug: str) -> None:
    """Import shared conversations from FILE (JSON Lines, '-' for stdin).

    Each line is one conversation in the shape POST /v1/conversations takes (id, messages,
    consent: true, ...). Valid lines are stored and queued for curation even when others are
    not; bad lines are reported by line number and field, never by content. Re-importing a file
    is harmless: ids already stored are counted as duplicates.
    """
    from app.services.conversations import from_conversation, store_shares

    project_id = project_id_of(slug)
    box = sealer()
    counts = dict.fromkeys(("created", "duplicate", "conflict", "invalid"), 0)
    chunk: list[Any] = []

    def flush() -> None:
        with database().session() as session:
            outcomes = store_shares(session, project_id, chunk, source="import", box=box,
                                    queue=runtime().queue)
        for outcome in outcomes:
            counts[outcome] += 1
        chunk.clear()

    for _lineno, share in _read_lines(file, counts):
        chunk.append(from_conversation(share))
        if len(chunk) >= IMPORT_CHUNK:
            flush()
    if chunk:
        flush()
    click.echo(" ".join(f"{k}={v}" for k, v in counts.items()))
    drain_embedded_queue()
    if counts["invalid"] or counts["conflict"]:
        raise SystemExit(1)


def _read_lines(file: IO[bytes], counts: dict[str, int]) -> Iterator[tuple[int, Any]]:
    from app.api.errors import field_errors
    from app.payloads.conversations import CONVERSATION_ADAPTER

    for lineno, line in enumerate(file, 1):
        if not line.strip():
            continue
        try:
            yield lineno, CONVERSATION_ADAPTER.validate_python(orjson.loads(line))
        except orjson.JSONDecodeError as exc:
            counts["invalid"] += 1
            click.echo(f"line {lineno}: not valid JSON ({exc.msg})", err=True)
        except ValidationError as exc:
            counts["invalid"] += 1
            errors = "; ".join(f"{e['field'] or '(line)'}: {e['detail']}"
                               for e in field_errors(exc)[:5])
            click.echo(f"line {lineno}: {errors}", err=True)


@click.group()
def items() -> None:
    """Curation items: list, show, and decide (release, reject, split, confirm)."""


@items.command("list")
@click.option("--project", "slug", required=True)
@click.option("--state", "states", multiple=True,
              type=click.Choice(list(STATES)),
              help="Repeatable; default all.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@with_appcontext
def items_list(slug: str, states: tuple[str, ...], limit: int) -> None:
    """One line per item: id, state, votes, reasons."""
    from app.services.items import list_items

    project_id = project_id_of(slug)
    with database().session() as session:
        page, _ = list_items(session, project_id, states, None, limit)
    for s in page:
        reasons = "; ".join(s.reasons) or "-"
        click.echo(f"{s.id}\t{s.state}\tvotes={s.votes}\t{reasons}")


@items.command("show")
@click.argument("item_id")
@click.option("--project", "slug", required=True)
@with_appcontext
def items_show(item_id: str, slug: str) -> None:
    """The item as GET /v1/items/{id} returns it (redacted text only, its review history
    under `reviews`), as JSON."""
    from app.models import Project
    from app.services.errors import ServiceError
    from app.services.items import get_item, item_detail
    from app.services.projects import signal_map

    project_id = project_id_of(slug)
    try:
        with database().session() as session:
            item = get_item(session, project_id, item_id)
            out = item_detail(session, item, signal_map(session.get_one(Project, project_id)))
    except ServiceError as exc:
        fail(str(exc))
    click.echo(out.model_dump_json(indent=2))


def _decide(item_id: str, slug: str, note: str | None, action: str) -> None:
    import getpass

    from app.services.decisions import decide
    from app.services.errors import ServiceError

    project_id = project_id_of(slug)
    try:
        with database().session() as session:
            item = decide(session, project_id, item_id, action,  # type: ignore[arg-type]
                          actor=f"cli:{getpass.getuser()}", note=note)
    except ServiceError as exc:
        fail(str(exc))
    click.echo(f"{item.external_id}\t{item.state}")


def _decision(name: str, help_text: str) -> None:
    """One `winnow items <action>` command: the same decision as POST /v1/items/{id}/<action>."""

    @items.command(name, help=help_text)
    @click.argument("item_id")
    @click.option("--project", "slug", required=True)
    @click.option("--note", default=None, help="Why; kept in the item's review history.")
    @with_appcontext
    def command(item_id: str, slug: str, note: str | None) -> None:
        _decide(item_id, slug, note, name)


_decision("release", "Release an item held back (quarantined, rejected_prank, rejected_pii): "
          "it becomes accepted.")
_decision("reject", "Reject a quarantined or accepted item as a prank.")
_decision("split", "Split a duplicate out: it becomes its own accepted item, and its vote and "
          "feedback leave the item it was merged into.")
_decision("confirm", "Record that the machine's decision on the item is right (for "
          "`winnow eval curation --reviews`).")


@click.group()
def jobs() -> None:
    """Background jobs: failed ones, retrying them, and the reconciler."""


@jobs.command("failed")
@with_appcontext
def jobs_failed() -> None:
    """Jobs that failed after all their retries, and items waiting after a failure."""
    from app.services.items import failed_waiting

    db = database()
    failed = queue_call(lambda q: q.failed())
    for job in failed:
        when = job.failed_at.isoformat(timespec="seconds") if job.failed_at else "?"
        click.echo(f"job {job.id}\t{job.func}\t{when}\t{job.error}")
    with db.session() as session:
        waiting = failed_waiting(session)
    for ext, job_id, attempts, error in waiting:
        click.echo(f"item {ext}\tjob {job_id}\tattempts={attempts}\t{error}")
    if not failed and not waiting:
        click.echo("no failed jobs")


@jobs.command("retry")
@click.argument("job_ids", nargs=-1)
@click.option("--all", "retry_all", is_flag=True, help="Retry every failed job.")
@with_appcontext
def jobs_retry(job_ids: tuple[str, ...], retry_all: bool) -> None:
    """Put failed jobs back on the queue (their items are still in `received`)."""
    from app.jobs import CURATE, new_job_id
    from app.services.items import assign_job, rearm_failed

    if not job_ids and not retry_all:
        fail("name the job ids to retry (see `winnow jobs failed`), or pass --all")
    database()
    rt = runtime()
    ids = list(job_ids) or [j.id for j in queue_call(lambda q: q.failed())]
    retried = 0
    for job_id in ids:
        if queue_call(lambda q, j=job_id: q.retry(j)):
            retried += 1
        elif rt.queue.durable:
            click.echo(f"{job_id}: not a failed job", err=True)
    with rt.db.session() as session:  # their items get another full round of attempts
        stuck = rearm_failed(session, ids if job_ids else None)
    if not rt.queue.durable and stuck:
        # Embedded: the failed jobs lived in the server's memory; run their items here.
        job_id = new_job_id("curate")
        with rt.db.session() as session:
            assign_job(session, stuck, job_id)
        rt.queue.enqueue(CURATE, stuck, job_id=job_id)
        retried += 1
        drain_embedded_queue()
    click.echo(f"retried {retried} job(s)")
    if retried < len(ids):
        raise SystemExit(1)


@jobs.command("reconcile")
@click.option("--older-than", type=click.IntRange(0), default=None,
              help="Seconds an item must have waited [default: WINNOW_RECONCILE_AFTER_SECONDS].")
@with_appcontext
def jobs_reconcile(older_than: int | None) -> None:
    """Re-enqueue items stuck in `received` (workers and `winnow up` also do this by
    themselves every WINNOW_RECONCILE_EVERY_SECONDS)."""
    from workers.periodic import reconcile

    age = None if older_than is None else timedelta(seconds=older_than)
    database()
    n = queue_call(lambda _q: reconcile(age))
    click.echo(f"re-enqueued {n} item(s)")
    drain_embedded_queue()


@click.group("eval")
def eval_() -> None:
    """Measure the curation stages on labelled data."""


@eval_.command("curation")
@click.option("--data", "data_dir", type=click.Path(file_okay=False, path_type=Path),
              default=None, help="Folder holding the evaluation sets (e.g. ../shared/data).")
@click.option("--subset", type=click.Choice(["all", "dev", "holdout"]), default="all",
              show_default=True, help="Which half of each set (rules were tuned on dev).")
@click.option("--reviews", is_flag=True,
              help="Instead: each stage's precision against the decisions people made on "
              "this project's items (needs --project).")
@click.option("--project", "slug", default=None, help="Project slug, with --reviews.")
@click.option("--loso", is_flag=True,
              help="Instead: leave-one-source-out; each source of --data and data/curation "
              "is measured by prank models fitted and tuned without it (generalisation).")
@click.option("--json", "as_json", is_flag=True, help="Print the full results as JSON.")
@with_appcontext
def eval_curation(data_dir: Path | None, subset: str, reviews: bool, slug: str | None,
                  loso: bool, as_json: bool) -> None:
    """Precision and recall of PII, prank and dedupe stages, with the configured settings, on
    labelled sets (--data), on sources left out of fitting (--loso), or against people's
    decisions on production data (--reviews)."""
    if reviews:
        _eval_reviews(slug, as_json)
        return
    if loso:
        _eval_loso(data_dir, as_json)
        return
    from workers.evaluation.report import evaluate_all, render

    if data_dir is None:
        fail("give --data FOLDER (the labelled sets), or --reviews --project SLUG")
    assert data_dir is not None
    if not data_dir.is_dir():
        fail(f"{data_dir} is not a folder")
    results = evaluate_all(data_dir, current_settings(), subset)
    click.echo(json.dumps(results, indent=2) if as_json else render(results))
    if not results.get("passed", True):
        raise SystemExit(1)


def _eval_loso(data_dir: Path | None, as_json: bool) -> None:
    from workers.evaluation.report import evaluate_generalisation, render_generalisation

    if data_dir is not None and not data_dir.is_dir():
        fail(f"{data_dir} is not a folder")
    try:
        results = evaluate_generalisation(data_dir)
    except FileNotFoundError as exc:
        fail(str(exc))
        return
    click.echo(json.dumps(results, indent=2) if as_json else render_generalisation(results))
    if not results["passed"]:
        raise SystemExit(1)


def _eval_reviews(slug: str | None, as_json: bool) -> None:
    from workers.evaluation.reviews import outcomes, precision, render

    if slug is None:
        fail("--reviews needs --project SLUG")
    assert slug is not None
    project_id = project_id_of(slug)
    with database().session() as session:
        stats = precision(outcomes(session, project_id))
    click.echo(json.dumps(stats, indent=2) if as_json else render(slug, stats))


@click.command("encryption-key")
def encryption_key() -> None:
    """Print a new Fernet key for WINNOW_ENCRYPTION_KEY (to rotate, put it first and keep the
    old one after a comma until no item in `received` still uses it)."""
    from app.services.crypto import new_key

    click.echo(new_key())


CURATION_COMMANDS = (import_, items, jobs, eval_)
