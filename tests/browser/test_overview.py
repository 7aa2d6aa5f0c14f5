"""The overview in a browser: a chart with two model versions, and the verdict between them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.api.test_analytics import TODAY, post, refresh, versions
from tests.browser.conftest import Console, no_horizontal_scroll, screenshots, sign_in
from tests.helpers import Tenant


def test_a_chart_shows_two_model_versions(page: Any, console: Console) -> None:
    tenant = Tenant("acme", console.project_id, console.token)
    api = console.app.test_client()
    for days_ago, version, seed in ((5, "2024-05-13", 1), (4, "2024-05-13", 2),
                                    (2, "2024-08-06", 3), (1, "2024-08-06", 4),
                                    (0, "2024-08-06", 5)):
        p = {"2024-05-13": 0.12, "2024-08-06": 0.3}[version]
        gens, events = versions(150, {version: p}, seed=seed,
                                when=TODAY - timedelta(days=days_ago))
        post(api, tenant, gens, events)
    refresh(console.app, tenant)

    sign_in(page, console)
    assert page.url == console.url + "/"
    chart = page.get_by_role("img", name="Regenerate rate")
    assert chart.is_visible()
    # Two series: a line each, with a marker per day served.
    assert chart.locator("polyline").count() == 2
    legend = page.get_by_role("list", name="Versions").inner_text()
    assert "m @ 2024-05-13" in legend and "m @ 2024-08-06" in legend
    assert page.locator("#overall-verdict").inner_text() in ("worse", "mixed")
    # The filter form works without script: choose a window and submit.
    page.get_by_label("Window", exact=True).select_option("14d")
    page.get_by_role("button", name="Show").click()
    assert "since=14d" in page.url
    assert page.get_by_role("img", name="Acceptance rate").is_visible()
    assert no_horizontal_scroll(page)
    screenshots(page, "overview")
