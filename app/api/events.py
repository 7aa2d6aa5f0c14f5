"""POST /v1/events (one or a batch) and GET /v1/events."""

from __future__ import annotations

from functools import partial
from typing import Annotated

from flask import Blueprint, Response
from pydantic import BaseModel, ConfigDict, Field

from app.api.batch import ingest
from app.api.request import (
    bad_query,
    caller,
    job_queue,
    json_body,
    query_args,
    respond,
    sealer,
    sealing,
    transaction,
)
from app.api.spec import operation
from app.feedback import EVENT_TYPES
from app.models import Project
from app.payloads.common import Identifier, Timestamp
from app.payloads.events import (
    EVENT_ADAPTER,
    EVENT_LIST_ADAPTER,
    BatchResult,
    EventBatchIn,
    EventIn,
    EventOut,
    EventPage,
    EventResult,
)
from app.services import events as service
from app.services.conversations import store_events_with_shares
from app.services.errors import Invalid, NotFound
from app.services.projects import signal_map

bp = Blueprint("events", __name__)

EventTypeName = Annotated[str, Field(pattern="^(" + "|".join(EVENT_TYPES) + ")$")]
TAGS = tuple(EVENT_TYPES)


@operation(
    bp, "/events", "POST",
    summary="Record one feedback event or a batch of up to 1,000",
    scope="events:write",
    body=[EventIn, EventBatchIn],
    responses={
        200: ("One event recognised as a replay (an EventResult), or a batch whose every "
              "event was stored or recognised as a replay (a BatchResult)",
              EventResult | BatchResult),
        201: ("One event stored", EventResult),
        207: ("Batch: some events refused; see each result", BatchResult),
    },
    problems=[400, 409, 413, 415, 422],
    description="Idempotent on each event's `id`: a replay of the same body is `duplicate`, the "
    "same id with a different body is `conflict`. A batch is `{\"events\": [...]}`; each event "
    "gets a result, and valid events are stored even when others in the batch are not.",
)
def post_events() -> Response:
    body = json_body()
    store = partial(service.store_events, sealing=sealing())
    if _carries_conversation(body):
        store = partial(store_events_with_shares, box=sealer(), queue=job_queue(),
                        sealing=sealing())
    return ingest(body, batch_key="events", adapter=EVENT_ADAPTER,
                  batch_adapter=EVENT_LIST_ADAPTER, store=store, location="/v1/events/{id}",
                  tags=TAGS)


def _carries_conversation(body: object) -> bool:
    """Only share events with a conversation need the cipher and the queue."""
    if isinstance(body, dict):
        items = body.get("events") if "events" in body else [body]
        if isinstance(items, list):
            return any(isinstance(e, dict) and "conversation" in e for e in items)
    return False


class EventQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    generation_id: Identifier | None = None
    type: list[EventTypeName] | None = Field(default=None, description="Repeat to match several.")
    user_id: Identifier | None = None
    since: Timestamp | None = Field(default=None, description="timestamp >= since")
    until: Timestamp | None = Field(default=None, description="timestamp < until")
    cursor: str | None = Field(default=None, max_length=200)
    limit: int = Field(default=100, ge=1, le=1000)


@operation(
    bp, "/events", "GET",
    summary="List feedback events, filtered, in order of receipt",
    scope="events:read",
    query=EventQuery,
    responses={200: ("A page of events", EventPage)},
    problems=[400],
)
def list_events() -> Response:
    q = query_args(EventQuery)
    project_id = caller().project_id
    f = service.EventFilter(q.generation_id, tuple(q.type or ()), q.user_id, q.since, q.until)
    with transaction() as session:
        signals = signal_map(session.get_one(Project, project_id))
        try:
            rows, next_cursor = service.list_events(session, project_id, f, q.cursor, q.limit)
        except Invalid as exc:
            raise bad_query([("cursor", str(exc))]) from None
        page = EventPage(data=[service.to_out(r, signals) for r in rows], next_cursor=next_cursor)
    return respond(page)


@operation(
    bp, "/events/<event_id>", "GET",
    summary="One feedback event by the client's id",
    scope="events:read",
    responses={200: ("The event", EventOut)},
    problems=[404],
)
def get_event(event_id: str) -> Response:
    project_id = caller().project_id
    with transaction() as session:
        event = service.get_event(session, project_id, event_id)
        if event is None:
            raise NotFound("no event with that id in this project")
        out = service.to_out(event, signal_map(session.get_one(Project, project_id)))
    return respond(out)
