"""The Items page: search curation items by state, reason, model, prompt version and day, and
one item with everything known about it (redacted text, findings, screening, duplicates, votes,
reviews, annotations, the dataset versions that hold it and its sample verdict).

Days in the filters are the reader's days (the times on the page are the reader's too).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from flask import request, url_for

from app.api.request import dataset_store
from app.console.web import (
    FIRST_DAY,
    LAST_DAY,
    PageAnswer,
    bp,
    can,
    page,
    render,
    signed,
    transaction,
)
from app.models import Project
from app.models.item import STATES
from app.services import items as service
from app.services.errors import Invalid
from app.services.projects import signal_map
from app.services.samples import verdict_of

PAGE_SIZE = 50
FILTERS = ("state", "reason", "model", "prompt_version", "since", "until")
MAX_FILTER_CHARS = 200
# A redaction placeholder as screening writes it: <ENTITY_TYPE_n>.
PLACEHOLDER = re.compile(r"<[A-Z][A-Z0-9_]*_\d+>")


class BadFilter(ValueError):
    """A filter the page cannot use; the message names it and says why."""


@dataclass(frozen=True)
class Piece:
    text: str
    pii: bool


@bp.app_template_filter("pii_pieces")
def pii_pieces(text: str) -> list[Piece]:
    """Redacted text cut around its placeholders, so a page can mark each one (the text is
    already redacted: the placeholders are all that is left of the PII)."""
    out: list[Piece] = []
    position = 0
    for found in PLACEHOLDER.finditer(text):
        if found.start() > position:
            out.append(Piece(text[position : found.start()], False))
        out.append(Piece(found.group(), True))
        position = found.end()
    if position < len(text):
        out.append(Piece(text[position:], False))
    return out


def _day(name: str, value: str) -> date:
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise BadFilter(f"{name}: {value[:40]!r} is no date (YYYY-MM-DD)") from None
    if not FIRST_DAY <= day <= LAST_DAY:  # and no overflow turning it into a UTC instant
        raise BadFilter(f"{name}: {value} is out of range ({FIRST_DAY} to {LAST_DAY})")
    return day


def search_of(form: dict[str, str]) -> service.ItemSearch:
    """The filters of the page's query string, or BadFilter saying which one is wrong."""
    for name, value in form.items():
        if len(value) > MAX_FILTER_CHARS:
            raise BadFilter(f"{name}: at most {MAX_FILTER_CHARS} characters")
    state = form["state"] or None
    if state is not None and state not in STATES:
        raise BadFilter(f"state: {state[:40]!r} is no item state (one of {', '.join(STATES)})")
    zone = signed().zone
    since = until = None
    if form["since"]:
        since = datetime.combine(_day("since", form["since"]), time(), tzinfo=zone)
    if form["until"]:
        last = _day("until", form["until"])
        until = datetime.combine(last + timedelta(days=1), time(), tzinfo=zone)
    if since is not None and until is not None and since >= until:
        raise BadFilter("since: the first day comes after the last (until)")
    return service.ItemSearch(state=state, reason=form["reason"] or None,
                              model=form["model"] or None,
                              prompt_version=form["prompt_version"] or None,
                              since=since, until=until)


@bp.get("/items")
@page("items:read")
def items() -> PageAnswer:
    form = {name: request.args.get(name, "").strip() for name in FILTERS}
    chosen: dict[str, Any] = {name: value for name, value in form.items() if value}
    context: dict[str, Any] = {"form": form, "states": STATES, "rows": [], "next_url": None,
                               "first_url": None, "error": None}
    try:
        search = search_of(form)
    except BadFilter as exc:
        return render("items.html", **{**context, "error": str(exc)}), 400
    cursor = request.args.get("cursor") or None
    with transaction() as session:
        try:
            rows, next_cursor = service.search_items(session, signed().key.project_id, search,
                                                     cursor, PAGE_SIZE)
        except Invalid as exc:
            return render("items.html", **{**context, "error": f"cursor: {exc}"}), 400
    context.update(rows=rows, filtered=bool(chosen),
                   next_url=url_for("console.items", **chosen, cursor=next_cursor)
                   if next_cursor else None,
                   first_url=url_for("console.items", **chosen) if cursor else None)
    return render("items.html", **context)


@bp.get("/items/<item_id>")
@page("items:read")
def items_detail(item_id: str) -> str:
    who = signed()
    project_id = who.key.project_id
    with transaction() as session:
        item = service.get_item(session, project_id, item_id)
        out = service.item_detail(session, item, signal_map(session.get_one(Project,
                                                                            project_id)))
        versions = service.generation_versions(
            session, project_id, {item.generation_ref} if item.generation_ref else set()
        ).get(item.generation_ref or "", service.Versions())
        annotations = service.annotations_of(session, item)
        verdict = verdict_of(session, item)
        included = service.included_in(session, dataset_store(), who.project_slug, project_id,
                                       item.external_id) if can("datasets:read") else None
    received_day = out.received_at.date().isoformat()  # the UTC day: its daily sample's
    return render("items_detail.html", item=out, versions=versions, annotations=annotations,
                  verdict=verdict, included=included, sample_day=received_day)
