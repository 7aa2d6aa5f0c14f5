"""/healthz (the process answers) and /readyz (its database and Redis answer)."""

from __future__ import annotations

from flask import Blueprint, Response, current_app
from sqlalchemy import text

from app.api.request import database, respond
from app.api.spec import operation
from app.jobs import redis_connection
from app.labelstudio import health
from app.payloads.health import HealthOut, ReadyOut

bp = Blueprint("health", __name__)


@operation(bp, "/healthz", "GET", summary="Liveness", scope=None,
           responses={200: ("The process is up", HealthOut)})
def healthz() -> Response:
    return respond(HealthOut(status="ok"))


@operation(bp, "/readyz", "GET",
           summary="Readiness: database and Redis reachable; Label Studio reported", scope=None,
           responses={200: ("Ready", ReadyOut), 503: ("A dependency is down", ReadyOut)})
def readyz() -> Response:
    checks: dict[str, str] = {}
    try:
        with database().engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # any failure means not ready; the type is enough to act on
        checks["database"] = f"error: {type(exc).__name__}"
    redis_url = current_app.config["WINNOW_SETTINGS"].redis_url
    if redis_url:
        try:
            redis_connection(redis_url).ping()
            checks["redis"] = "ok"
        except Exception as exc:
            checks["redis"] = f"error: {type(exc).__name__}"
    else:
        checks["queue"] = "in-process"
    ok = all(v in ("ok", "in-process") for v in checks.values())
    settings = current_app.config["WINNOW_SETTINGS"]
    if settings.label_studio_url:
        # Reported, not required: while Label Studio is down, accepted items wait in
        # annotation_pending and pushes retry; intake and curation go on.
        state = health(settings)
        checks["label_studio"] = "ok" if state == "up" else "unreachable (items wait)"
    return respond(ReadyOut(status="ok" if ok else "unavailable", checks=checks),
                   200 if ok else 503)
