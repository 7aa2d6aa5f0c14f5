"""GET /v1/samples (a day's stratified sample) and POST .../verdict (a person's label)."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response
from pydantic import BaseModel, ConfigDict, Field

from app.api.request import bad_query, caller, json_body, query_args, respond, transaction, validate
from app.api.spec import operation
from app.models import Project
from app.payloads.samples import SampleOut, VerdictIn, VerdictOut
from app.services import samples as service
from app.services.errors import NotFound
from app.services.projects import signal_map

bp = Blueprint("samples", __name__)


class SampleQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    date: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$", description="The UTC day, YYYY-MM-DD.")
    size: int = Field(default=20, ge=1, le=service.MAX_SIZE)


@operation(
    bp, "/samples", "GET",
    summary="A reproducible, stratified sample of one day's accepted items and their feedback",
    scope="items:read",
    query=SampleQuery,
    responses={200: ("The sample, negative feedback first", SampleOut)},
    problems=[400],
    description="Every model version present that day gets at least one item (when `size` "
    "allows), the rest in proportion; within each, items with negative feedback first; an item "
    "whose prompt version is new (first seen in the 7 days up to the date) weighs 3. The same "
    "date and size give the same sample. Conversations are the redacted text.",
)
def daily_sample() -> Response:
    q = query_args(SampleQuery)
    try:
        day = date.fromisoformat(q.date)
    except ValueError:
        raise bad_query([("date", f"{q.date!r} is no calendar date")]) from None
    project_id = caller().project_id
    with transaction() as session:
        signals = signal_map(session.get_one(Project, project_id))
        out = service.daily_sample(session, project_id, day, q.size, signals)
    return respond(out)


@operation(
    bp, "/samples/<day>/<item_id>/verdict", "POST",
    summary="Record a person's verdict on an item of a day's sample",
    scope="items:review",
    body=[VerdictIn],
    responses={200: ("The verdict as recorded", VerdictOut)},
    problems=[400, 409, 415, 422],
    description="`good`, `bad` or `unsure`, failure modes and a note. One verdict per item: a "
    "new one replaces it. Verdicts are labels: a dataset's `selection.verdicts` matches them "
    "(a verdict counts as one reviewer's vote beside the annotators'), and analytics count them "
    "per version (`verdicts`). 404 for an unknown item or a day that is no date; 409 when the "
    "item is not accepted or was received on another day.",
)
def record_verdict(day: str, item_id: str) -> Response:
    try:
        sample_day = date.fromisoformat(day)
    except ValueError:
        raise NotFound(f"{day[:20]!r} is no date (YYYY-MM-DD)") from None
    body = validate(VerdictIn, json_body())
    key = caller()
    with transaction() as session:
        out = service.record_verdict(session, key.project_id, sample_day, item_id, body,
                                     actor=f"key:{key.prefix}")
    return respond(out)
