"""In Chromium: open a dataset, diff two versions, download a file; and the skew report with
its charts. Versions are built through the real API and the BUILD job."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from tests.api.test_datasets import add_conversations, build, define
from tests.api.test_skew_api import NOW, eval_set, store_items
from tests.browser.conftest import Console, no_horizontal_scroll, screenshots, sign_in
from tests.helpers import Tenant, run_jobs
from tests.unit.test_skew import coding, support

SCOPES = ("events:write", "events:read", "items:read", "datasets:read", "datasets:write")


def owner(console: Console) -> Tenant:
    return Tenant("acme", console.project_id, console.key(*SCOPES, name="api"))


def test_open_a_dataset_diff_and_download_a_file(console: Console, page: Any) -> None:
    api, who = console.app.test_client(), owner(console)
    add_conversations(api, who, range(0, 5))
    run_jobs(console.app)
    define(api, who)
    build(console.app, api, who, "help-eval", "first cut")
    add_conversations(api, who, range(5, 8))
    run_jobs(console.app)
    build(console.app, api, who, "help-eval", "more tickets")
    diff = api.get("/v1/datasets/help-eval/diff?from=1&to=2", headers=who.headers).get_json()
    added = sum(s["added"] for s in diff["summary"].values())
    assert added == 3

    sign_in(page, console, path="/datasets")
    page.get_by_role("link", name="help-eval").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Version 2").is_visible()
    page.get_by_label("From version").select_option("1")
    page.get_by_label("To version").select_option("2")
    page.get_by_role("button", name="Compare").click()
    page.wait_for_load_state()
    assert "a=1&b=2" in page.url
    result = page.locator("#diff")
    assert result.get_by_role("heading", name="From version 1 to version 2").is_visible()
    for split, counts in diff["summary"].items():
        row = result.get_by_role("row").filter(has=page.get_by_role("rowheader", name=split))
        assert row.get_by_role("cell").first.inner_text() == str(counts["added"])
    screenshots(page, "datasets")
    assert no_horizontal_scroll(page)

    with page.expect_download() as download:
        page.get_by_role("link", name="Download train eval of version 2").click()
    saved = Path(download.value.path())
    assert download.value.suggested_filename == "help-eval-v2-train-eval.jsonl"
    pulled = api.get("/v1/datasets/help-eval/versions/2/files/train/eval", headers=who.headers)
    assert saved.read_bytes() == pulled.get_data() and saved.stat().st_size > 0


def test_the_skew_report_draws_a_chart_per_feature(console: Console, page: Any) -> None:
    api, who = console.app.test_client(), owner(console)
    eval_set(console.app, api, who)
    rng = random.Random(3)
    store_items(console.app, who, "prod", [coding(rng) if i % 10 < 7 else support(rng)
                                           for i in range(200)], NOW)
    sign_in(page, console, path="/skew")
    page.get_by_label("Dataset version").select_option("support-eval@1")
    page.get_by_label("Split").select_option("test")
    page.get_by_role("button", name="Compare").click()
    page.wait_for_load_state()
    assert page.locator("svg.chart[role=img]").count() == 10
    assert page.locator("#features .status-drift").count() >= 2
    page.locator("#skew-code_share summary").click()
    assert page.locator("#skew-code_share table").is_visible()
    screenshots(page, "skew")
    assert no_horizontal_scroll(page)
