"""The Review page: the quarantine queue oldest first, decisions with notes, races, overturns,
scopes, CSRF, and no raw personal data on the page."""

from __future__ import annotations

import html as markup
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.models import Item, Review
from tests.conftest import MakeTenant
from tests.console.conftest import ConsoleClient, form_token, text
from tests.helpers import Tenant, conversation, event, run_jobs

REVIEWER = ("events:write", "events:read", "items:read", "items:review")
# Single user turns shorter than five characters: the prank stage quarantines them.
SHORT = ("Why?", "How?", "What?", "Huh?", "When?", "Who?", "Ok?", "Hmm?", "Sure?", "Eh?",
         "So?", "And?")
EMAIL, PHONE = "maria.gonzalez@example.com", "212-555-0199"


@pytest.fixture
def api(make_tenant: MakeTenant) -> Tenant:
    return make_tenant(scopes=REVIEWER)


def share(app: Flask, t: Tenant, cid: str, *texts: str, user: str | None = None,
          **fields: Any) -> None:
    body = conversation(cid, user or f"user-{cid}", *texts, **fields)
    answer = app.test_client().post("/v1/conversations", json=body, headers=t.headers)
    assert answer.status_code == 201, answer.get_data(as_text=True)


def quarantined(app: Flask, t: Tenant, n: int, user: str | None = None) -> list[str]:
    ids = [f"q-{i}" for i in range(n)]
    for cid, said in zip(ids, SHORT, strict=False):
        share(app, t, cid, said, user=user)
    run_jobs(app)
    assert states(app, ids) == {cid: "quarantined" for cid in ids}
    return ids


def states(app: Flask, ids: list[str]) -> dict[str, str]:
    with app.extensions["winnow"].db.session() as session:
        rows = session.execute(select(Item.external_id, Item.state)
                               .where(Item.external_id.in_(ids)))
        return {ext: state for ext, state in rows}


def reviews(app: Flask) -> list[tuple[str, str, str, str, str | None]]:
    with app.extensions["winnow"].db.session() as session:
        rows = session.execute(select(Review, Item.external_id)
                               .join(Item, Item.id == Review.item_id).order_by(Review.id))
        return [(i, r.action, r.from_state, r.to_state, r.note) for r, i in rows]


def decide(client: FlaskClient, item_id: str, action: str, note: str = "",
           seen: str | None = "quarantined", token: str | None = None) -> Any:
    data = {"action": action, "note": note,
            "csrf_token": token or form_token(client, f"/review?item={item_id}")}
    if seen:
        data["seen"] = seen
    return client.post(f"/review/{item_id}/decide", data=data)


def test_the_queue_is_shown_oldest_first_one_item_at_a_time(
        app: Flask, console_client: ConsoleClient, api: Tenant) -> None:
    quarantined(app, api, 3)
    client = console_client("items:read", "items:review")
    page = text(client.get("/review"))
    assert "1 of 3 waiting" in page and 'href="/items/q-0"' in page
    assert "Why?" in page  # its redacted text
    assert "empty: user text too short" in page  # the prank signal's reason
    assert re.search(r'href="/review\?item=q-1" data-key="j"', page)
    assert 'data-key="k"' not in page  # nothing before the oldest
    assert 'value="release" class="good" data-key="a"' in page
    assert 'value="reject" class="danger" data-key="r"' in page
    assert re.search(r'<label for="note">', page) and 'data-key="n"' in page
    for key in ("j", "k", "a", "r", "n"):
        assert f"<dt><kbd>{key}</kbd></dt>" in page  # in the help dialog
    middle = text(client.get("/review?item=q-1"))
    assert "2 of 3 waiting" in middle and 'href="/items/q-1"' in middle
    assert re.search(r'href="/review\?item=q-0" data-key="k"', middle)
    assert re.search(r'href="/review\?item=q-2" data-key="j"', middle)
    assert client.get("/review?item=nope").status_code == 404


