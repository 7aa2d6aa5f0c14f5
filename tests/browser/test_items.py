"""The Items page in a real browser: filter with the form, page through, open an item."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import Console, no_horizontal_scroll, screenshots, sign_in
from tests.browser.test_samples import seed_today


def test_search_items_and_open_one(page: Any, console: Console) -> None:
    seed_today(console)
    sign_in(page, console, token=console.key("items:read"), path="/items")
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(3)
    screenshots(page, "items")
    assert no_horizontal_scroll(page)
    page.get_by_label("Model").fill("gpt-4o@2024-11-20")
    page.get_by_role("button", name="Search").click()
    expect(rows).to_have_count(1)
    assert "model=gpt-4o%402024-11-20" in page.url  # the address holds the filter
    page.get_by_role("link", name="share-2").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Item share-2")
    assert page.get_by_role("link", name="Review this item").count() == 0  # items:read only
    page.keyboard.press("u")  # back to the items
    expect(page).to_have_url(console.url + "/items")
