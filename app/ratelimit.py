"""Per-key rate limits (Flask-Limiter): shared in Redis, or in memory in the embedded mode."""

from __future__ import annotations

from flask import Flask, g
from flask_limiter import Limiter

from app.config import Settings


def _key() -> str:
    caller = getattr(g, "caller", None)
    return f"key:{caller.key_id}" if caller is not None else "anonymous"


def init_rate_limits(app: Flask, settings: Settings) -> Limiter:
    def limit_for_caller() -> str:
        caller = getattr(g, "caller", None)
        return (caller.rate_limit if caller is not None else None) or settings.rate_limit

    limiter = Limiter(
        key_func=_key,
        application_limits=[limit_for_caller],
        # Only authenticated calls count: health checks and the OpenAPI document are free.
        application_limits_exempt_when=lambda: getattr(g, "caller", None) is None,
        headers_enabled=True,
        strategy="sliding-window-counter",
        storage_uri=settings.redis_url or "memory://",
        key_prefix="winnow-rl",
        # If Redis fails, count in memory rather than refuse feedback.
        swallow_errors=True,
        in_memory_fallback_enabled=True,
    )
    limiter.init_app(app)
    return limiter
