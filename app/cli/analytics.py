"""`winnow analytics`: feedback per version, B against A, and the rollups behind them.

The commands read this installation's database, like the other admin commands, and bring the
project's rollups up to date first (the worker does it every few seconds anyway).
"""

from __future__ import annotations

import csv
import sys
from typing import Any

import click
from flask.cli import with_appcontext

from app.cli.common import database, fail, project_id_of, runtime

FORMATS = click.Choice(["table", "csv", "json"])


def _service() -> Any:
    from app.services import analytics

    return analytics


def _filters(values: tuple[str, ...]) -> dict[str, list[str]]:
    svc = _service()
    found: dict[str, list[str]] = _checked(lambda: svc.filters(values, "--where"))
    return found


def _checked(fn: Any) -> Any:
    from app.services.errors import ServiceError

    try:
        return fn()
    except ServiceError as exc:
        fail(str(exc))


def _refreshed(session: Any, project_id: int, refresh: bool) -> None:
    if refresh:
        from app.services import rollups

        rollups.refresh(session, project_id)
        session.commit()


def _signals(session: Any, project_id: int) -> Any:
    from app.models import Project
    from app.services.projects import signal_map

    return signal_map(session.get_one(Project, project_id))


def _number(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def _table(rows: list[dict[str, Any]], columns: list[str]) -> None:
    cells = [[_number(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) if cells else len(c)
              for i, c in enumerate(columns)]
    click.echo("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
    for r in cells:
        click.echo("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)))


@click.group()
def analytics() -> None:
    """Feedback per model and prompt version, B against A, dev-prod skew (docs/analytics.md)."""


@analytics.command("feedback")
@click.option("--project", "slug", required=True, help="Project slug.")
@click.option("--group-by", "group_by", default="",
              help="Comma-separated: model, model_version, prompt_id, prompt_version, feature.")
@click.option("--since", default="30d", show_default=True, help="YYYY-MM-DD or Nd (UTC days).")
@click.option("--until", default=None, help="The day after the last (default: tomorrow).")
@click.option("--interval", type=click.Choice(["day", "week"]), default=None,
              help="One row per group and day or ISO week.")
@click.option("--where", "where", multiple=True,
              help="FIELD:VALUE filter, e.g. feature:search (repeat; the same field twice "
              "matches either).")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@click.option("--refresh/--no-refresh", default=True, show_default=True,
              help="Bring the rollups up to date first.")
@with_appcontext
def feedback(slug: str, group_by: str, since: str, until: str | None, interval: str | None,
             where: tuple[str, ...], fmt: str, refresh: bool) -> None:
    """Feedback per group: generations, users, acceptance and other rates with 95% intervals.

    \b
    winnow analytics feedback --project acme --group-by model_version --since 7d
    """
    svc = _service()
    project_id = project_id_of(slug)
    fields = _checked(lambda: svc.check_fields(
        [f.strip() for f in group_by.split(",") if f.strip()], "--group-by"))
    query = svc.Query(_checked(lambda: svc.window(since, until)), fields, _filters(where),
                      interval)
    with database().session() as session:
        _refreshed(session, project_id, refresh)
        report = svc.feedback(session, project_id, query, _signals(session, project_id))
    if fmt == "json":
        click.echo(report.model_dump_json(indent=2))
        return
    rows = [svc.flat(g) for g in report.groups]
    if fmt == "csv":
        columns = list(dict.fromkeys(c for row in rows for c in row))
        writer = csv.DictWriter(sys.stdout, columns or ["generations"], lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return
    click.echo(f"{report.since} to {report.until} (exclusive), rollups as of "
               f"{report.as_of:%Y-%m-%d %H:%M:%S}Z" if report.as_of else "rollups never built")
    if not rows:
        click.echo("no generations in this window")
        return
    shown = [*fields, *(["period"] if interval else []), "generations", "users", "events",
             "signal", "acceptance", "acceptance_low", "acceptance_high", "regenerate",
             "ignore", "thumbs_up_share", "rating"]
    _table(rows, shown)


@analytics.command("compare")
@click.argument("a")
@click.argument("b")
@click.option("--project", "slug", required=True, help="Project slug.")
@click.option("--since", default="30d", show_default=True, help="YYYY-MM-DD or Nd (UTC days).")
@click.option("--until", default=None, help="The day after the last (default: tomorrow).")
@click.option("--where", "where", multiple=True, help="FIELD:VALUE filter for both sides.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
@click.option("--refresh/--no-refresh", default=True, show_default=True)
@with_appcontext
def compare(a: str, b: str, slug: str, since: str, until: str | None, where: tuple[str, ...],
            fmt: str, refresh: bool) -> None:
    """B against A, each FIELD:VALUE: every rate's difference, interval, test and verdict.

    \b
    winnow analytics compare prompt_version:7 prompt_version:8 --project acme
    """
    svc = _service()
    project_id = project_id_of(slug)
    side_a = _checked(lambda: svc.parse_side(a, "A"))
    side_b = _checked(lambda: svc.parse_side(b, "B"))
    window = _checked(lambda: svc.window(since, until))
    filters = _filters(where)
    with database().session() as session:
        _refreshed(session, project_id, refresh)
        out = svc.compare(session, project_id, window, side_a, side_b, filters,
                          _signals(session, project_id))
    if fmt == "json":
        click.echo(out.model_dump_json(indent=2))
        return
    click.echo(f"A {a}: {out.a.generations} generations; B {b}: {out.b.generations} "
               f"generations; {out.since} to {out.until} (exclusive)")
    rows = [{
        "metric": m.metric,
        "a": m.a.value,
        "b": m.b.value,
        "b - a": m.difference,
        "low": m.interval.low if m.interval else None,
        "high": m.interval.high if m.interval else None,
        "p": m.p_value,
        "verdict": m.verdict,
        "n a": m.a.n,
        "n b": m.b.n,
    } for m in out.metrics]
    _table(rows, list(rows[0]))
    click.echo(f"verdict: B is {out.verdict}" if out.verdict in ("better", "worse")
               else f"verdict: {out.verdict}")
    if out.more_generations["a"] or out.more_generations["b"]:
        click.echo(f"to see a 5-point change in every rate: about {out.more_generations['a']} "
                   f"more generations for A and {out.more_generations['b']} for B")


@analytics.command("skew")
@click.option("--project", "slug", required=True, help="Project slug.")
@click.option("--dataset", "dataset_ref", required=True, help="NAME@VERSION (or NAME: latest).")
@click.option("--split", type=click.Choice(["train", "validation", "test"]), default="test",
              show_default=True)
@click.option("--since", default="30d", show_default=True, help="Production from: YYYY-MM-DD "
              "or Nd (UTC days).")
@click.option("--until", default=None, help="The day after the last (default: tomorrow).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
@with_appcontext
def skew(slug: str, dataset_ref: str, split: str, since: str, until: str | None,
         fmt: str) -> None:
    """Does a dataset split still look like recent production? PSI per feature and topics.

    \b
    winnow analytics skew --project acme --dataset support-eval@3 --split test --since 30d
    """
    from app.models import Project

    svc = _service()
    project_id = project_id_of(slug)
    window = _checked(lambda: svc.window(since, until))
    with database().session() as session:
        project = session.get_one(Project, project_id)
        out = _checked(lambda: svc.skew(session, runtime().store, project, dataset_ref, split,
                                        window))
    if fmt == "json":
        click.echo(out.model_dump_json(indent=2))
        return
    click.echo(f"{out.dataset}@{out.version} {out.split} ({out.reference_count} conversations) "
               f"against production {out.since} to {out.until} ({out.production_count}): "
               f"{out.status}")
    rows = [{"feature": f.name, "status": f.status, "psi": f.psi, "ks": f.ks,
             "split": _summary(f.reference), "production": _summary(f.production)}
            for f in out.features]
    _table(rows, list(rows[0]))
    for c in out.clusters:
        if c.under_covered:
            click.echo(f"under-covered topic ({c.production_share:.0%} of production, "
                       f"{c.reference_share:.0%} of the split): {', '.join(c.top_terms)}; "
                       f"e.g. {', '.join(c.examples[:3])}")


def _summary(values: dict[str, float]) -> str:
    shown = list(values.items())[:3]
    return " ".join(f"{k}={v:.3g}" for k, v in shown)


@analytics.command("refresh")
@click.option("--project", "slug", default=None, help="Project slug (default: every project).")
@click.option("--rebuild", is_flag=True, help="Drop the rollups and recompute every day.")
@with_appcontext
def refresh_command(slug: str | None, rebuild: bool) -> None:
    """Bring the feedback rollups up to date now (the worker does it every few seconds)."""
    from app.services import rollups

    if rebuild and not slug:
        fail("--rebuild needs --project")
    with database().session() as session:
        if slug:
            project_id = project_id_of(slug)
            done = [rollups.rebuild(session, project_id) if rebuild
                    else rollups.refresh(session, project_id)]
        else:
            done = rollups.refresh_all(session)
    days = sum(r.days for r in done)
    click.echo(f"refreshed {len(done)} project(s): {days} day(s) recomputed")


ANALYTICS_COMMANDS = (analytics,)
