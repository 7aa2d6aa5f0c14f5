"""Single-or-batch ingestion shared by events and generations.

A batch is judged item by item: valid items are stored (or recognised as replays) and every item
gets a result; nothing valid is lost because a neighbour was bad.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from flask import Response, current_app
from pydantic import TypeAdapter, ValidationError
from sqlalchemy.orm import Session

from app.api.errors import Problem, field_errors, safe_name, validation_problem
from app.api.request import caller, database, respond, validate
from app.payloads.common import IDENTIFIER_PATTERN
from app.payloads.events import BatchResult, BatchSummary, EventResult
from app.payloads.problem import ProblemFieldError
from app.services.ingest import Outcome

IDENTIFIER = re.compile(IDENTIFIER_PATTERN)
Store = Callable[[Session, int, Sequence[Any]], list[Outcome]]


def ingest(
    body: Any, *, batch_key: str, adapter: TypeAdapter[Any], store: Store, location: str,
    tags: tuple[str, ...] = (),
) -> Response:
    if isinstance(body, dict) and batch_key in body:
        return _ingest_batch(body, batch_key, adapter, store, tags)
    if not isinstance(body, dict):
        raise Problem(422, "Validation failed", "the body must be a JSON object",
                      slug="validation-error")
    item = validate(adapter, body, tags=tags)
    with database().session() as session:
        outcome = store(session, caller().project_id, [item])[0]
    if outcome == "conflict":
        raise Problem(409, "Conflict", f"id {item.id!r} was already used for a different body",
                      slug="conflicting-replay", extra={"id": item.id})
    result = EventResult(index=0, id=item.id, status=outcome)
    resp = respond(result, 201 if outcome == "created" else 200)
    resp.headers["Location"] = location.format(id=item.id)
    return resp


def _ingest_batch(
    body: dict[str, Any], batch_key: str, adapter: TypeAdapter[Any], store: Store,
    tags: tuple[str, ...],
) -> Response:
    extra = sorted(set(body) - {batch_key})
    if extra:
        name = safe_name(extra[0])
        raise validation_problem([{"pointer": f"/{name}", "field": name,
                                   "detail": "unknown field"}])
    items = body[batch_key]
    if not isinstance(items, list) or not items:
        raise validation_problem([{"pointer": f"/{batch_key}", "field": batch_key,
                                   "detail": "must be a non-empty array"}])
    limit: int = current_app.config["WINNOW_MAX_BATCH"]
    if len(items) > limit:
        raise Problem(413, "Batch too large", f"at most {limit} items per batch; "
                      f"this one has {len(items)}", slug="batch-too-large")

    results: list[EventResult] = []
    valid: list[Any] = []
    valid_at: list[int] = []
    for i, raw in enumerate(items):
        try:
            valid.append(adapter.validate_python(raw))
            valid_at.append(i)
            results.append(EventResult(index=i, id=valid[-1].id, status="created"))
        except ValidationError as exc:
            raw_id = raw.get("id") if isinstance(raw, dict) else None
            results.append(EventResult(
                index=i,
                # Echo the id only when it is a well-formed one: never a hostile string.
                id=raw_id if isinstance(raw_id, str) and IDENTIFIER.match(raw_id) else None,
                status="invalid",
                errors=[ProblemFieldError(**e) for e in field_errors(exc, (batch_key, i), tags)],
            ))
    if valid:
        with database().session() as session:
            outcomes = store(session, caller().project_id, valid)
        for i, outcome in zip(valid_at, outcomes, strict=True):
            results[i].status = outcome
            if outcome == "conflict":
                results[i].errors = [ProblemFieldError(
                    pointer=f"/{batch_key}/{i}/id", field=f"{batch_key}[{i}].id",
                    detail="id already used for a different body")]

    summary = BatchSummary()
    for r in results:
        setattr(summary, r.status, getattr(summary, r.status) + 1)
    accepted = summary.created + summary.duplicate
    if accepted == 0:
        status = 409 if summary.invalid == 0 else 422
        raise Problem(status, "Conflict" if status == 409 else "Validation failed",
                      "no item in the batch was accepted; see `results`",
                      slug="conflicting-replay" if status == 409 else "validation-error",
                      errors=[e.model_dump() for r in results for e in (r.errors or [])][:100],
                      extra={"results": [r.model_dump(exclude_none=True) for r in results],
                             "summary": summary.model_dump()})
    status = 200 if accepted == len(results) else 207
    return respond(BatchResult(results=results, summary=summary), status)
