"""`winnow up`, `winnow serve`, `winnow worker`, `winnow db`: run the service and its database."""

from __future__ import annotations

import os
import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from app.cli.common import current_settings, database, fail, sealer


@click.command()
@click.option("--host", default=None, help="Interface to listen on [default: WINNOW_HOST or "
              "127.0.0.1].")
@click.option("--port", type=int, default=None, help="[default: WINNOW_PORT or 8000]")
@click.option("--project", "slug", default="local", show_default=True,
              help="Project to create on first start.")
@with_appcontext
def up(host: str | None, port: int | None, slug: str) -> None:
    """Run the whole service embedded: migrate, create a project and key, serve.

    With no configuration this uses an SQLite file under WINNOW_DATA_DIR and an in-process
    queue; nothing else needs installing. The API key is printed once, when it is created.
    """
    from app.logs import configure_logging
    from app.migrate import upgrade
    from app.server import serve_embedded
    from app.services.keys import Scope, create_key, list_keys
    from app.services.projects import get_or_create_project
    from workers.periodic import chores

    settings = current_settings()
    db = database(check=False)
    upgrade(db.engine)
    with db.session() as session:
        project = get_or_create_project(session, slug)
        token = None
        if not list_keys(session, project):
            scopes = [Scope.EVENTS_WRITE, Scope.EVENTS_READ, Scope.DATASETS_READ, Scope.ADMIN]
            token = create_key(session, project, "winnow up", scopes).token
    host = host or settings.host
    port = port if port is not None else settings.port
    click.echo(f"Winnow is up on http://{host}:{port} (project '{slug}')")
    click.echo(f"  console:  http://{host}:{port}/ (open it, sign in with the key)")
    click.echo(f"  database: {db.engine.url.render_as_string(hide_password=True)}")
    queue = f"RQ on {settings.redis_url}" if settings.redis_url else "in-process"
    click.echo(f"  queue:    {queue}")
    if token:
        click.echo(f"  API key (shown once, keep it): {token}")
    else:
        click.echo("  API key: created on first start; make another with "
                   f"`winnow keys create --project {slug}`")
    sys.stdout.flush()
    sealer()  # every process shares one key: refuse to start without it
    configure_logging(settings.log_level)
    for chore in chores(settings):
        chore.start()
    serve_embedded(current_app._get_current_object(), host, port)  # type: ignore[attr-defined]


@click.command()
@click.option("--host", default=None, help="[default: WINNOW_HOST or 127.0.0.1]")
@click.option("--port", type=int, default=None, help="[default: WINNOW_PORT or 8000]")
@click.option("--workers", type=int, default=lambda: os.cpu_count() or 1,
              help="Processes [default: one per core].")
@click.option("--threads", type=int, default=4, show_default=True, help="Threads per process.")
@with_appcontext
def serve(host: str | None, port: int | None, workers: int, threads: int) -> None:
    """Run the production server (gunicorn). Run `winnow db upgrade` first."""
    from app.logs import configure_logging
    from app.server import serve_production

    settings = current_settings()
    database()  # exists and is at head
    sealer()  # every process shares one key: refuse to start without it
    configure_logging(settings.log_level)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    serve_production(app, host or settings.host,
                     port if port is not None else settings.port, workers, threads)


@click.command()
@click.option("--burst", is_flag=True, help="Exit when the queue is empty.")
@with_appcontext
def worker(burst: bool) -> None:
    """Run an RQ worker on WINNOW_REDIS_URL; start as many as you like, anywhere.

    The worker loads the curation pipeline (and its spaCy model) once, runs jobs in its own
    process, and every WINNOW_RECONCILE_EVERY_SECONDS re-enqueues items stuck in `received`
    (one worker per interval does it).
    """
    os.environ.setdefault("OMP_NUM_THREADS", "1")  # before numpy loads: one core per worker
    from app.logs import configure_logging
    from workers.curation.runtime import models
    from workers.periodic import chores
    from workers.queue import rq_worker

    settings = current_settings()
    if not settings.redis_url:
        fail("WINNOW_REDIS_URL is not set: workers share jobs through Redis "
              "(the embedded mode runs jobs inside `winnow up` instead)")
    assert settings.redis_url is not None
    database()  # exists and is at head, before loading models for jobs that would fail
    sealer()  # every process shares one key: refuse to start without it
    configure_logging(settings.log_level)
    models().pipeline  # noqa: B018 - load the models before the first job
    from app.server import freeze_startup_heap

    # The models are ~250,000 objects that live as long as the worker: out of the collector's
    # walk (a full collection over them took ~130 ms), or every one in a job walks them.
    freeze_startup_heap()
    background = chores(settings)
    for chore in background:
        chore.start()
    try:
        rq_worker(settings.redis_url, settings.queue_name).work(
            burst=burst, with_scheduler=True, logging_level=settings.log_level)
    finally:
        for chore in background:
            chore.stop()




@click.group()
def db() -> None:
    """Database schema (Alembic migrations)."""


@db.command("upgrade")
@click.argument("revision", default="head")
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (default: head)."""
    from app.migrate import current_revision, upgrade

    engine = database(check=False).engine
    upgrade(engine, revision)
    click.echo(f"database at revision {current_revision(engine)}")


@db.command("current")
@with_appcontext
def db_current() -> None:
    """Print the database's revision and the code's head."""
    from app.migrate import current_revision, head_revision, schema_problem

    engine = database(check=False).engine
    problem = schema_problem(engine, at_head=False)  # a file never set up is not created
    if problem:
        fail(problem)
    click.echo(f"current: {current_revision(engine)}  head: {head_revision(engine)}")
