"""Per-key rate limits, counted with the `limits` library: in Redis when configured, so every
process and machine shares one count per key, or in memory in the embedded mode.

A fixed window per key: one Redis round trip per request (an atomic INCR with expiry), which
also tells how many calls are left. Flask-Limiter, built on the same library, cost about 0.8 ms
of CPU per request here; the API needs only this much of it.

Failed authentications (a wrong API key or webhook secret) are counted per client address, in
the same storage: past WINNOW_AUTH_FAILURE_LIMIT every attempt from that address gets 429, a
right key included, until the window ends, so guessing keys learns nothing. The address is
`request.remote_addr`: behind a proxy, configure werkzeug's ProxyFix or every client is one.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import TypeVar

from flask import Flask, Response, current_app, g, request
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage, RedisStorage, Storage

from app.api.errors import Problem
from app.config import Settings

log = logging.getLogger("winnow.ratelimit")
NAMESPACE = "winnow-rl"
T = TypeVar("T")


@cache
def parse_limits(spec: str) -> tuple[RateLimitItem, ...]:
    """'1000/second', '50/second;10000/hour' ... (validated when a key is created)."""
    return tuple(parse_many(spec))


@dataclass
class _Counted:
    item: RateLimitItem
    remaining: int


class RateLimiter:
    def __init__(self, settings: Settings) -> None:
        self.default = settings.rate_limit
        self.failure_limits = parse_limits(settings.auth_failure_limit)
        self.storage: Storage = (
            RedisStorage(settings.redis_url) if settings.redis_url else MemoryStorage()
        )
        # If Redis fails, count in this process rather than refuse feedback.
        self.fallback: Storage | None = MemoryStorage() if settings.redis_url else None
        self._last_warning = 0.0

    def _count(self, storage: Storage, key_id: int,
               items: tuple[RateLimitItem, ...]) -> list[_Counted]:
        counted = []
        for item in items:
            n = storage.incr(item.key_for(NAMESPACE, f"key:{key_id}"), item.get_expiry())
            counted.append(_Counted(item, item.amount - n))
        return counted

    def _retry_after(self, storage: Storage, key: str, item: RateLimitItem) -> int:
        try:
            reset = storage.get_expiry(key)
        except Exception:  # the answer is already 429; an estimate will do
            reset = time.time() + item.get_expiry()
        return max(1, math.ceil(reset - time.time()))

    def _using(self, run: Callable[[Storage], T]) -> tuple[Storage, T]:
        """Run against Redis, or against this process's memory while Redis is unreachable."""
        storage = self.storage
        try:
            return storage, run(storage)
        except storage.base_exceptions:
            if self.fallback is None:
                raise
            now = time.monotonic()
            if now - self._last_warning > 60:
                self._last_warning = now
                log.warning("rate-limit storage unavailable; counting in memory meanwhile")
            return self.fallback, run(self.fallback)

    @staticmethod
    def _failure_key(item: RateLimitItem, address: str) -> str:
        return item.key_for(NAMESPACE, "auth-failures", address)

    def refuse_failing_client(self, address: str) -> None:
        """Before a credential is checked: 429 if this address spent its failure budget."""
        items = self.failure_limits
        storage, failures = self._using(
            lambda s: [s.get(self._failure_key(item, address)) for item in items])
        for item, n in zip(items, failures, strict=True):
            if n >= item.amount:
                retry = self._retry_after(storage, self._failure_key(item, address), item)
                raise Problem(
                    429, "Too Many Requests",
                    f"too many failed authentications from this address (limit {item}); "
                    f"retry in {retry} s", slug="auth-failures-limited",
                    headers={"Retry-After": str(retry)},
                )

    def count_failure(self, address: str) -> None:
        """A wrong key or secret was presented from this address."""
        items = self.failure_limits
        self._using(lambda s: [s.incr(self._failure_key(item, address), item.get_expiry())
                               for item in items])

    def check(self) -> None:
        """before_request, after authentication: count the call against its key's limits."""
        caller = g.get("caller")
        if caller is None:  # health checks and the OpenAPI document are not limited
            return
        items = parse_limits(caller.rate_limit or self.default)
        storage, counted = self._using(lambda s: self._count(s, caller.id, items))
        tightest = min(counted, key=lambda c: c.remaining)
        if tightest.remaining < 0:
            key = tightest.item.key_for(NAMESPACE, f"key:{caller.id}")
            retry = self._retry_after(storage, key, tightest.item)
            raise Problem(
                429, "Too Many Requests",
                f"this API key is limited to {tightest.item}; retry in {retry} s",
                slug="rate-limited",
                headers={"Retry-After": str(retry),
                         "X-RateLimit-Limit": str(tightest.item.amount),
                         "X-RateLimit-Remaining": "0"},
            )
        g.rate_limit = tightest

    @staticmethod
    def add_headers(response: Response) -> Response:
        counted: _Counted | None = g.get("rate_limit")
        if counted is not None:
            response.headers["X-RateLimit-Limit"] = str(counted.item.amount)
            response.headers["X-RateLimit-Remaining"] = str(counted.remaining)
        return response


def limiter() -> RateLimiter:
    """This app's limiter (authentication counts failures with it)."""
    found: RateLimiter = current_app.extensions["winnow.ratelimit"]
    return found


def client_address() -> str:
    return request.remote_addr or "unknown"


def init_rate_limits(app: Flask, settings: Settings) -> RateLimiter:
    """Register after the authentication hook: limits are counted per authenticated key."""
    limiter = RateLimiter(settings)
    app.before_request(limiter.check)
    app.after_request(limiter.add_headers)
    app.extensions["winnow.ratelimit"] = limiter
    return limiter
