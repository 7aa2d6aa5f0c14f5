"""The must-show, as a newcomer does it: `winnow up` with no configuration, open the address it
prints, sign in with the key it printed, and open every page."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.api.test_analytics import TODAY, versions
from tests.integration.test_cli import call, running_up

PAGES = {"/": "How users receive", "/review": "Review", "/samples": "Daily sample",
         "/items": "Items", "/datasets": "Datasets", "/skew": "skew", "/settings": "Settings"}


@pytest.fixture
def up(tmp_path: Path) -> Iterator[tuple[str, str]]:
    # Rollups every second, so the overview shows what was just posted.
    with running_up(tmp_path, WINNOW_ROLLUP_EVERY_SECONDS="1") as (base, token, lines):
        console = next(line.split()[1] for line in lines if line.strip().startswith("console:"))
        assert console == base + "/"
        yield base, token


def test_winnow_up_then_sign_in_with_the_printed_key_and_open_every_page(
        page: Any, up: tuple[str, str]) -> None:
    base, token = up
    for days_ago, version, seed in ((3, "v1", 1), (2, "v1", 2), (1, "v2", 3), (0, "v2", 4)):
        gens, events = versions(60, {version: 0.2}, seed=seed,
                                when=TODAY - timedelta(days=days_ago))
        assert call("POST", f"{base}/v1/generations", token, {"generations": gens})[0] == 200
        assert call("POST", f"{base}/v1/events", token, {"events": events})[0] == 200

    page.goto(base + "/")
    assert "/signin" in page.url
    page.get_by_label("API key").fill(token)
    page.get_by_role("button", name="Sign in").click()
    assert page.url == base + "/"
    deadline = time.monotonic() + 30
    while page.locator("ul.legend li").count() < 2:  # the rollup chore's next round
        assert time.monotonic() < deadline, "the overview never showed both versions"
        time.sleep(0.5)
        page.reload()
    assert page.get_by_role("img", name="Acceptance rate").locator("polyline").count() == 2
    for path, heading in PAGES.items():
        answer = page.goto(base + path)
        assert answer is not None and answer.status == 200, path
        assert heading.lower() in page.locator("h1").inner_text().lower(), path
    page.get_by_role("button", name="Sign out").click()
    assert "/signin" in page.url
