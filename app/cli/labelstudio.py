"""`winnow labelstudio ...`: set up the Label Studio projects, push, sync, status."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from app.cli.common import current_settings, database, fail, project_id_of


@click.group("labelstudio")
def labelstudio() -> None:
    """Annotation in Label Studio (WINNOW_LABEL_STUDIO_URL / _TOKEN)."""


def _client() -> object:
    from app.labelstudio import NotConfigured, connect

    try:
        return connect(current_settings())
    except NotConfigured as exc:
        fail(str(exc))
    raise AssertionError


@labelstudio.command("setup")
@click.option("--project", "slug", required=True, help="Project slug.")
@with_appcontext
def setup(slug: str) -> None:
    """Create or update the project's Label Studio projects from label_config/ and register
    the webhook (needs WINNOW_PUBLIC_URL and WINNOW_LABEL_STUDIO_WEBHOOK_SECRET). Idempotent."""
    from app.labelstudio import Refused, Unavailable
    from app.models import Project
    from workers.labelstudio.setup import hook_url, setup_project

    ls = _client()
    project_id = project_id_of(slug)
    try:
        with database().session() as session:
            project = session.get_one(Project, project_id)
            results = setup_project(session, project, current_settings(), ls)
    except (Unavailable, Refused) as exc:
        fail(str(exc))
    for r in results:
        what = "created" if r.created else ("updated" if r.config_changed else "unchanged")
        hook = f"webhook {r.webhook_id}" if r.webhook_id else "no webhook"
        click.echo(f"{r.kind:9} Label Studio project {r.ls_project_id}: {what}, {hook}")
    settings = current_settings()
    if hook_url(settings) is None or settings.label_studio_webhook_secret is None:
        click.echo("no webhook: set WINNOW_PUBLIC_URL and WINNOW_LABEL_STUDIO_WEBHOOK_SECRET; "
                   "until then the periodic sync brings annotations")


@labelstudio.command("push")
@click.option("--project", "slug", required=True, help="Project slug.")
@with_appcontext
def push(slug: str) -> None:
    """Push accepted items as tasks now (exactly once; also done after curation and
    periodically)."""
    from app.labelstudio import Refused, Unavailable
    from workers.labelstudio.push import push_project

    _client()
    try:
        result = push_project(project_id_of(slug))
    except (Unavailable, Refused) as exc:
        fail(f"{exc}; items wait in annotation_pending and the next push retries them")
        raise AssertionError from exc
    click.echo(f"created {result.created} task(s), recovered {result.recovered}, "
               f"{result.waiting} item(s) waiting; created {result.pairs} pairwise task(s), "
               f"recovered {result.pairs_recovered}")


@labelstudio.command("sync")
@click.option("--project", "slug", required=True, help="Project slug.")
@with_appcontext
def sync(slug: str) -> None:
    """Bring every annotation back now (what a lost webhook missed; also done periodically)."""
    from app.labelstudio import Refused, Unavailable
    from workers.labelstudio.sync import sync_project

    _client()
    try:
        result = sync_project(project_id_of(slug))
    except (Unavailable, Refused) as exc:
        fail(str(exc))
        raise AssertionError from exc
    click.echo(f"{result.tasks} task(s) read: {result.stored} annotation(s) stored or changed, "
               f"{result.deleted} marked deleted")


@labelstudio.command("agreement")
@click.option("--project", "slug", required=True, help="Project slug.")
@click.option("--items", "show_items", is_flag=True, help="Also list items with 2+ verdicts.")
@with_appcontext
def agreement_table(slug: str, show_items: bool) -> None:
    """Agreement on the verdict, and how well each kind of user feedback predicts it."""
    from app.models import Project
    from app.services.annotations import agreement, overlapped_public_ids

    project_id = project_id_of(slug)
    with database().session() as session:
        r = agreement(session, session.get_one(Project, project_id))
        public_ids = overlapped_public_ids(session, r) if show_items else {}

    def num(value: float | None) -> str:
        return "-" if value is None else f"{value:.3f}"

    click.echo(f"annotations {r.annotations}, annotators {r.annotators}, items annotated "
               f"{r.items_annotated}, with 2+ verdicts {r.items_with_overlap}")
    click.echo(f"percent agreement {num(r.percent_agreement)}, Krippendorff's alpha "
               f"(nominal) {num(r.krippendorff_alpha)}")
    if r.feedback:
        click.echo("")
        click.echo(f"{'user feedback':16} {'predicts':8} {'items':>6} {'agree':>6} {'rate':>6}")
        for f in r.feedback:
            click.echo(f"{f.feedback:16} {f.predicts:8} {f.items:6} {f.agree:6} "
                       f"{num(f.agreement):>6}")
    if show_items:
        click.echo("")
        for a in r.items:
            if a.percent_agreement is not None:
                click.echo(f"item {public_ids[a.item_id]}: {a.good} good, {a.bad} bad, agreement "
                           f"{num(a.percent_agreement)}, majority {a.majority or 'tie'}")


LABELSTUDIO_COMMANDS = (labelstudio,)
