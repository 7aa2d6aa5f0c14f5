"""RFC 9457 problem+json for every error the API returns.

Messages are written here or taken from pydantic's error *messages*; request values are never
echoed, so no user text reaches an error body or a log line.
"""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Iterable, Mapping
from typing import Any

import orjson
from flask import Flask, Response, g, has_request_context, request
from pydantic import ValidationError
from pydantic_core import ErrorDetails
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from app.services.errors import Conflict, Invalid, NotFound, Unavailable

log = logging.getLogger("winnow.api")

PROBLEM_JSON = "application/problem+json"
# Seconds a client should wait before retrying when the database or the queue is unreachable.
RETRY_AFTER = 5


class Problem(Exception):
    def __init__(
        self,
        status: int,
        title: str,
        detail: str | None = None,
        *,
        slug: str | None = None,
        errors: list[dict[str, str]] | None = None,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.title = title
        self.detail = detail
        self.slug = slug or title.lower().replace(" ", "-")
        self.errors = errors
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": f"urn:winnow:problem:{self.slug}",
            "title": self.title,
            "status": self.status,
        }
        if self.detail:
            body["detail"] = self.detail
        if self.errors:
            body["errors"] = self.errors
        body["instance"] = request.path if request else None
        body.update(self.extra)
        return body

    def response(self) -> Response:
        resp = Response(orjson.dumps(self.body()), status=self.status, mimetype=PROBLEM_JSON)
        for name, value in self.headers.items():
            resp.headers[name] = value
        return resp


_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


def safe_name(name: str) -> str:
    """Field names can come from the request (unknown keys): name only plausible ones."""
    return name if _NAME.match(name) else "*"


def _safe(loc: Iterable[int | str]) -> tuple[int | str, ...]:
    return tuple(p if isinstance(p, int) else safe_name(p) for p in loc)


def _pointer(loc: Iterable[int | str]) -> str:
    parts = [str(p).replace("~", "~0").replace("/", "~1") for p in loc]
    return "/" + "/".join(parts) if parts else ""


def _dotted(loc: Iterable[int | str]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(body)"


def _message(error: ErrorDetails) -> tuple[tuple[int | str, ...], str]:
    """The field path and a message that never repeats the input value."""
    loc = tuple(p for p in error["loc"])
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "union_tag_invalid":
        return (*loc, "type"), f"unknown event type; expected one of: {ctx.get('expected_tags')}"
    if kind == "union_tag_not_found":
        return (*loc, "type"), "field required: the event type"
    if kind == "missing":
        return loc, "field required"
    if kind == "extra_forbidden":
        return loc, "unknown field"
    return loc, error["msg"]


def field_errors(
    exc: ValidationError, prefix: tuple[int | str, ...] = (), tags: Iterable[str] = ()
) -> list[dict[str, str]]:
    """pydantic errors as RFC 9457 `errors` members, each naming its field."""
    tagset = set(tags)
    out = []
    for error in exc.errors(include_url=False, include_input=False):
        loc, msg = _message(error)
        if loc and loc[0] in tagset:  # a discriminated union puts the tag first: drop it
            loc = loc[1:]
        loc = prefix + _safe(loc)
        out.append({"pointer": _pointer(loc), "field": _dotted(loc), "detail": msg})
    return out


def validation_problem(errors: list[dict[str, str]], detail: str | None = None) -> Problem:
    fields = ", ".join(dict.fromkeys(e["field"] for e in errors[:5]))
    return Problem(
        422,
        "Validation failed",
        detail or f"invalid field(s): {fields}",
        slug="validation-error",
        errors=errors,
    )


def _server_unavailable(exc: Exception, server: str) -> Response:
    """503 + Retry-After. A transaction that did not commit was rolled back: nothing of it is
    kept. Once a COMMIT was sent (a lost connection during it, or a queue down after it) the
    answer says that the request may have been stored."""
    log.warning("%s unavailable (%s) on %s %s", server, type(exc).__name__, request.method,
                request.url_rule.rule if request.url_rule else "?")
    committed = bool(g.get("winnow_committing"))
    what = "database" if server == "database" else "job queue (Redis)"
    if committed:
        detail = (f"the {what} could not be reached after the request began to be stored: it "
                  "may or may not have been stored; retrying it is safe (replays are recognised)")
    else:
        detail = f"the {what} could not be reached: nothing was stored; retry later"
    return Problem(503, f"{server.capitalize()} unavailable", detail,
                   slug=f"{server}-unavailable", headers={"Retry-After": str(RETRY_AFTER)},
                   extra={"stored": None if committed else False}).response()


def _committing(_conn: Any) -> None:
    """Noted per request: after a COMMIT was sent, a lost connection cannot say nothing was kept."""
    if has_request_context():
        g.winnow_committing = True


def register_error_handlers(app: Flask) -> None:
    event.listen(app.extensions["winnow"].db.engine, "commit", _committing)

    @app.errorhandler(Problem)
    def _problem(exc: Problem) -> Response:
        return exc.response()

    @app.errorhandler(NotFound)
    def _not_found(exc: NotFound) -> Response:
        return Problem(404, "Not found", str(exc), slug="not-found").response()

    @app.errorhandler(Invalid)
    def _invalid(exc: Invalid) -> Response:
        return Problem(422, "Validation failed", str(exc), slug="validation-error").response()

    @app.errorhandler(Conflict)
    def _conflict(exc: Conflict) -> Response:
        return Problem(409, "Conflict", str(exc), slug="state-conflict").response()

    @app.errorhandler(Unavailable)
    def _unavailable(exc: Unavailable) -> Response:
        return Problem(503, "Unavailable", str(exc), slug="unavailable").response()

    def _page(status: int, title: str) -> Response | None:
        """An HTML page instead, for an address outside the API (the console registers how)."""
        render = app.extensions.get("winnow.error_page")
        return render(status, title) if render is not None else None

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        status = exc.code or 500
        if (page := _page(status, exc.name)) is not None:
            return page
        title = exc.name
        detail = {
            404: "no such endpoint or resource",
            405: f"method {request.method} not allowed here",
            413: "request body too large",
        }.get(status, exc.description if status != 500 else None)
        problem = Problem(status, title, detail)
        resp = problem.response()
        original = exc.get_response()
        for header in ("Allow", "Content-Range", "Retry-After", "WWW-Authenticate"):
            if header in original.headers:
                resp.headers[header] = original.headers[header]
        return resp

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    @app.errorhandler(DisconnectionError)
    @app.errorhandler(PoolTimeout)
    def _database_unavailable(exc: Exception) -> Response:
        return _server_unavailable(exc, "database")

    @app.errorhandler(RedisConnectionError)
    @app.errorhandler(RedisTimeoutError)
    def _queue_unavailable(exc: Exception) -> Response:
        return _server_unavailable(exc, "queue")

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        # Logged by type and stack only: the exception's text may hold request values.
        log.error("unhandled %s on %s %s\n%s", type(exc).__name__, request.method,
                  request.url_rule.rule if request.url_rule else "?",
                  "".join(traceback.format_tb(exc.__traceback__)))
        if (page := _page(500, "Internal server error")) is not None:
            return page
        return Problem(500, "Internal server error", "an unexpected error; it has been logged",
                       slug="internal").response()
