"""`winnow samples`: read a day's sample of production traffic and give verdicts.

Like the other admin commands, these work on this installation's database; the text shown is
the redacted conversation, as everywhere else.
"""

from __future__ import annotations

import getpass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import click
from flask.cli import with_appcontext

from app.cli.common import database, fail, project_id_of


def _day(text: str | None) -> date:
    if text in (None, "today"):
        return datetime.now(UTC).date()
    if text == "yesterday":
        return datetime.now(UTC).date() - timedelta(days=1)
    try:
        return date.fromisoformat(str(text))
    except ValueError:
        fail(f"--date {text!r}: expected YYYY-MM-DD, today or yesterday")
    raise AssertionError


def _run(fn: Any) -> Any:
    from app.services.errors import ServiceError

    try:
        return fn()
    except ServiceError as exc:
        fail(str(exc))


@click.group()
def samples() -> None:
    """Daily samples of accepted items, and people's verdicts on them (docs/analytics.md)."""


@samples.command("show")
@click.option("--project", "slug", required=True, help="Project slug.")
@click.option("--date", "day", default="yesterday", show_default=True,
              help="YYYY-MM-DD (UTC), today or yesterday.")
@click.option("--size", type=click.IntRange(1, 500), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="The API's JSON instead of text.")
@with_appcontext
def show(slug: str, day: str, size: int, as_json: bool) -> None:
    """A reproducible, stratified sample: negative feedback first, every model version."""
    from app.models import Project
    from app.services import samples as service
    from app.services.projects import signal_map

    project_id = project_id_of(slug)
    when = _day(day)
    with database().session() as session:
        signals = signal_map(session.get_one(Project, project_id))
        out = service.daily_sample(session, project_id, when, size, signals)
    if as_json:
        click.echo(out.model_dump_json(indent=2))
        return
    strata = ", ".join(f"{s.stratum} {s.sampled}/{s.population}" for s in out.strata)
    click.echo(f"{out.date}: {len(out.items)} of {out.population} accepted items"
               + (f" ({strata})" if strata else ""))
    for item in out.items:
        score = "-" if item.feedback.score is None else f"{item.feedback.score:+.2f}"
        flags = " new-prompt" if item.new_prompt_version else ""
        verdict = f" verdict={item.verdict.verdict}" if item.verdict else ""
        reactions = ",".join(f"{t}:{n}" for t, n in item.feedback.by_type.items()) or "none"
        click.echo(f"\n{item.item_id}  {item.stratum}  prompt={item.prompt_id or '-'}@"
                   f"{item.prompt_version or '-'}  score={score}  [{reactions}]{flags}"
                   f"{verdict}")
        for message in item.messages:
            text = " ".join(message.content.split())
            click.echo(f"  {message.role}: {text[:300]}{'...' if len(text) > 300 else ''}")


@samples.command("verdict")
@click.argument("item_id")
@click.argument("verdict", type=click.Choice(["good", "bad", "unsure"]))
@click.option("--project", "slug", required=True, help="Project slug.")
@click.option("--date", "day", default="yesterday", show_default=True,
              help="The sample's day: the item's day of receipt.")
@click.option("--mode", "modes", multiple=True, help="A failure mode (repeat).")
@click.option("--note", default=None, help="Why (kept with the verdict).")
@with_appcontext
def verdict(item_id: str, verdict: str, slug: str, day: str, modes: tuple[str, ...],
            note: str | None) -> None:
    """Record a verdict on ITEM_ID (good, bad or unsure); it replaces an earlier one."""
    from pydantic import ValidationError

    from app.payloads.samples import VerdictIn
    from app.services import samples as service

    try:
        body = VerdictIn(verdict=verdict, failure_modes=list(modes), note=note)  # type: ignore[arg-type]
    except ValidationError as exc:
        fail("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()))
    project_id = project_id_of(slug)
    when = _day(day)

    def record() -> Any:
        with database().session() as session:
            return service.record_verdict(session, project_id, when, item_id, body,
                                          actor=f"cli:{getpass.getuser()}")

    out = _run(record)
    modes_text = f" ({', '.join(out.failure_modes)})" if out.failure_modes else ""
    click.echo(f"{out.item_id}: {out.verdict}{modes_text} on the sample of {out.date}")


SAMPLE_COMMANDS = (samples,)
