"""The console: server-rendered pages at `/` for the people who look at the data.

Jinja templates and plain forms that work without JavaScript (static/console.js only adds
keyboard shortcuts and local dates); charts are SVG drawn on the server (app.console.charts).
Each page module adds its views to the blueprint in app.console.web and calls the services, as
the API's handlers do.
"""

from __future__ import annotations

from flask import Flask

from app.console import auth, datasets, items, overview, review, samples, settings, skew
from app.console.web import init_console

PAGES = (auth, overview, review, samples, items, datasets, skew, settings)


def register_console(app: Flask) -> None:
    init_console(app)
