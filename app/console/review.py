"""The Review page: the quarantine queue, oldest first, one item at a time, and overturning the
machine's other decisions.

`/review` shows the item that has waited longest, `/review?item=<id>` any item (an address to
share). A decision is one POST (release, reject, split or confirm, with an optional note) that
redirects to the next waiting item, saying what was done. Keys: j/k next and previous, a release,
r reject, s split, n the note (console.js turns the data-key attributes into shortcuts).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from flask import redirect, request
from pydantic import ValidationError
from werkzeug.wrappers import Response as BaseResponse

from app.console.web import bp, can, form_text, page, render, signed, transaction
from app.models import Project
from app.payloads.conversations import FindingOut, ItemOut, ReviewIn
from app.services import items, review_queue
from app.services.decisions import FROM_STATES, Action
from app.services.errors import Conflict, Invalid
from app.services.projects import signal_map

ACTIONS: tuple[Action, ...] = ("release", "reject", "split", "confirm")
# What the status line says after each decision.
DONE = {"release": "Released item {}.", "reject": "Rejected item {} as a prank.",
        "split": "Split item {} out: it is its own item now.",
        "confirm": "Confirmed the machine's decision on item {}."}


@dataclass(frozen=True)
class Piece:
    """A run of a redacted message: plain text, or a PII placeholder and its finding."""

    text: str
    finding: FindingOut | None = None


def marked(item: ItemOut) -> list[list[Piece]]:
    """Each redacted message cut into text and placeholders, so the template can mark the
    placeholders (the findings say which are PII; the values themselves are gone)."""
    out: list[list[Piece]] = []
    for index, message in enumerate(item.messages or []):
        found = {f.placeholder: f for f in item.findings if f.message == index}
        if not found:
            out.append([Piece(message.content)])
            continue
        pattern = re.compile("|".join(re.escape(p) for p in sorted(found, key=len, reverse=True)))
        pieces, at = [], 0
        for match in pattern.finditer(message.content):
            if match.start() > at:
                pieces.append(Piece(message.content[at:match.start()]))
            pieces.append(Piece(match.group(), found[match.group()]))
            at = match.end()
        if at < len(message.content):
            pieces.append(Piece(message.content[at:]))
        out.append(pieces)
    return out


def _actions(state: str) -> list[str]:
    return [a for a in ACTIONS if state in FROM_STATES[a]]


def _page(item_id: str | None, status: str | None = None, error: str | None = None,
          kept_note: str | None = None) -> str:
    project_id = signed().key.project_id
    with transaction() as session:
        if item_id is None:
            item_id = review_queue.oldest_waiting(session, project_id)
        recent = review_queue.machine_decided(session, project_id)
        if item_id is None:  # the queue is clear
            return render("review.html", item=None, place=None, status=status, error=error,
                          kept_note=kept_note, recent=recent,
                          waiting=review_queue.waiting_count(session, project_id))
        row = items.get_item(session, project_id, item_id)
        signals = signal_map(session.get_one(Project, project_id))
        detail = items.item_detail(session, row, signals)
        where = review_queue.place(session, project_id, row)
        events = review_queue.feedback_events(session, row, signals) \
            if can("events:read") else []
    context: dict[str, Any] = dict(
        item=detail, place=where, waiting=where.waiting, messages=marked(detail),
        actions=_actions(detail.state), events=events, recent=recent, status=status,
        error=error, kept_note=kept_note)
    return render("review.html", **context)


@bp.get("/review")
@page("items:read", "items:review")
def review() -> str:
    item_id = request.args.get("item") or None
    done, was = request.args.get("done"), request.args.get("was")
    status = DONE[done].format(was) if done in DONE and was else None
    return _page(item_id, status=status)


def _note() -> str | None:
    text = form_text("note")
    try:
        return ReviewIn(note=text).note
    except ValidationError as exc:
        reason = exc.errors()[0]["msg"]
        raise Invalid(f"note: {reason}") from None


@bp.post("/review/<item_id>/decide")
@page("items:read", "items:review")
def review_decide(item_id: str) -> BaseResponse | tuple[str, int]:
    action = request.form.get("action")
    if action not in ACTIONS:
        raise Invalid("action: choose release, reject, split or confirm")
    note = _note()
    seen = request.form.get("seen") or None
    key = signed().key
    try:
        with transaction() as session:
            decided = review_queue.decide_seen(session, key.project_id, item_id, action, seen,
                                               actor=f"key:{key.prefix}", note=note)
            row_id = decided.id
            following = review_queue.next_waiting(session, key.project_id, row_id) \
                if seen == review_queue.WAITING else item_id
    except Conflict as exc:
        # Lost a race (or the state no longer allows it): say so, keep the note, move on.
        following = item_id
        if seen == review_queue.WAITING:
            with transaction() as session:
                row = items.get_item(session, key.project_id, item_id)
                following = review_queue.next_waiting(session, key.project_id, row.id)
        message = f"Nothing was changed on item {item_id}: {exc}."
        return _page(following, error=message, kept_note=note), 409
    query = ({"item": following} if following else {}) | {"done": action, "was": item_id}
    return redirect("/review?" + urlencode(query), code=303)
