"""Curation items: GET /v1/items, GET /v1/items/{id}, and people's decisions on them."""

from __future__ import annotations

from flask import Blueprint, Response, request
from pydantic import BaseModel, ConfigDict, Field

from app.api.request import bad_query, caller, json_body, query_args, respond, transaction, validate
from app.api.spec import operation
from app.models import Project
from app.payloads.conversations import ItemOut, ItemPage, ItemState, ReviewIn
from app.services import items as service
from app.services.decisions import Action, decide
from app.services.errors import Invalid
from app.services.projects import signal_map

bp = Blueprint("items", __name__)


class ItemQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    state: list[ItemState] | None = Field(default=None, description="Repeat to match several.")
    cursor: str | None = Field(default=None, max_length=200)
    limit: int = Field(default=100, ge=1, le=1000)


@operation(
    bp, "/items", "GET",
    summary="List curation items, optionally by state, in order of receipt",
    scope="items:read",
    query=ItemQuery,
    responses={200: ("A page of items (without their text)", ItemPage)},
    problems=[400],
)
def list_items() -> Response:
    q = query_args(ItemQuery)
    with transaction() as session:
        try:
            data, next_cursor = service.list_items(session, caller().project_id,
                                                   tuple(q.state or ()), q.cursor, q.limit)
        except Invalid as exc:
            raise bad_query([("cursor", str(exc))]) from None
    return respond(ItemPage(data=data, next_cursor=next_cursor))


@operation(
    bp, "/items/<item_id>", "GET",
    summary="One item: redacted text, PII findings, prank scores, reasons, duplicates",
    scope="items:read",
    responses={200: ("The item", ItemOut)},
    problems=[404],
)
def get_item(item_id: str) -> Response:
    project_id = caller().project_id
    with transaction() as session:
        item = service.get_item(session, project_id, item_id)
        out = service.item_detail(session, item, signal_map(session.get_one(Project, project_id)))
    return respond(out)


def _decide(item_id: str, action: Action) -> Response:
    body = ReviewIn() if not request.get_data(cache=True).strip() else validate(
        ReviewIn, json_body())
    key = caller()
    with transaction() as session:
        item = decide(session, key.project_id, item_id, action, actor=f"key:{key.prefix}",
                      note=body.note)
        out = service.item_detail(session, item, signal_map(session.get_one(Project,
                                                                            key.project_id)))
    return respond(out)


_DECIDED = "The decision, who made it, when and the optional note are kept in the item's " \
    "`reviews` (and a line in its reasons). The body is optional. A state the action does not " \
    "apply to, or a decision that lost a race with another, is 409 and changes nothing."


@operation(
    bp, "/items/<item_id>/release", "POST",
    summary="Release an item the machine held back (quarantined, rejected_prank, rejected_pii)",
    scope="items:review",
    body=[ReviewIn],
    responses={200: ("The item, now accepted (in_annotation if it already has its Label "
                     "Studio task)", ItemOut)},
    problems=[400, 404, 409, 415, 422],
    description="A released rejected_pii item shows only its redacted text: the rejected "
    "values are placeholders and the raw text no longer exists. " + _DECIDED,
)
def release_item(item_id: str) -> Response:
    return _decide(item_id, "release")


@operation(
    bp, "/items/<item_id>/reject", "POST",
    summary="Reject a quarantined or accepted item as a prank",
    scope="items:review",
    body=[ReviewIn],
    responses={200: ("The item, now rejected_prank", ItemOut)},
    problems=[400, 404, 409, 415, 422],
    description="Rejected items leave every later dataset build. " + _DECIDED,
)
def reject_item(item_id: str) -> Response:
    return _decide(item_id, "reject")


@operation(
    bp, "/items/<item_id>/split", "POST",
    summary="Split a duplicate out: it becomes its own accepted item",
    scope="items:review",
    body=[ReviewIn],
    responses={200: ("The item, now accepted and no one's duplicate", ItemOut)},
    problems=[400, 404, 409, 415, 422],
    description="Its vote and the feedback on its generation stop counting on the item it had "
    "been merged into and count on it. " + _DECIDED,
)
def split_item(item_id: str) -> Response:
    return _decide(item_id, "split")


@operation(
    bp, "/items/<item_id>/confirm", "POST",
    summary="Confirm the machine's decision on an item (its state does not change)",
    scope="items:review",
    body=[ReviewIn],
    responses={200: ("The item", ItemOut)},
    problems=[400, 404, 409, 415, 422],
    description="Confirmations are what `winnow eval curation --reviews` measures each "
    "stage's precision against, with the overturns. Quarantined items are released or "
    "rejected, not confirmed. " + _DECIDED,
)
def confirm_item(item_id: str) -> Response:
    return _decide(item_id, "confirm")
