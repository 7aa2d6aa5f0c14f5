"""Signing in and out of the console in a real browser; wrong keys and forged forms refused."""

from __future__ import annotations

from typing import Any

import httpx

from tests.browser.conftest import Console, screenshots, sign_in


def test_sign_in_lands_on_the_asked_page_and_sign_out_ends_the_session(
        page: Any, console: Console) -> None:
    page.goto(console.url + "/items")
    assert page.url.startswith(console.url + "/signin")  # signed out: the sign-in page
    screenshots(page, "signin")
    page.get_by_label("API key").fill(console.token)
    page.get_by_role("button", name="Sign in").click()
    assert page.url == console.url + "/items"
    assert page.get_by_role("navigation", name="Pages").is_visible()
    # The browser's zone (Europe/Paris here) was sent with the form; the footer names it.
    assert "Europe/Paris" in page.locator("footer").inner_text()
    cookie = next(c for c in page.context.cookies() if c["name"] == "winnow_console")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    assert not cookie["secure"]  # plain http on 127.0.0.1; https marks it Secure (unit test)

    stolen = {"winnow_console": cookie["value"]}
    page.get_by_role("button", name="Sign out").click()
    assert page.url.startswith(console.url + "/signin")
    assert "You have signed out" in page.content()
    page.goto(console.url + "/items")
    assert page.url.startswith(console.url + "/signin")
    # A copy of the cookie taken before signing out does not work either: the session is gone.
    answer = httpx.get(console.url + "/items", cookies=stolen, follow_redirects=False)
    assert answer.status_code == 401 and "signed out" in answer.text


def test_a_wrong_key_is_refused_with_a_clear_message(page: Any, console: Console) -> None:
    sign_in(page, console, token="wn_abcdef123456_notthesecret")
    assert page.url.startswith(console.url + "/signin")
    alert = page.get_by_role("alert")
    assert "not accepted" in alert.inner_text()
    assert page.get_by_label("API key").get_attribute("aria-invalid") == "true"
    page.goto(console.url + "/")
    assert page.url.startswith(console.url + "/signin")


def test_a_form_without_its_csrf_token_is_refused(page: Any, console: Console) -> None:
    sign_in(page, console)
    # Strip the token from the sign-out form, as a forged cross-site form would lack it.
    page.evaluate("document.querySelectorAll('input[name=csrf_token]').forEach(e => e.remove())")
    page.get_by_role("button", name="Sign out").click()
    assert "This form has expired" in page.content()
    page.goto(console.url + "/items")
    assert page.url == console.url + "/items"  # still signed in: nothing was done


def test_a_page_the_key_may_not_use_is_neither_shown_nor_served(
        page: Any, console: Console) -> None:
    sign_in(page, console, token=console.key("events:read"))
    nav = page.get_by_role("navigation", name="Pages").inner_text()
    assert "Overview" in nav and "Settings" not in nav and "Review" not in nav
    answer = page.goto(console.url + "/settings")
    assert answer is not None and answer.status == 403