def test_release_and_reject_keep_the_note_and_move_to_the_next_item(
        app: Flask, console_client: ConsoleClient, api: Tenant) -> None:
    quarantined(app, api, 3)
    client = console_client("items:read", "items:review")
    prefix = client.tenant.token.split("_")[1]  # type: ignore[attr-defined]
    answer = decide(client, "q-0", "release", "  a real question, just short  ")
    assert answer.status_code == 303
    assert answer.headers["Location"] == "/review?item=q-1&done=release&was=q-0"
    page = text(client.get(answer.headers["Location"]))
    assert "Released item q-0." in page and "1 of 2 waiting" in page
    answer = decide(client, "q-1", "reject", "")
    assert answer.headers["Location"] == "/review?item=q-2&done=reject&was=q-1"
    answer = decide(client, "q-2", "reject", "test noise")
    assert answer.headers["Location"] == "/review?done=reject&was=q-2"  # nothing left
    page = text(client.get(answer.headers["Location"]))
    assert "Rejected item q-2 as a prank." in page and "All clear" in page
    assert states(app, ["q-0", "q-1", "q-2"]) == {
        "q-0": "accepted", "q-1": "rejected_prank", "q-2": "rejected_prank"}
    assert reviews(app) == [
        ("q-0", "release", "quarantined", "accepted", "a real question, just short"),
        ("q-1", "reject", "quarantined", "rejected_prank", None),
        ("q-2", "reject", "quarantined", "rejected_prank", "test noise")]
    with app.extensions["winnow"].db.session() as session:
        assert set(session.scalars(select(Review.actor))) == {f"key:{prefix}"}
    # The item's page shows the decision as a previous review, with its note.
    page = text(client.get("/review?item=q-0"))
    assert "Previous reviews" in page and "a real question, just short" in page
    assert "not in the queue" in page and 'name="action" value="reject"' in page


def test_a_skipped_item_comes_back_after_the_last_one(
        app: Flask, console_client: ConsoleClient, api: Tenant) -> None:
    quarantined(app, api, 2)
    client = console_client("items:read", "items:review")
    answer = decide(client, "q-1", "release")  # q-0 skipped with j
    assert answer.headers["Location"] == "/review?item=q-0&done=release&was=q-1"


def test_a_form_without_its_csrf_token_changes_nothing(
        app: Flask, console_client: ConsoleClient, api: Tenant) -> None:
    quarantined(app, api, 1)
    client = console_client("items:read", "items:review")
    for token in (None, "forged"):
        data = {"action": "release", "seen": "quarantined"} | (
            {"csrf_token": token} if token else {})
        answer = client.post("/review/q-0/decide", data=data)
        assert answer.status_code == 400 and "expired" in text(answer)
    assert states(app, ["q-0"]) == {"q-0": "quarantined"} and reviews(app) == []


def test_a_key_without_items_review_gets_neither_the_page_nor_the_link(
        app: Flask, console_client: ConsoleClient, api: Tenant) -> None:
    quarantined(app, api, 1)
    reader = console_client("items:read", "events:read")
    answer = reader.get("/review")
    assert answer.status_code == 403
    assert 'href="/items"' in text(answer)  # the navigation is there, without Review
    assert 'href="/review"' not in text(answer)
    token = form_token(reader, "/review")  # the sign-out form of the 403 page has one
    refused = reader.post("/review/q-0/decide", data={"action": "release", "csrf_token": token})
    assert refused.status_code == 403
    assert states(app, ["q-0"]) == {"q-0": "quarantined"}
    # Deciding without reading: the page shows whole items, so it needs both scopes.
    assert console_client("items:review").get("/review").status_code == 403
    reviewer = console_client("items:read", "items:review")
    assert 'href="/review"' in text(reviewer.get("/review"))


def test_a_decision_that_lost_a_race_says_so_and_moves_on(
        app: Flask, console_client: ConsoleClient, api: Tenant) -> None:
    quarantined(app, api, 2)
    client = console_client("items:read", "items:review")
    token = form_token(client, "/review?item=q-0")  # the page as the reviewer saw it
    # Meanwhile someone else releases q-0 through the API.
    other = app.test_client().post("/v1/items/q-0/release", headers=api.headers)
    assert other.status_code == 200
    answer = decide(client, "q-0", "reject", "spam <b>surely</b>", token=token)
    assert answer.status_code == 409
    page = text(answer)
    assert "Nothing was changed on item q-0" in page and "now accepted" in page
    assert "spam &lt;b&gt;surely&lt;/b&gt;" in page  # the typed note, given back, escaped
    assert "1 of 1 waiting" in page and 'href="/items/q-1"' in page  # moved on
    assert states(app, ["q-0"]) == {"q-0": "accepted"}
    assert [r[1] for r in reviews(app)] == ["release"]
    # A note longer than the API allows is refused too, and changes nothing.
    long = decide(client, "q-1", "release", "x" * 501)
    assert long.status_code == 422 and "note" in text(long)
    assert states(app, ["q-1"]) == {"q-1": "quarantined"}


