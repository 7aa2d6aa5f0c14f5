"""Accessibility basics on every console page: labelled controls, named buttons and links,
charts with text alternatives, one h1, visible focus, no sideways scrolling at 390 px."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import Console, no_horizontal_scroll, sign_in

PAGES = ("/", "/review", "/samples", "/items", "/datasets", "/skew", "/settings", "/signin")

UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea')]
  .filter(e => e.type !== 'hidden' && e.offsetParent !== null)
  .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')
               && !e.getAttribute('aria-labelledby') && !e.title)
  .map(e => e.outerHTML.slice(0, 120))"""

UNNAMED = """() => [...document.querySelectorAll('a[href], button, [role=button]')]
  .filter(e => e.offsetParent !== null)
  .filter(e => !(e.innerText || '').trim() && !e.getAttribute('aria-label')
               && !e.getAttribute('aria-labelledby') && !e.title)
  .map(e => e.outerHTML.slice(0, 120))"""

CHARTS_WITHOUT_TEXT = """() => [...document.querySelectorAll('svg[role=img]')]
  .filter(s => !s.querySelector('title') && !s.getAttribute('aria-label'))
  .map(s => s.outerHTML.slice(0, 80))"""

FOCUS_RING = """() => { const e = document.activeElement;
  if (!e || e === document.body) return null;
  const s = getComputedStyle(e);
  return {tag: e.tagName, style: s.outlineStyle, width: s.outlineWidth}; }"""


@pytest.fixture
def signed_in(page: Any, console: Console) -> Any:
    sign_in(page, console)
    return page


def _check(page: Any, path: str) -> None:
    assert page.evaluate("document.documentElement.lang") == "en", path
    assert page.locator("h1").count() == 1, path
    assert page.evaluate(UNLABELLED) == [], path
    assert page.evaluate(UNNAMED) == [], path
    assert page.evaluate(CHARTS_WITHOUT_TEXT) == [], path
    # Tab through the controls (wrapping past the end is fine): each shows a focus ring.
    rings = []
    for _ in range(6):
        page.keyboard.press("Tab")
        ring = page.evaluate(FOCUS_RING)
        if ring is not None:
            rings.append(ring)
            assert ring["style"] != "none" and ring["width"] != "0px", (path, ring)
    assert len(rings) >= 3, (path, rings)
    assert no_horizontal_scroll(page), path


@pytest.mark.parametrize("path", PAGES[:-1])
def test_every_page_meets_the_basics(signed_in: Any, console: Console, path: str) -> None:
    answer = signed_in.goto(console.url + path)
    assert answer is not None and answer.status == 200, path
    _check(signed_in, path)


def test_the_sign_in_page_meets_the_basics(page: Any, console: Console) -> None:
    page.goto(console.url + "/signin")
    _check(page, "/signin")


def test_the_skip_link_moves_focus_to_the_content(signed_in: Any, console: Console) -> None:
    signed_in.goto(console.url + "/")
    signed_in.keyboard.press("Tab")
    skip = signed_in.evaluate("document.activeElement.innerText")
    assert skip == "Skip to content"
    signed_in.keyboard.press("Enter")
    assert signed_in.evaluate("document.activeElement.id") == "main"


def test_question_mark_opens_the_shortcut_help_and_escape_closes_it(
        signed_in: Any, console: Console) -> None:
    signed_in.goto(console.url + "/")
    signed_in.keyboard.press("?")
    assert signed_in.get_by_role("dialog", name="Keyboard shortcuts").is_visible()
    signed_in.keyboard.press("Escape")
    assert not signed_in.get_by_role("dialog").is_visible()
    signed_in.keyboard.press("g")
    signed_in.keyboard.press("i")
    signed_in.wait_for_url(console.url + "/items")


def test_single_key_shortcuts_can_be_turned_off_and_on(signed_in: Any, console: Console) -> None:
    signed_in.goto(console.url + "/")
    signed_in.keyboard.press("?")
    signed_in.get_by_role("button", name="Turn single-key shortcuts off").click()
    assert signed_in.locator("#toggle-keys").get_attribute("aria-pressed") == "true"
    signed_in.keyboard.press("Escape")
    signed_in.keyboard.press("g")
    signed_in.keyboard.press("i")
    signed_in.wait_for_timeout(300)
    assert signed_in.url == console.url + "/"  # nothing happened
    signed_in.reload()  # remembered in this browser
    signed_in.keyboard.press("?")
    signed_in.get_by_role("button", name="Turn single-key shortcuts on").click()
    signed_in.keyboard.press("Escape")
    signed_in.keyboard.press("g")
    signed_in.keyboard.press("i")
    signed_in.wait_for_url(console.url + "/items")
