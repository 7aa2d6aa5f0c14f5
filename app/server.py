"""Serving: gunicorn in production (`winnow serve`), waitress embedded (`winnow up`)."""

from __future__ import annotations

import gc
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication
from waitress import serve


class GunicornServer(BaseApplication):  # type: ignore[misc]
    def __init__(self, app: Flask, options: dict[str, Any]) -> None:
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if key in self.cfg.settings and value is not None:
                self.cfg.set(key.lower(), value)

    def load(self) -> Flask:
        return self.application


def gunicorn_options(host: str, port: int, workers: int, threads: int) -> dict[str, Any]:
    """The production settings; the benchmark's bare-Flask baseline is served with these too."""
    return {
        "bind": f"{host}:{port}",
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread" if threads > 1 else "sync",
        # No gunicorn access log: it writes raw paths (user ids). The app writes its own, naming
        # the route template (app.logs), the same under `winnow up`.
        "accesslog": None,
        "timeout": 60,
        "graceful_timeout": 30,
        "keepalive": 5,
        # The longest gunicorn allows: the app answers targets past its own, shorter limit
        # with a problem+json 414 (app.api.http); gunicorn's own 414 is plain text.
        "limit_request_line": 8190,
    }


def freeze_startup_heap() -> None:
    """Move everything built at start-up (app, models, schemas: ~100k objects) out of the
    collector's reach. A full collection then takes microseconds instead of ~40 ms, which
    otherwise lands on whichever request triggers it; forked workers also keep sharing the
    pages (the recipe in the `gc.freeze` documentation)."""
    gc.collect()
    gc.freeze()


def serve_production(app: Flask, host: str, port: int, workers: int, threads: int) -> None:
    freeze_startup_heap()
    options = gunicorn_options(host, port, workers, threads)
    # Connections opened before the fork must not be shared by workers.
    options["post_fork"] = lambda _server, _worker: app.extensions["winnow"].db.dispose()
    GunicornServer(app, options).run()


def serve_embedded(app: Flask, host: str, port: int, threads: int = 8) -> None:
    freeze_startup_heap()
    serve(app, host=host, port=port, threads=threads, ident="winnow")
