"""Serving: gunicorn in production (`winnow serve`), waitress embedded (`winnow up`)."""

from __future__ import annotations

from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication


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
        "accesslog": "-",
        # Paths only: query strings can carry user ids, and bodies are never logged.
        "access_log_format": '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms',
        "timeout": 60,
        "graceful_timeout": 30,
        "keepalive": 5,
    }


def serve_production(app: Flask, host: str, port: int, workers: int, threads: int) -> None:
    options = gunicorn_options(host, port, workers, threads)
    # Connections opened before the fork must not be shared by workers.
    options["post_fork"] = lambda _server, _worker: app.extensions["winnow.db"].dispose()
    GunicornServer(app, options).run()


def serve_embedded(app: Flask, host: str, port: int, threads: int = 8) -> None:
    from waitress import serve

    serve(app, host=host, port=port, threads=threads, ident="winnow")
