"""The must-show of the Review page: a reviewer clears the quarantine queue with the keyboard
alone (j/k to move, n to write a note, Escape, a to release, r to reject)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select

from app.models import Item, Review
from tests.browser.conftest import Console, no_horizontal_scroll, screenshots, sign_in
from tests.helpers import conversation, event, run_jobs

SHORT = ("Why?", "How?", "What?", "Huh?", "When?", "Who?", "Ok?", "Hmm?", "Sure?", "Eh?",
         "So?", "And?")
EMAIL, PHONE = "maria.gonzalez@example.com", "212-555-0199"
PII_AT = 10  # the eleventh share of one user within the hour: a burst


def fill_queue(console: Console) -> list[str]:
    """Twelve shares of one user, curated by the real pipeline: eleven too short to judge and,
    among them, one with personal data quarantined as part of a share burst."""
    api = console.app.test_client()
    headers = {"Authorization": f"Bearer {console.token}"}
    ids = []
    for i, short in enumerate(SHORT):
        if i == PII_AT:
            body = conversation(f"q-{i:02d}", "u-burst",
                                f"Please email me at {EMAIL} or call {PHONE} about my refund.",
                                "Sure, I will contact you about the refund.",
                                generation_id="g-pii")
        else:
            body = conversation(f"q-{i:02d}", "u-burst", short)
        assert api.post("/v1/conversations", json=body, headers=headers).status_code == 201
        ids.append(body["id"])
    for n, kind in enumerate(("thumbs_down", "thumbs_up", "thumbs_down")):
        fb = event(f"fb-{n}", type=kind, generation="g-pii", user_id=f"u-{n}")
        assert api.post("/v1/events", json=fb, headers=headers).status_code == 201
    run_jobs(console.app)
    assert decided(console) == {i: "quarantined" for i in ids}
    return ids


def decided(console: Console) -> dict[str, str]:
    with console.app.extensions["winnow"].db.session() as session:
        return {e: s for e, s in session.execute(select(Item.external_id, Item.state))}


def shown(page: Any) -> str | None:
    """The item the page's address names."""
    found: list[str] = parse_qs(urlsplit(str(page.url)).query).get("item", [])
    return found[0] if found else None


def press(page: Any, key: str) -> None:
    """A key that leaves the page (a link followed or the form sent): wait for the next one."""
    with page.expect_navigation():
        page.keyboard.press(key)


def test_a_reviewer_clears_the_queue_with_the_keyboard_alone(
        page: Any, console: Console) -> None:
    ids = fill_queue(console)
    sign_in(page, console, path="/review")
    assert page.url == console.url + "/review"
    assert "1 of 12 waiting" in page.locator("main").inner_text()

    press(page, "j")
    assert shown(page) == "q-01" and "2 of 12 waiting" in page.inner_text("main")
    press(page, "k")
    assert shown(page) == "q-00" and "1 of 12 waiting" in page.inner_text("main")
    page.keyboard.press("?")  # the help lists the page's keys
    help_text = page.locator("#help").inner_text()
    assert "Release the item" in help_text and "Next waiting item" in help_text
    page.keyboard.press("?")

    # The first with a note: n focuses it, Escape leaves it, a releases.
    page.keyboard.press("n")
    page.keyboard.type("short but a real question")
    page.keyboard.press("a")  # typed into the note, not a shortcut
    assert page.get_by_label("Note").input_value().endswith("questiona")
    page.keyboard.press("Backspace")
    page.keyboard.press("Escape")
    press(page, "a")
    assert "Released item q-00." in page.get_by_role("status").inner_text()
    assert "1 of 11 waiting" in page.inner_text("main")

    expected = {"q-00": "accepted"}
    for n, item_id in enumerate(ids[1:], start=1):
        assert shown(page) == item_id
        if n == PII_AT:
            text = page.inner_text("main")
            assert "<EMAIL_ADDRESS_1>" in text and EMAIL not in text and PHONE not in text
            assert page.locator("mark.pii").count() == 2
            screenshots(page, "review")
            assert no_horizontal_scroll(page)
        key = "r" if n % 2 else "a"
        press(page, key)
        expected[item_id] = "rejected_prank" if key == "r" else "accepted"
        word = "Rejected" if key == "r" else "Released"
        assert f"{word} item {item_id}" in page.get_by_role("status").inner_text()

    assert "All clear" in page.inner_text("main")
    assert decided(console) == expected
    with console.app.extensions["winnow"].db.session() as session:
        notes = {e: note for e, note in session.execute(
            select(Item.external_id, Review.note).join(Review, Review.item_id == Item.id))}
    assert notes == {i: None for i in ids} | {"q-00": "short but a real question"}
