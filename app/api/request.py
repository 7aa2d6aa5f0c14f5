"""Reading requests: JSON bodies, query strings and the caller's identity."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import orjson
from flask import Response, current_app, g, request
from pydantic import BaseModel, TypeAdapter, ValidationError
from sqlalchemy.orm import Session

from app.api.errors import Problem, field_errors, validation_problem
from app.db import Database, unit_of_work
from app.jobs import JobQueue
from app.runtime import Runtime
from app.services.crypto import Box, KeyMissing
from app.services.keys import VerifiedKey
from app.services.screening import Sealing
from app.store import Store

M = TypeVar("M", bound=BaseModel)


def caller() -> VerifiedKey:
    """The API key that authenticated this request (set by api.auth)."""
    auth: VerifiedKey = g.caller
    return auth


def runtime() -> Runtime:
    """The app's runtime: settings, database, job queue, cipher and dataset store."""
    found: Runtime = current_app.extensions["winnow"]
    return found


def database() -> Database:
    return runtime().db


def job_queue() -> JobQueue:
    return runtime().queue


def sealer() -> Box:
    """The cipher for raw conversation text (created on first use; see services.crypto)."""
    try:
        return runtime().box
    except KeyMissing as exc:
        raise Problem(503, "Not configured", str(exc), slug="not-configured") from None


def dataset_store() -> Store:
    return runtime().store


def sealing() -> Sealing:
    """Sealing of free text and metadata for the screening job (the cipher only if needed)."""
    return Sealing(sealer, job_queue())


def request_session() -> Session:
    """The request's one session: authentication and the handler share its connection."""
    session: Session | None = g.get("_db_session")
    if session is None:
        session = g._db_session = database().sessions()
    return session


@contextmanager
def transaction() -> Iterator[Session]:
    """The handler's unit of work on the request's session: commits on success, else rolls back.

    The key lookup that authenticated the request ran in the same transaction, so a request
    costs one connection checkout and one commit.
    """
    with unit_of_work(request_session()) as session:
        yield session


def close_request_session(_exc: BaseException | None = None) -> None:
    session: Session | None = g.pop("_db_session", None)
    if session is not None:
        session.close()


def json_body() -> Any:
    """The parsed body, or a problem: 415 if not JSON, 413 if too large, 400 if malformed."""
    if request.mimetype != "application/json" and not request.mimetype.endswith("+json"):
        raise Problem(415, "Unsupported media type",
                      "send the body as JSON with Content-Type: application/json")
    if request.content_encoding not in (None, "", "identity"):
        raise Problem(415, "Unsupported media type", "compressed request bodies are not accepted")
    data = request.get_data(cache=False)  # werkzeug raises 413 past MAX_CONTENT_LENGTH
    if not data.strip():
        raise Problem(400, "Malformed JSON", "the request body is empty", slug="malformed-json")
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise Problem(400, "Malformed JSON",
                      f"body is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})",
                      slug="malformed-json") from None


def validate(adapter: TypeAdapter[Any] | type[M], data: Any, prefix: tuple[int | str, ...] = (),
             tags: tuple[str, ...] = ()) -> Any:
    try:
        if isinstance(adapter, TypeAdapter):
            return adapter.validate_python(data)
        return adapter.model_validate(data)
    except ValidationError as exc:
        raise validation_problem(field_errors(exc, prefix, tags)) from None


def query_args(model: type[M]) -> M:
    """Validate the query string; a parameter given twice is a list only where the model says."""
    values: dict[str, Any] = {}
    for name in request.args:
        info = model.model_fields.get(name)
        many = info is not None and "list" in str(info.annotation)
        values[name] = request.args.getlist(name) if many else request.args.get(name)
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        raise bad_query([(e["field"], e["detail"]) for e in field_errors(exc)]) from None


def bad_query(errors: list[tuple[str, str]]) -> Problem:
    names = ", ".join(dict.fromkeys(name for name, _ in errors))
    return Problem(400, "Bad query parameter", f"invalid query parameter(s): {names}",
                   slug="bad-query",
                   errors=[{"pointer": "", "field": name, "detail": d} for name, d in errors])


def respond(payload: BaseModel | dict[str, Any], status: int = 200) -> Response:
    if isinstance(payload, BaseModel):
        body = payload.model_dump_json(exclude_none=False).encode()
    else:
        body = orjson.dumps(payload)
    return Response(body, status=status, mimetype="application/json")
