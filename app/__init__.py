"""The Winnow application factory."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask

from app.config import Settings


def create_app(settings: Settings | None = None, **overrides: Any) -> Flask:
    """Build the app from settings (environment by default); `overrides` patch Flask config."""
    from app.api import register_blueprints
    from app.api.auth import authenticate
    from app.api.errors import register_error_handlers
    from app.api.http import register_http
    from app.api.request import close_request_session
    from app.cli import register_commands
    from app.db import Database
    from app.logs import escape_every_record, init_access_log
    from app.ratelimit import init_rate_limits
    from workers import runtime
    from workers.queue import make_queue

    settings = settings or Settings()
    app = Flask(__name__)
    app.config.update(
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        WINNOW_SETTINGS=settings,
        WINNOW_MAX_BATCH=settings.max_batch_events,
    )
    app.config.update(overrides)
    logging.getLogger("winnow").setLevel(settings.log_level)
    escape_every_record()  # no request value can forge a log line or colour a terminal

    app.extensions["winnow.db"] = Database(settings.effective_database_url)
    app.extensions["winnow.queue"] = make_queue(settings.redis_url, settings.queue_name)
    # Jobs run by this process (the embedded queue, CLI commands) use the same database and queue.
    runtime.configure(settings, app.extensions["winnow.db"], app.extensions["winnow.queue"])
    init_access_log(app)  # first: its line is written for every answer, errors included
    register_http(app)  # before authentication: 414 and OPTIONS need no key
    # Authentication must run before the rate limiter's hook, which keys on the caller.
    app.before_request(authenticate)
    app.teardown_appcontext(close_request_session)
    init_rate_limits(app, settings)
    register_error_handlers(app)
    register_blueprints(app)
    register_commands(app)
    return app
