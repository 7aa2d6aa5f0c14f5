"""The overview: charts per version with intervals, the newest version against the one before."""

from __future__ import annotations

import re
from datetime import timedelta

from flask import Flask

from tests.api.test_analytics import TODAY, post, refresh, versions
from tests.console.conftest import ConsoleClient


def seed(app: Flask, client: ConsoleClient) -> object:
    """v1 served four and three days ago, v2 (regenerated three times as often) since."""
    signed = client()
    tenant = signed.tenant  # type: ignore[attr-defined]
    api = app.test_client()
    for days_ago, version, seed_ in ((4, "v1", 1), (3, "v1", 2), (1, "v2", 3), (0, "v2", 4)):
        p = {"v1": 0.1, "v2": 0.3}[version]
        gens, events = versions(200, {version: p}, seed=seed_,
                                when=TODAY - timedelta(days=days_ago))
        for g in gens[:100]:
            g["feature"] = "search"
        post(api, tenant, gens, events)
    refresh(app, tenant)
    return signed


def test_charts_show_both_versions_with_intervals_and_the_verdict(
        app: Flask, console_client: ConsoleClient) -> None:
    signed = seed(app, console_client)
    answer = signed.get("/?since=7d")  # type: ignore[attr-defined]
    assert answer.status_code == 200
    html = answer.get_data(as_text=True)
    assert html.count('<svg class="chart"') == 4
    for title in ("Signal score", "Acceptance rate", "Regenerate rate", "Thumbs-up share"):
        assert title in html
    assert "m @ v1" in html and "m @ v2" in html
    # Each chart draws a line and an interval band per version.
    regen = html[html.index('id="chart-regenerate-t"'):]
    regen = regen[:regen.index("</svg>")]
    assert regen.count("<polyline") == 2 and regen.count("fill-opacity") == 2
    # The newest version (v2) against the one before (v1): v2 regenerates more.
    assert "m @ v2 against m @ v1" in html
    row = re.search(r"<th scope=\"row\">regenerate</th>(.*?)</tr>", html, re.S)
    assert row and "worse" in row.group(1)
    assert re.search(r'id="overall-verdict">(worse|mixed)<', html)


def test_the_feature_filter_and_window_narrow_the_numbers(
        app: Flask, console_client: ConsoleClient) -> None:
    signed = seed(app, console_client)
    everything = signed.get("/?since=7d").get_data(as_text=True)  # type: ignore[attr-defined]
    search = signed.get("/?since=7d&feature=search").get_data(  # type: ignore[attr-defined]
        as_text=True)
    assert '<option value="search" selected>' in search
    assert re.search(r'<td class="num">200</td>', everything) is None  # 400 per version
    assert "<td class=\"num\">400</td>" in everything
    assert "<td class=\"num\">200</td>" in search
    recent = signed.get("/?since=2d").get_data(as_text=True)  # type: ignore[attr-defined]
    assert "m @ v2" in recent and "m @ v1" not in recent
    assert "Only one version in this window" in recent


def test_bad_filters_answer_400_with_a_message_not_an_error(
        console_client: ConsoleClient) -> None:
    signed = console_client("events:read")
    for query in ("since=yesterday", "by=colour", "since=2026-12-01&until=2026-11-01"):
        answer = signed.get(f"/?{query}")
        assert answer.status_code == 400, query
        assert 'role="alert"' in answer.get_data(as_text=True)


def test_an_empty_project_says_what_to_send(console_client: ConsoleClient) -> None:
    html = console_client("events:read").get("/").get_data(as_text=True)
    assert "No generations in this window yet" in html
    assert "No data in this window" in html
