"""Browser tests of the console: a real server on 127.0.0.1 and Debian's Chromium (Playwright).

The app runs embedded (SQLite, in-process queue) in a thread of the test process, so a test can
prepare data through the same app's services. Chromium comes from apt (scripts/browser.sh);
without it the tests skip, except under CI, where they fail. Screenshots (1280x800 and 390x844)
go to var/screenshots/ (WINNOW_SCREENSHOTS to change it).
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from app.cli import make_app
from app.config import Settings
from app.db import make_engine
from app.migrate import upgrade
from app.services.keys import create_key
from app.services.projects import create_project
from tests.conftest import IN_CI

CHROMIUM = os.environ.get("WINNOW_TEST_CHROMIUM") or shutil.which("chromium") or ""
SHOTS = Path(os.environ.get("WINNOW_SCREENSHOTS", "var/screenshots"))
# As the machine's notes advise: no sandbox as root, and no background connections to Google.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-dev-shm-usage"]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def _need_chromium() -> None:
    if CHROMIUM and Path(CHROMIUM).exists():
        return
    message = ("Debian's chromium is not installed: run the suite with `bash scripts/test` "
               "(scripts/browser.sh installs it)")
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    _need_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class Console:
    """A running app: its address, the Flask app, and an admin key of project `acme`."""

    url: str
    app: Flask
    token: str
    project_id: int

    def key(self, *scopes: str, name: str = "browser") -> str:
        with self.app.extensions["winnow"].db.session() as session:
            from app.models import Project

            project = session.get_one(Project, self.project_id)
            return create_key(session, project, name, scopes).token


@pytest.fixture
def console(tmp_path: Path) -> Iterator[Console]:
    settings = Settings(data_dir=tmp_path, database_url=None, redis_url=None)
    upgrade(make_engine(settings.effective_database_url))
    app = make_app(settings)
    with app.extensions["winnow"].db.session() as session:
        project = create_project(session, "acme", "Acme Assistant")
        token = create_key(session, project, "console admin", ["admin"]).token
        project_id = project.id
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Console(f"http://127.0.0.1:{server.server_port}", app, token, project_id)
    finally:
        server.shutdown()
        app.extensions["winnow"].db.dispose()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=DESKTOP, timezone_id="Europe/Paris")
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    yield tab
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def sign_in(page: Any, console: Console, token: str | None = None, path: str = "/") -> None:
    page.goto(console.url + path)
    page.get_by_label("API key").fill(token or console.token)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def screenshots(page: Any, name: str) -> list[Path]:
    """The page at 1280x800 and at 390x844 (then back to desktop)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    out = []
    for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        path = SHOTS / f"{name}-{label}.png"
        page.screenshot(path=str(path), full_page=True)
        out.append(path)
    page.set_viewport_size(DESKTOP)
    return out


def no_horizontal_scroll(page: Any) -> bool:
    """At phone width the page itself does not scroll sideways (a table may, in its box)."""
    page.set_viewport_size(PHONE)
    wide = page.evaluate("document.documentElement.scrollWidth > window.innerWidth + 1")
    page.set_viewport_size(DESKTOP)
    return not wide
