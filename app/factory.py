"""The Winnow application factory (`create_app`).

The app is given its runtime (app.runtime: settings, database, job queue, cipher, dataset store):
`app.cli.make_app` (the `winnow` command, tests) builds it with the queue from workers/, which
only the CLI may import, and wires it in here.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask

from app.api import register_blueprints
from app.api.auth import authenticate
from app.api.errors import register_error_handlers
from app.api.http import register_http
from app.api.ratelimit import init_rate_limits
from app.api.request import close_request_session
from app.console import register_console
from app.logs import escape_every_record, init_access_log
from app.runtime import Runtime


def create_app(runtime: Runtime, **overrides: Any) -> Flask:
    """Build the app on `runtime`; `overrides` patch Flask config."""
    settings = runtime.settings
    app = Flask(__name__)
    app.config.update(
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        WINNOW_SETTINGS=settings,
        WINNOW_MAX_BATCH=settings.max_batch_events,
    )
    app.config.update(overrides)
    logging.getLogger("winnow").setLevel(settings.log_level)
    escape_every_record()  # no request value can forge a log line or colour a terminal

    app.extensions["winnow"] = runtime
    init_access_log(app)  # first: its line is written for every answer, errors included
    register_http(app)  # before authentication: 414 and OPTIONS need no key
    # Authentication must run before the rate limiter's hook, which keys on the caller.
    app.before_request(authenticate)
    app.teardown_appcontext(close_request_session)
    init_rate_limits(app, settings)
    register_error_handlers(app)
    register_blueprints(app)
    register_console(app)  # the web console at /, after the API's routes
    return app
