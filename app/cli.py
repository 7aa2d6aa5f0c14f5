"""The `winnow` command (Flask's click CLI): run the service, workers, keys, schemas."""

from __future__ import annotations

import os
import sys
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from app.config import Settings


def _make_app() -> Flask:
    from app import create_app

    return create_app()


def _fail(message: str) -> None:
    raise click.ClickException(message)


def database(check: bool = True) -> Any:
    """The app's database; checked (once) to exist and be migrated, so a command on a data
    folder never set up says what to run instead of creating an empty file and a traceback.
    Only `winnow up` and `winnow db upgrade` take it unchecked: they create it."""
    db = current_app.extensions["winnow.db"]
    if check and not current_app.extensions.get("winnow.db_checked"):
        from app.migrate import schema_problem

        problem = schema_problem(db.engine)
        if problem:
            _fail(problem)
        current_app.extensions["winnow.db_checked"] = True
    return db


def _db() -> Any:
    return database()


class WinnowGroup(FlaskGroup):
    """Flask's CLI group without the options meant for generic Flask apps (-A, -e, --debug)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.params = [p for p in self.params if p.name not in {"env_file", "app", "debug"}]

    def _load_plugin_commands(self) -> None:
        """Other packages' `flask.commands` entry points are not Winnow commands."""


@click.group(cls=WinnowGroup, create_app=_make_app, add_default_commands=False,
             add_version_option=False, load_dotenv=False)
def main() -> None:
    """Winnow: capture feedback on LLM output and curate it into datasets.

    Configuration comes from WINNOW_* environment variables (see docs/configuration.md).
    With none set, everything runs embedded: SQLite and an in-process queue.
    """


def register_commands(app: Flask) -> None:
    """Commands that need the app; `main` finds them through the app's CLI group."""
    from app.cli_curation import CURATION_COMMANDS, encryption_key, import_
    from app.cli_datasets import DATASET_COMMANDS, IMPORT_COMMANDS
    from app.cli_labelstudio import LABELSTUDIO_COMMANDS

    keys.add_command(encryption_key)
    for command in IMPORT_COMMANDS:
        import_.add_command(command)
    for command in (up, serve, worker, db, keys, projects, schemas, *CURATION_COMMANDS,
                    *LABELSTUDIO_COMMANDS, *DATASET_COMMANDS):
        app.cli.add_command(command)


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

    settings: Settings = current_app.config["WINNOW_SETTINGS"]
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
    click.echo(f"  database: {db.engine.url.render_as_string(hide_password=True)}")
    queue = f"RQ on {settings.redis_url}" if settings.redis_url else "in-process"
    click.echo(f"  queue:    {queue}")
    if token:
        click.echo(f"  API key (shown once, keep it): {token}")
    else:
        click.echo("  API key: created on first start; make another with "
                   f"`winnow keys create --project {slug}`")
    sys.stdout.flush()
    _check_encryption(settings)
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

    settings: Settings = current_app.config["WINNOW_SETTINGS"]
    _db()  # exists and is at head
    _check_encryption(settings)
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
    from workers import runtime
    from workers.periodic import chores
    from workers.queue import rq_worker

    settings: Settings = current_app.config["WINNOW_SETTINGS"]
    if not settings.redis_url:
        _fail("WINNOW_REDIS_URL is not set: workers share jobs through Redis "
              "(the embedded mode runs jobs inside `winnow up` instead)")
    assert settings.redis_url is not None
    _db()  # exists and is at head, before loading models for jobs that would fail
    _check_encryption(settings)
    configure_logging(settings.log_level)
    runtime.current().pipeline  # noqa: B018 - load the models before the first job
    background = chores(settings)
    for chore in background:
        chore.start()
    try:
        rq_worker(settings.redis_url, settings.queue_name).work(
            burst=burst, with_scheduler=True, logging_level=settings.log_level)
    finally:
        for chore in background:
            chore.stop()


def _check_encryption(settings: Settings) -> None:
    from app.services.crypto import KeyMissing, cipher

    try:
        cipher(settings)
    except KeyMissing as exc:
        _fail(str(exc))


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
        _fail(problem)
    click.echo(f"current: {current_revision(engine)}  head: {head_revision(engine)}")


