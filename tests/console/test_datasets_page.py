"""The Datasets pages: the list, a dataset's versions (split sizes, label tallies, files), the
diff of two versions, downloads that are the pull API's very bytes, erasures, and builds.
Versions are built through the real API and the BUILD job (tests/api/test_datasets.py)."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

from tests.api.test_datasets import add_conversations, app, build, define, ids, manifest, owner
from tests.console.conftest import ConsoleClient, form_token, text
from tests.helpers import Tenant, run_jobs

__all__ = ["app", "owner"]  # fixtures: exact-dedupe app, a key that may build datasets

NAME = "help-eval"


def two_versions(app: Flask, client: FlaskClient, owner: Tenant) -> None:
    add_conversations(client, owner, range(0, 12))
    run_jobs(app)
    define(client, owner, description="Help answers users liked")
    build(app, client, owner, NAME, "first cut")
    add_conversations(client, owner, range(12, 20))
    run_jobs(app)
    build(app, client, owner, NAME, "more tickets")



def test_the_list_and_a_datasets_versions(app: Flask, client: FlaskClient, owner: Tenant,
                                          console_client: ConsoleClient) -> None:
    two_versions(app, client, owner)
    browser = console_client("datasets:read")
    listing = browser.get("/datasets")
    assert listing.status_code == 200
    assert f'href="/datasets/{NAME}"' in text(listing) and "Help answers users liked" in text(
        listing)
    detail = browser.get(f"/datasets/{NAME}")
    assert detail.status_code == 200
    page = text(detail)
    assert "first cut" in page and "more tickets" in page
    assert "&#34;purpose&#34;: &#34;eval&#34;" in page  # the definition, pretty-printed
    versions = client.get(f"/v1/datasets/{NAME}/versions", headers=owner.headers).get_json()
    v2 = versions["data"][1]
    card = page[page.index('id="v2"'):page.index('id="v1"')]
    for split in ("train", "validation", "test"):
        row = card[card.index(f'<th scope="row">{split}</th>'):]
        assert re.match(rf'<th scope="row">{split}</th>\s*<td class="num">'
                        rf'{v2["splits"][split]["items"]}</td>', row)
        assert f"/datasets/{NAME}/2/files/{split}/eval.jsonl" in card
    assert "signal</span> positive" in card  # the label tallies
    assert re.search(r"href=\"/skew\?dataset=help-eval(@|%40)2&amp;split=test\"", card), card
    assert "Build a new version" not in page  # no datasets:write
    assert "No erasure has touched" in page


def test_the_diff_of_two_versions(app: Flask, client: FlaskClient, owner: Tenant,
                                  console_client: ConsoleClient) -> None:
    two_versions(app, client, owner)
    browser = console_client("datasets:read")
    page = text(browser.get(f"/datasets/{NAME}"))
    assert '<option value="1" selected>' in page and '<option value="2" selected>' in page
    assert 'id="diff"' not in page  # the form only, until it is submitted
    resp = browser.get(f"/datasets/{NAME}?a=1&b=2")
    assert resp.status_code == 200
    page = text(resp)
    api = client.get(f"/v1/datasets/{NAME}/diff?from=1&to=2", headers=owner.headers).get_json()
    summary = page[page.index('id="diff"'):]
    for split in ("train", "validation", "test"):
        counts = api["summary"][split]
        assert re.search(rf'<th scope="row">{split}</th><td class="num">{counts["added"]}</td>'
                         rf'<td class="num">0</td>', summary)
        for item in api["splits"][split]["added"]:
            assert f'href="/items/{item}"' in summary
    assert sum(api["summary"][s]["added"] for s in api["summary"]) == 8
    same = text(browser.get(f"/datasets/{NAME}?a=2&b=2"))
    assert "the same items with the same lines" in same
    missing = browser.get(f"/datasets/{NAME}?a=1&b=9")
    assert missing.status_code == 404 and "has no version 9" in text(missing)


def test_downloads_are_the_pull_apis_bytes(app: Flask, client: FlaskClient, owner: Tenant,
                                           console_client: ConsoleClient) -> None:
    two_versions(app, client, owner)
    browser = console_client("datasets:read")
    for split in ("train", "validation", "test"):
        for fmt in ("eval", "finetune", "preference"):
            mine = browser.get(f"/datasets/{NAME}/2/files/{split}/{fmt}.jsonl")
            pulled = client.get(f"/v1/datasets/{NAME}/versions/2/files/{split}/{fmt}",
                                headers=owner.headers)
            assert mine.status_code == 200 == pulled.status_code
            assert mine.get_data() == pulled.get_data()
            assert mine.headers["Content-Disposition"] == (
                f"attachment; filename={NAME}-v2-{split}-{fmt}.jsonl")
            assert mine.headers["ETag"] == pulled.headers["ETag"]
    assert browser.get(f"/datasets/{NAME}/2/files/train/eval.jsonl").get_data()  # not empty
    m = browser.get(f"/datasets/{NAME}/1/manifest.json")
    assert m.status_code == 200 and "attachment" in m.headers["Content-Disposition"]
    assert m.get_data() == client.get(f"/v1/datasets/{NAME}/versions/1",
                                      headers=owner.headers).get_data()
    for bad in (f"/datasets/{NAME}/2/files/holdout/eval.jsonl",
                f"/datasets/{NAME}/2/files/train/csv.jsonl", f"/datasets/{NAME}/7/manifest.json",
                "/datasets/nope/1/files/train/eval.jsonl", "/datasets/nope"):
        resp = browser.get(bad)
        assert resp.status_code == 404 and resp.mimetype == "text/html", bad
    signed_out = app.test_client().get(f"/datasets/{NAME}/2/files/train/eval.jsonl")
    assert signed_out.status_code == 302 and signed_out.headers["Location"].startswith("/signin")


def test_scopes_hide_the_pages_and_the_build_form(app: Flask, client: FlaskClient,
                                                  owner: Tenant,
                                                  console_client: ConsoleClient) -> None:
    two_versions(app, client, owner)
    reader = console_client("events:read")
    assert reader.get("/datasets").status_code == 403
    assert reader.get(f"/datasets/{NAME}/1/files/train/eval.jsonl").status_code == 403
    assert 'href="/datasets"' not in text(reader.get("/"))
    viewer = console_client("datasets:read")
    assert 'href="/datasets"' in text(viewer.get("/datasets"))
    token = form_token(viewer, "/datasets")
    refused = viewer.post(f"/datasets/{NAME}/versions",
                          data={"message": "x", "csrf_token": token})
    assert refused.status_code == 403


def test_building_a_version_from_the_page(app: Flask, client: FlaskClient, owner: Tenant,
                                          console_client: ConsoleClient) -> None:
    two_versions(app, client, owner)
    builder = console_client("datasets:read", "datasets:write")
    path = f"/datasets/{NAME}"
    assert "Build version 3" in text(builder.get(path))
    token = form_token(builder, path)
    empty = builder.post(f"{path}/versions", data={"message": " ", "csrf_token": token})
    assert empty.status_code == 422 and "needs a message" in text(empty)
    assert builder.post(f"{path}/versions", data={"message": "again"}).status_code == 400
    resp = builder.post(f"{path}/versions", data={"message": "from the console",
                                                  "csrf_token": token})
    assert resp.status_code == 303 and resp.headers["Location"] == f"{path}?requested=3#versions"
    assert "Version 3 was requested" in text(builder.get(f"{path}?requested=3"))
    run_jobs(app)
    page = text(builder.get(path))
    card = page[page.index('id="v3"'):page.index('id="v2"')]
    assert "from the console" in card and ">ready</span>" in card
    assert manifest(client, owner, NAME, 3)["message"] == "from the console"


def test_erasures_recorded_in_versions(app: Flask, client: FlaskClient, owner: Tenant,
                                       console_client: ConsoleClient) -> None:
    two_versions(app, client, owner)
    before = manifest(client, owner, NAME, 2)
    admin = console_client()
    gone = client.delete("/v1/users/u-1", headers=admin.tenant.headers)  # type: ignore[attr-defined]
    assert gone.status_code == 202, text(gone)
    run_jobs(app)
    removed = {i for s in ("train", "validation", "test") for i in ids(before, s)} - {
        i for s in ("train", "validation", "test") for i in ids(manifest(client, owner, NAME, 2),
                                                                 s)}
    assert removed == {"c-1", "c-8", "c-15"}
    page = text(admin.get(f"/datasets/{NAME}"))
    table = page[page.index('id="erasures"'):]
    assert re.search(r'href="#v2">2</a></td>\s*<td>#1 <span class="badge good">done</span>', table)
    assert re.search(r'<td class="num">3</td>', table)