HAMLET = (
    "Can you summarise the plot of Hamlet in three sentences?",
    "Prince Hamlet seeks revenge on his uncle Claudius, who murdered his father and married "
    "his mother. His hesitation and feigned madness lead to a series of deaths. In the end "
    "Hamlet avenges his father but dies himself.",
)


def test_the_machines_other_decisions_can_be_overturned(
        app: Flask, console_client: ConsoleClient, api: Tenant) -> None:
    share(app, api, "prank-1", "asdf", "I'm not sure what you mean.")
    share(app, api, "ok-1", "Which form do I file for US income tax?", "Form 1040.")
    share(app, api, "h-0", *HAMLET)
    share(app, api, "h-1", *HAMLET)
    run_jobs(app)
    assert states(app, ["prank-1", "ok-1", "h-1"]) == {
        "prank-1": "rejected_prank", "ok-1": "accepted", "h-1": "duplicate"}
    client = console_client("items:read", "items:review")
    empty = text(client.get("/review"))
    assert "All clear" in empty and "Recently decided by the machine" in empty
    assert 'href="/review?item=prank-1"' in empty  # found from the list
    assert "only test words (asdf)" in empty

    page = text(client.get("/review?item=prank-1"))
    assert "not in the queue" in page and "rejected_prank" in page
    assert 'value="release"' in page and 'value="reject"' not in page
    assert 'value="split"' not in page
    answer = decide(client, "prank-1", "release", "asdf is the tool's name here",
                    seen="rejected_prank")
    assert answer.headers["Location"] == "/review?item=prank-1&done=release&was=prank-1"
    page = text(client.get(answer.headers["Location"]))
    assert "Released item prank-1." in page and "asdf is the tool&#39;s name here" in page
    assert 'href="/review?item=prank-1"' not in page.split("Recently decided")[1]

    page = text(client.get("/review?item=ok-1"))
    assert 'value="reject"' in page and 'value="release"' not in page
    assert decide(client, "ok-1", "reject", "spam after all", seen="accepted").status_code == 303
    page = text(client.get("/review?item=h-1"))
    assert 'value="split"' in page and 'data-key="s"' in page
    assert 'href="/review?item=h-0"' in page  # the item it was merged into
    assert decide(client, "h-1", "split", "another user", seen="duplicate").status_code == 303
    assert states(app, ["prank-1", "ok-1", "h-1"]) == {
        "prank-1": "accepted", "ok-1": "rejected_prank", "h-1": "accepted"}
    assert [(r[0], r[1], r[2]) for r in reviews(app)] == [
        ("prank-1", "release", "rejected_prank"), ("ok-1", "reject", "accepted"),
        ("h-1", "split", "duplicate")]


def test_the_page_shows_placeholders_never_the_personal_data(
        app: Flask, console_client: ConsoleClient, api: Tenant) -> None:
    # Ten shares by one user within the hour, then an eleventh: a burst, quarantined.
    for i, short in enumerate(SHORT[:10]):
        share(app, api, f"s-{i}", short, user="u-burst")
    share(app, api, "pii-1", f"Please email me at {EMAIL} or call {PHONE} about my refund.",
          "Sure, I will contact you about the refund.", user="u-burst", generation_id="g-pii")
    comment = event("c-1", type="comment", generation="g-pii",
                    text=f"Reach me on {PHONE} instead")
    posted = app.test_client().post("/v1/events", json=comment, headers=api.headers)
    assert posted.status_code == 201, posted.get_data(as_text=True)
    run_jobs(app)
    assert states(app, ["pii-1"]) == {"pii-1": "quarantined"}
    client = console_client("items:read", "items:review", "events:read")
    page = markup.unescape(text(client.get("/review?item=pii-1")))
    assert "11 of 11 waiting" in page and "share_burst" in page
    assert EMAIL not in page and PHONE not in page and "maria.gonzalez" not in page
    assert re.search(r'<mark class="pii" title="EMAIL_ADDRESS[^"]*"><EMAIL_ADDRESS_1></mark>',
                     page)
    assert '<mark class="pii"' in page and "<PHONE_NUMBER_1></mark>" in page
    assert "Reach me on <PHONE_NUMBER_1> instead" in page  # the feedback, redacted too
