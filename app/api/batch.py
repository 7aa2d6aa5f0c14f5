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
from app.api.request import caller, respond, transaction, validate
from app.payloads.common import IDENTIFIER_PATTERN
from app.payloads.events import EventResult
from app.services.ingest import Outcome

IDENTIFIER = re.compile(IDENTIFIER_PATTERN)
Store = Callable[[Session, int, Sequence[Any]], list[Outcome]]


def ingest(
    body: Any, *, batch_key: str, adapter: TypeAdapter[Any], batch_adapter: TypeAdapter[Any],
    store: Store, location: str, tags: tuple[str, ...] = (),
) -> Response:
    """`adapter` validates one item; `batch_adapter` (a list of the same) a whole batch."""
    if isinstance(body, dict) and batch_key in body:
        return _ingest_batch(body, batch_key, adapter, batch_adapter, store, tags)
    if not isinstance(body, dict):
        raise Problem(422, "Validation failed", "the body must be a JSON object",
                      slug="validation-error")
    item = validate(adapter, body, tags=tags)
    with transaction() as session:
        outcome = store(session, caller().project_id, [item])[0]
    if outcome == "conflict":
        raise Problem(409, "Conflict", f"id {item.id!r} was already used for a different body",
                      slug="conflicting-replay", extra={"id": item.id})
    result = EventResult(index=0, id=item.id, status=outcome)
    resp = respond(result, 201 if outcome == "created" else 200)
    resp.headers["Location"] = location.format(id=item.id)
    return resp


def _validate_each(items: list[Any], batch_key: str, adapter: TypeAdapter[Any],
                   tags: tuple[str, ...]) -> tuple[list[Any], list[dict[str, Any]]]:
    """Validate item by item: the valid ones, and a result for every item."""
    valid: list[Any] = []
    results: list[dict[str, Any]] = []
    for i, raw in enumerate(items):
        try:
            item = adapter.validate_python(raw)
        except ValidationError as exc:
            raw_id = raw.get("id") if isinstance(raw, dict) else None
            results.append({
                "index": i,
                # Echo the id only when it is a well-formed one: never a hostile string.
                "id": raw_id if isinstance(raw_id, str) and IDENTIFIER.match(raw_id) else None,
                "status": "invalid",
                "errors": field_errors(exc, (batch_key, i), tags),
            })
        else:
            valid.append(item)
            results.append({"index": i, "id": item.id, "status": "created", "errors": None})
    return valid, results


def _ingest_batch(
    body: dict[str, Any], batch_key: str, adapter: TypeAdapter[Any],
    batch_adapter: TypeAdapter[Any], store: Store, tags: tuple[str, ...],
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

    # Results are plain dicts (the BatchResult shape): a model per item would cost more than
    # validating it. The whole batch is validated in one call; only a batch with a bad item
    # is gone through item by item to find which.
    try:
        valid = batch_adapter.validate_python(items)
        results = [{"index": i, "id": item.id, "status": "created", "errors": None}
                   for i, item in enumerate(valid)]
    except ValidationError:
        valid, results = _validate_each(items, batch_key, adapter, tags)
    if valid:
        with transaction() as session:
            outcomes = store(session, caller().project_id, valid)
        pending = (r for r in results if r["status"] == "created")
        for result, outcome in zip(pending, outcomes, strict=True):
            result["status"] = outcome
            if outcome == "conflict":
                i = result["index"]
                result["errors"] = [{"pointer": f"/{batch_key}/{i}/id",
                                     "field": f"{batch_key}[{i}].id",
                                     "detail": "id already used for a different body"}]

    summary = dict.fromkeys(("created", "duplicate", "conflict", "invalid"), 0)
    for r in results:
        summary[r["status"]] += 1
    accepted = summary["created"] + summary["duplicate"]
    if accepted == 0:
        status = 409 if summary["invalid"] == 0 else 422
        raise Problem(status, "Conflict" if status == 409 else "Validation failed",
                      "no item in the batch was accepted; see `results`",
                      slug="conflicting-replay" if status == 409 else "validation-error",
                      errors=[e for r in results for e in (r["errors"] or [])][:100],
                      extra={"results": [{k: v for k, v in r.items() if v is not None}
                                         for r in results],
                             "summary": summary})
    status = 200 if accepted == len(results) else 207
    return respond({"results": results, "summary": summary}, status)
