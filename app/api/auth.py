"""One hook authenticates every request to an operation that declares a scope."""

from __future__ import annotations

from flask import g, request

from app.api.errors import Problem
from app.api.ratelimit import client_address, limiter
from app.api.request import request_session
from app.api.spec import OPERATIONS
from app.services.keys import KeyRejected, has_scope, verify_token

CHALLENGE = 'Bearer realm="winnow"'


def _unauthorized(detail: str, error: str | None = None) -> Problem:
    challenge = CHALLENGE + (f', error="{error}"' if error else "")
    return Problem(401, "Unauthorized", detail, headers={"WWW-Authenticate": challenge})


def authenticate() -> None:
    op = OPERATIONS.get(request.endpoint or "")
    if op is None or op.scope is None:
        return
    header = request.headers.get("Authorization", "")
    if not header:
        raise _unauthorized("missing API key: send 'Authorization: Bearer <key>'")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise _unauthorized("the Authorization header must be 'Bearer <key>'", "invalid_request")
    gate = limiter()
    # A key this process verified moments ago: one Redis round trip checks that it is not
    # revoked and the address not over its failure budget, and counts the call.
    key = gate.kept_key(token)
    if key is None or not gate.admit_kept(key, client_address()):
        # Checked first: a guess from an address over its failure budget is not even looked at.
        gate.refuse_failing_client(client_address())
        try:
            key = verify_token(request_session(), token)
        except KeyRejected as exc:
            gate.count_failure(client_address())
            raise _unauthorized(str(exc), "invalid_token") from None
        gate.keep(token, key)
    allowed = has_scope(key, op.scope)
    g.caller = key
    if not allowed:
        raise Problem(403, "Forbidden", f"this API key lacks the '{op.scope}' scope",
                      slug="insufficient-scope", extra={"required_scope": op.scope})
