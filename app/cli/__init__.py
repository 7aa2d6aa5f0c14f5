"""The `winnow` command (Flask's click CLI), and where Winnow is wired together.

`make_app` builds the runtime (app.runtime) with the job queue from workers/ and gives it to the
Flask app and to the jobs this process runs: the only place under app/ that imports workers/
(docs/architecture.md). One module per command group:
`service` (up, serve, worker, db), `admin` (keys, projects, schemas), `curation` (import,
items, jobs, eval), `datasets` (datasets, users), `labelstudio`, `analytics`, `samples`;
`common` holds what they share.
"""

from __future__ import annotations

from typing import Any

import click
from flask import Flask
from flask.cli import FlaskGroup

from app.config import Settings


def make_app(settings: Settings | None = None, **overrides: Any) -> Flask:
    """The app with everything wired in: the job queue (RQ when WINNOW_REDIS_URL is set, else
    in-process) in one runtime with the settings and database, shared by the app and the jobs
    this process runs (the embedded queue's, CLI commands'), and the CLI commands. Settings
    come from the environment by default; `overrides` patch Flask config."""
    from app.db import Database
    from app.factory import create_app
    from app.runtime import Runtime, install
    from workers.queue import make_queue

    settings = settings or Settings()
    queue = make_queue(settings.redis_url, settings.queue_name)
    runtime = install(Runtime(settings, Database(settings.effective_database_url), queue))
    app = create_app(runtime, **overrides)
    register_commands(app)
    return app


def _make_app() -> Flask:
    return make_app()


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
    from app.cli.admin import keys, projects, schemas
    from app.cli.analytics import ANALYTICS_COMMANDS
    from app.cli.curation import CURATION_COMMANDS, encryption_key, import_
    from app.cli.datasets import DATASET_COMMANDS, IMPORT_COMMANDS
    from app.cli.labelstudio import LABELSTUDIO_COMMANDS
    from app.cli.samples import SAMPLE_COMMANDS
    from app.cli.service import db, serve, up, worker

    keys.add_command(encryption_key)
    for command in IMPORT_COMMANDS:
        import_.add_command(command)
    for command in (up, serve, worker, db, keys, projects, schemas, *CURATION_COMMANDS,
                    *LABELSTUDIO_COMMANDS, *DATASET_COMMANDS, *ANALYTICS_COMMANDS,
                    *SAMPLE_COMMANDS):
        app.cli.add_command(command)


