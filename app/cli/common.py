"""What every `winnow` command shares: failing with one line, the runtime, the checked database,
the settings, the cipher, a project by its slug, the job queue, and running the embedded queue's
jobs."""

from __future__ import annotations

from typing import Any

import click
from flask import current_app

from app.config import Settings
from app.db import Database
from app.runtime import Runtime
from app.services.crypto import Box, KeyMissing


def fail(message: str) -> None:
    raise click.ClickException(message)


def runtime() -> Runtime:
    """The app's runtime (app.runtime): settings, database, queue, cipher, dataset store."""
    found: Runtime = current_app.extensions["winnow"]
    return found


def database(check: bool = True) -> Database:
    """The app's database; checked (once) to exist and be migrated, so a command on a data
    folder never set up says what to run instead of creating an empty file and a traceback.
    Only `winnow up` and `winnow db upgrade` take it unchecked: they create it."""
    db = runtime().db
    if check and not current_app.extensions.get("winnow.db_checked"):
        from app.migrate import schema_problem

        problem = schema_problem(db.engine)
        if problem:
            fail(problem)
        current_app.extensions["winnow.db_checked"] = True
    return db


def current_settings() -> Settings:
    return runtime().settings


def project_id_of(slug: str) -> int:
    from app.services.errors import ServiceError
    from app.services.projects import get_project

    try:
        with database().session() as session:
            return int(get_project(session, slug).id)
    except ServiceError as exc:
        fail(str(exc))
    raise AssertionError


def sealer() -> Box:
    """The cipher for raw text, or the one-line reason there is none."""
    try:
        return runtime().box
    except KeyMissing as exc:
        fail(str(exc))
    raise AssertionError


def queue_call(fn: Any) -> Any:
    try:
        return fn(runtime().queue)
    except Exception as exc:  # Redis unreachable
        fail(f"cannot reach the job queue ({type(exc).__name__}); is Redis up?")


def drain_embedded_queue() -> None:
    """Embedded: the jobs run in this process, so wait for them before exiting."""
    queue = runtime().queue
    if not queue.durable:
        click.echo("running the queued jobs in this process (embedded mode)...")
        queue.drain()