@click.group()
def keys() -> None:
    """API keys: create (shown once), list, revoke; and new encryption keys."""


@keys.command("create")
@click.option("--project", "slug", required=True, help="Project slug.")
@click.option("--name", default="cli", show_default=True, help="A label to recognise the key.")
@click.option("--scope", "scopes", multiple=True,
              help="Repeatable: events:write, events:read, items:read, items:review, "
              "datasets:read, datasets:write, admin [default: events:write and "
              "events:read].")
@click.option("--rate-limit", default=None, help="Override WINNOW_RATE_LIMIT, e.g. '50/second'.")
@with_appcontext
def keys_create(slug: str, name: str, scopes: tuple[str, ...], rate_limit: str | None) -> None:
    """Create a key and print it; only its hash is stored."""
    from app.services.errors import ServiceError
    from app.services.keys import DEFAULT_SCOPES, create_key
    from app.services.projects import get_project

    try:
        with _db().session() as session:
            issued = create_key(session, get_project(session, slug), name,
                                scopes or DEFAULT_SCOPES, rate_limit)
    except ServiceError as exc:
        _fail(str(exc))
    click.echo(issued.token)


@keys.command("list")
@click.option("--project", "slug", required=True)
@with_appcontext
def keys_list(slug: str) -> None:
    """List a project's keys by prefix (secrets are never shown again)."""
    from app.services.errors import ServiceError
    from app.services.keys import list_keys
    from app.services.projects import get_project

    try:
        with _db().session() as session:
            rows = list_keys(session, get_project(session, slug))
    except ServiceError as exc:
        _fail(str(exc))
    click.echo(f"{'PREFIX':14} {'NAME':20} {'SCOPES':45} {'CREATED':20} STATE")
    for k in rows:
        state = f"revoked {k.revoked_at:%Y-%m-%d}" if k.revoked_at else "active"
        click.echo(f"{k.prefix:14} {k.name[:20]:20} {','.join(k.scopes):45} "
                   f"{k.created_at:%Y-%m-%d %H:%M:%S}  {state}")


@keys.command("revoke")
@click.argument("prefix")
@with_appcontext
def keys_revoke(prefix: str) -> None:
    """Revoke the key with PREFIX (the part after 'wn_'); takes effect at once."""
    from app.services.errors import ServiceError
    from app.services.keys import revoke_key

    try:
        with _db().session() as session:
            revoke_key(session, prefix)
    except ServiceError as exc:
        _fail(str(exc))
    click.echo(f"revoked {prefix}")


@click.group()
def projects() -> None:
    """Projects (tenants)."""


@projects.command("create")
@click.argument("slug")
@click.option("--name", default=None)
@with_appcontext
def projects_create(slug: str, name: str | None) -> None:
    """Create a project."""
    from app.services.errors import ServiceError
    from app.services.projects import create_project

    try:
        with _db().session() as session:
            create_project(session, slug, name)
    except ServiceError as exc:
        _fail(str(exc))
    click.echo(f"created project {slug}")


@projects.command("list")
@with_appcontext
def projects_list() -> None:
    """List projects."""
    from sqlalchemy import select

    from app.models import Project

    with _db().session() as session:
        for p in session.scalars(select(Project).order_by(Project.id)):
            click.echo(f"{p.slug:30} {p.name}")


@click.group()
def schemas() -> None:
    """JSON Schemas of the public payloads, kept in schemas/."""


@schemas.command("write")
@click.option("--dir", "directory", default="schemas", show_default=True,
              type=click.Path(file_okay=False))
@click.option("--check", is_flag=True, help="Write nothing; fail if a file differs.")
def schemas_write(directory: str, check: bool) -> None:
    """Generate the schemas from the pydantic models (never edit them by hand)."""
    from app.payloads.registry import write_schemas

    changed = write_schemas(directory, check=check)
    if check and changed:
        _fail(f"schemas out of date: {', '.join(changed)}; run `winnow schemas write`")
    click.echo("schemas up to date" if not changed else f"wrote {len(changed)} schema(s)")
