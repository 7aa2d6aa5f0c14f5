"""Must-show: record a daily-sample verdict in a real browser, by keyboard, and see it stored and
the progress advance; the item page it links to. Data through the real API and jobs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
from playwright.sync_api import expect
from sqlalchemy import select

from app.models import SampleVerdict
from tests.browser.conftest import Console, no_horizontal_scroll, screenshots, sign_in
from tests.helpers import conversation, event, generation, run_jobs

EMAIL = "li.wei@example.com"


def seed_today(console: Console) -> None:
    """Three shared conversations on today's (UTC) traffic, one with an email address and a
    regenerate (so it is drawn first), curated by the job."""
    key = console.key("events:write", "items:read", name="seed")
    with httpx.Client(base_url=console.url, headers={"Authorization": f"Bearer {key}"}) as api:
        for i, (model, question) in enumerate((
                ("2024-08-06", f"My address is {EMAIL}; when does my parcel arrive?"),
                ("2024-08-06", "Can I change the delivery day of order 1182?"),
                ("2024-11-20", "Which plans include priority support?"))):
            gid = f"gen-{i}"
            assert api.post("/v1/generations", json=generation(
                gid, model={"name": "gpt-4o", "version": model},
                prompt={"id": "support", "version": "12"})).status_code == 201
            body = conversation(f"share-{i}", f"u-{i}", question,
                                "Thanks for asking: here is what I found for you.",
                                generation_id=gid)
            assert api.post("/v1/conversations", json=body).status_code == 201
        assert api.post("/v1/events", json=event("regen", "regenerate", "gen-0")
                        ).status_code == 201
    run_jobs(console.app)


def test_record_a_daily_sample_verdict(page: Any, console: Console) -> None:
    seed_today(console)
    sign_in(page, console, path="/samples")
    today = datetime.now(UTC).date().isoformat()
    assert page.get_by_role("heading", level=1).inner_text() == f"Daily sample of {today}"
    progress = page.get_by_role("heading", name="Item 1 of 3, 0 judged")
    assert progress.is_visible()
    conversation_text = page.locator("article").inner_text()
    assert "<EMAIL_ADDRESS_1>" in conversation_text and EMAIL not in page.content()
    screenshots(page, "samples")
    assert no_horizontal_scroll(page)

    # By keyboard: tick two failure modes, write a note, leave the field, press 2 for "bad".
    page.keyboard.press("h")
    page.keyboard.press("f")
    assert page.get_by_label("Hallucination").is_checked()
    assert page.get_by_label("Format").is_checked()
    assert not page.get_by_label("Unsafe").is_checked()
    page.keyboard.press("n")
    page.keyboard.type("Promised a delivery date it cannot know.")
    page.keyboard.press("Escape")
    page.keyboard.press("2")
    page.wait_for_url("**/samples?*saved=share-0*")
    expect(page.get_by_role("heading", name="Item 2 of 3, 1 judged")).to_be_visible()
    assert page.get_by_role("status").inner_text() == "Verdict recorded for share-0."
    assert page.locator("progress").get_attribute("value") == "1"
    with console.app.extensions["winnow"].db.session() as session:
        [stored] = session.scalars(select(SampleVerdict)).all()
        assert (stored.verdict, stored.failure_modes, stored.note) == (
            "bad", ["format", "hallucination"], "Promised a delivery date it cannot know.")

    # By clicks: the second item is good.
    page.get_by_role("button", name="Good").click()
    expect(page.get_by_role("heading", name="Item 3 of 3, 2 judged")).to_be_visible()
    page.wait_for_load_state()

    # k goes back; the first item's page shows its verdict and its redacted text.
    page.keyboard.press("k")
    expect(page.get_by_role("heading", name="Item 2 of 3, 2 judged")).to_be_visible()
    page.get_by_role("link", name="1", exact=True).click()
    page.get_by_role("link", name="share-0").click()
    assert page.get_by_role("heading", name="Daily sample verdict").is_visible()
    verdict = page.locator("section", has=page.get_by_role("heading",
                                                          name="Daily sample verdict"))
    assert "Promised a delivery date" in verdict.inner_text()
    assert EMAIL not in page.content()
    screenshots(page, "item")
    assert no_horizontal_scroll(page)
