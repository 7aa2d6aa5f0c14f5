"""The Skew page: the report of GET /v1/analytics/skew with a chart per feature (SVG with a
title, and its numbers in a table), topic clusters linking their example items; too little data
is a message, a bad query an error on the form, an unknown dataset a 404 page."""

from __future__ import annotations

import random
import re

from flask import Flask
from flask.testing import FlaskClient
from markupsafe import escape

from tests.api.test_skew_api import NOW, app, eval_set, owner, store_items
from tests.console.conftest import ConsoleClient, text
from tests.helpers import Tenant
from tests.unit.test_skew import coding, support

__all__ = ["app", "owner"]  # fixtures: exact-dedupe app, a key that may build datasets

QUERY = "/skew?dataset=support-eval%401&split=test&since=30d"



def test_the_form_offers_ready_versions(app: Flask, client: FlaskClient, owner: Tenant,
                                        console_client: ConsoleClient) -> None:
    eval_set(app, client, owner)
    browser = console_client("datasets:read")
    resp = browser.get("/skew")
    assert resp.status_code == 200
    page = text(resp)
    assert '<option value="support-eval@1">' in page and 'name="split"' in page
    assert "<svg" not in page and "Choose a dataset version" in page


def test_a_drifted_report_has_a_chart_per_feature(app: Flask, client: FlaskClient,
                                                  owner: Tenant,
                                                  console_client: ConsoleClient) -> None:
    eval_set(app, client, owner)
    rng = random.Random(3)
    store_items(app, owner, "prod", [coding(rng) if i % 10 < 7 else support(rng)
                                     for i in range(200)], NOW)
    api = client.get("/v1/analytics/skew?dataset=support-eval@1&split=test&since=30d",
                     headers=owner.headers).get_json()
    browser = console_client("datasets:read")
    resp = browser.get(QUERY)
    assert resp.status_code == 200, text(resp)[:300]
    page = text(resp)
    assert '<option value="support-eval@1" selected>' in page
    table = page[page.index('id="features"'):page.index("</table>", page.index('id="features"'))]
    for f in api["features"]:
        row = table[table.index(f'href="#skew-{f["name"]}"'):]
        row = row[:row.index("</tr>")]
        assert f'status-{f["status"]}">{f["status"]}<' in row
        assert f'{f["psi"]:,.3f}' in row
    charts = re.findall(r'<svg class="chart"[^>]*role="img" aria-labelledby="([^"]+)"', page)
    assert len(charts) == len(api["features"]) == 10
    for f in api["features"]:
        assert f'<title id="skew-{f["name"]}-t">' in page
    # The numbers behind a chart: the split's and production's share of each bin.
    code = next(f for f in api["features"] if f["name"] == "code_share")
    assert code["bins"] and code["status"] == "drift"
    figure = page[page.index('id="skew-code_share"'):page.index("</figure>",
                                                                page.index('id="skew-code_share"'))]
    for b in code["bins"]:
        split, prod = f'{100 * b["reference"]:.1f}%', f'{100 * b["production"]:.1f}%'
        assert (f'<th scope="row">{escape(b["label"])}</th><td class="num">{split}</td>'
                f'<td class="num">{prod}</td>') in figure
    # Topics, their example items linked.
    uncovered = [c for c in api["clusters"] if c["under_covered"]]
    assert uncovered and "under-covered</span>" in page
    for item in uncovered[0]["examples"]:
        assert f'href="/items/{item}"' in page
    assert 'status-drift">drift</span></h2>' in page


def test_too_little_data_is_a_message(app: Flask, client: FlaskClient, owner: Tenant,
                                      console_client: ConsoleClient) -> None:
    eval_set(app, client, owner)
    store_items(app, owner, "prod", [support(random.Random(4)) for _ in range(5)], NOW)
    browser = console_client("datasets:read")
    resp = browser.get(QUERY)
    assert resp.status_code == 200
    page = text(resp)
    assert 'id="too-little"' in page and "the reference has 200 and production 5" in page
    assert "<svg" not in page


def test_bad_queries_and_unknown_datasets(app: Flask, client: FlaskClient, owner: Tenant,
                                          console_client: ConsoleClient) -> None:
    eval_set(app, client, owner)
    browser = console_client("datasets:read")
    for query, reason in (("dataset=Bad%20Name", "NAME@VERSION"),
                          ("dataset=support-eval&split=holdout", "one of train"),
                          ("dataset=support-eval&since=2026-13-01", "YYYY-MM-DD"),
                          ("dataset=support-eval&since=2026-02-01&until=2026-01-01",
                           "the window is empty")):
        resp = browser.get(f"/skew?{query}")
        assert resp.status_code == 400, query
        assert 'id="skew-error"' in text(resp) and reason in text(resp), query
    for query in ("dataset=nope%401", "dataset=support-eval%409"):
        resp = browser.get(f"/skew?{query}")
        assert resp.status_code == 404 and 'class="notice error"' in text(resp)
    assert console_client("events:read").get(QUERY).status_code == 403
