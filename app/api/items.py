"""Curation items: GET /v1/items, GET /v1/items/{id}, and quarantine review."""

from __future__ import annotations

from typing import Literal

from flask import Blueprint, Response, request
from pydantic import BaseModel, ConfigDict, Field

from app.api.request import bad_query, caller, json_body, query_args, respond, transaction, validate
from app.api.spec import operation
from app.models import Project
from app.payloads.conversations import ItemOut, ItemPage, ItemState, ReviewIn
from app.services import items as service
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


def _review(item_id: str, action: Literal["release", "reject"]) -> Response:
    body = ReviewIn() if not request.get_data(cache=True).strip() else validate(
        ReviewIn, json_body())
    key = caller()
    with transaction() as session:
        item = service.review(session, key.project_id, item_id, release=action == "release",
                              reviewer=f"key:{key.prefix}", note=body.note)
        out = service.item_detail(session, item, signal_map(session.get_one(Project,
                                                                            key.project_id)))
    return respond(out)


@operation(
    bp, "/items/<item_id>/release", "POST",
    summary="Release a quarantined item: it is accepted",
    scope="items:review",
    body=[ReviewIn],
    responses={200: ("The item, now accepted", ItemOut)},
    problems=[400, 404, 409, 415, 422],
    description="Only an item in `quarantined` can be released; the decision, who made it and "
    "the optional note are kept in its reasons. The body is optional.",
)
def release_item(item_id: str) -> Response:
    return _review(item_id, "release")


@operation(
    bp, "/items/<item_id>/reject", "POST",
    summary="Reject a quarantined item as a prank",
    scope="items:review",
    body=[ReviewIn],
    responses={200: ("The item, now rejected_prank", ItemOut)},
    problems=[400, 404, 409, 415, 422],
)
def reject_item(item_id: str) -> Response:
    return _review(item_id, "reject")
