"""HTTP answers Flask would otherwise give in its own shape: OPTIONS and a too-long target.

Both run before authentication: neither reveals anything the public OpenAPI document does not.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, request

from app.api.errors import Problem

# Below gunicorn's longest request line (limit_request_line, set in app.server), so that the
# app, not the server, answers a too-long target, as problem+json.
MAX_TARGET_BYTES = 4096


def _target_length() -> int:
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    if isinstance(raw, str):
        return len(raw)
    query = request.environ.get("QUERY_STRING", "")
    return len(request.path.encode()) + (len(query) + 1 if query else 0)


def answer_early() -> Response | None:
    """before_request, first of all: 414 for a target past MAX_TARGET_BYTES; 204 with Allow
    for OPTIONS on a route (an unknown one stays a 404 problem)."""
    if _target_length() > MAX_TARGET_BYTES:
        raise Problem(414, "URI too long", f"the request target is longer than "
                      f"{MAX_TARGET_BYTES} bytes; send long input in a JSON body",
                      slug="uri-too-long")
    if request.method == "OPTIONS" and request.routing_exception is None:
        response = current_app.make_default_options_response()
        response.status_code = 204
        response.set_data(b"")
        del response.headers["Content-Type"]
        del response.headers["Content-Length"]
        return response
    return None


def register_http(app: Flask) -> None:
    app.before_request(answer_early)
