"""Preconditions on stored files (RFC 9110 section 13.2.2), evaluated before any byte is sent.

werkzeug's `make_conditional` answers a failed `If-Match` with 412 and the whole file, refuses
`If-Match: *` on a file that exists, and lets `Range` win over a matching `If-None-Match`. So
the preconditions are decided here, in the RFC's order, and werkzeug is left only `Range` and
`If-Range`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from flask import Response, request
from werkzeug.http import parse_date, parse_etags

from app.api.errors import Problem

# Decided here; werkzeug must not see them again.
PRECONDITION_HEADERS = ("HTTP_IF_MATCH", "HTTP_IF_NONE_MATCH", "HTTP_IF_MODIFIED_SINCE",
                        "HTTP_IF_UNMODIFIED_SINCE")


def _seconds(value: datetime) -> datetime:
    return value.replace(microsecond=0)


def check_preconditions(etag: str, last_modified: datetime | None,
                        headers: Mapping[str, str]) -> Response | None:
    """A 304 to send instead of the file, None to send it; raises a 412 problem.

    `etag` is the unquoted strong tag (the file's sha256); `headers` are sent with a 304.
    """
    if_match = request.headers.get("If-Match")
    if if_match is not None:
        if not parse_etags(if_match).contains(etag):  # strong comparison; `*` matches
            raise _failed("If-Match", etag)
    elif last_modified is not None:
        since = parse_date(request.headers.get("If-Unmodified-Since"))
        if since is not None and _seconds(last_modified) > since:
            raise _failed("If-Unmodified-Since", etag)

    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:
        if parse_etags(if_none_match).contains_weak(etag):
            if request.method in ("GET", "HEAD"):
                return _not_modified(etag, headers)
            raise _failed("If-None-Match", etag)
    elif last_modified is not None and request.method in ("GET", "HEAD"):
        since = parse_date(request.headers.get("If-Modified-Since"))
        if since is not None and _seconds(last_modified) <= since:
            return _not_modified(etag, headers)
    return None


def range_environ() -> dict[str, object]:
    """The request's environ without the preconditions already decided (Range stays)."""
    return {k: v for k, v in request.environ.items() if k not in PRECONDITION_HEADERS}


def _not_modified(etag: str, headers: Mapping[str, str]) -> Response:
    response = Response(status=304)
    response.set_etag(etag)
    for name, value in headers.items():
        response.headers[name] = value
    return response


def _failed(header: str, etag: str) -> Problem:
    return Problem(412, "Precondition failed",
                   f"{header} does not hold for the current file; its ETag is sent",
                   slug="precondition-failed", headers={"ETag": f'"{etag}"'})
