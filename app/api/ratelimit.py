"""Per-key rate limits, counted with the `limits` library: in Redis when configured, so every
process and machine shares one count per key, or in memory in the embedded mode.

A fixed window per key: one Redis round trip per request (an atomic INCR with expiry), which
also tells how many calls are left. Flask-Limiter, built on the same library, cost about 0.8 ms
of CPU per request here; the API needs only this much of it.

Failed authentications (a wrong API key or webhook secret) are counted per client address, in
the same storage: past WINNOW_AUTH_FAILURE_LIMIT every attempt from that address gets 429, a
right key included, until the window ends, so guessing keys learns nothing. The address is
`request.remote_addr`: behind a proxy, configure werkzeug's ProxyFix or every client is one.

With Redis, a key this process verified is kept for KEY_SECONDS (by the sha256 of the token,
never the token) and a request presenting it costs one Redis round trip (a MULTI pipeline:
is the key revoked, is the address over its failure budget, count the call) instead of that
plus a database lookup and a Redis call for each check. A revocation sets a marker in Redis
when it commits (services.keys announces it), which the next request with that key sees: it
stops working at once on every process. Without Redis (the embedded mode, or Redis down)
nothing is kept: every request looks its key up.
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any, TypeVar

from flask import Flask, Response, current_app, g, request
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage, RedisStorage, Storage

from app.api.errors import Problem
from app.config import Settings
from app.services.keys import VerifiedKey, listen_for_revocations

log = logging.getLogger("winnow.ratelimit")
NAMESPACE = "winnow-rl"
T = TypeVar("T")
KEY_SECONDS = 10.0  # how long a verified key is kept; bounds staleness if Redis loses a marker
MAX_KEPT = 10_000
REVOKED_SECONDS = 120  # a revocation marker outlives every kept copy of the key

# One atomic call for a kept key's request. KEYS: the revocation marker, the address's failure
# counters (ARGV[1] of them), the key's rate counters; ARGV[2..]: each rate window's seconds.
# Returns {-1} if revoked, else {0, failures..., counts...}. The counters are `limits`' own
# (same names; created with their expiry as its incr_expire script does).
ADMIT = """
if redis.call('EXISTS', KEYS[1]) == 1 then return {-1} end
local f = tonumber(ARGV[1])
local out = {0}
for i = 1, f do out[#out + 1] = tonumber(redis.call('GET', KEYS[1 + i]) or '0') end
for i = 2 + f, #KEYS do
  local n = redis.call('INCR', KEYS[i])
  if n == 1 then redis.call('EXPIRE', KEYS[i], ARGV[i - f]) end
  out[#out + 1] = n
end
return out
"""


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
        # Verified keys by token digest: only with Redis, where revocations are announced.
        self._kept: dict[bytes, tuple[VerifiedKey, float]] = {}
        self._kept_lock = threading.Lock()
        self._script: Any = None  # ADMIT, registered on first use
        if isinstance(self.storage, RedisStorage):
            listen_for_revocations(self)

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
                raise self._failing(
                    item, self._retry_after(storage, self._failure_key(item, address), item))

    @staticmethod
    def _failing(item: RateLimitItem, retry: int) -> Problem:
        return Problem(
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

    # --- verified keys kept with Redis -------------------------------------------------

    @staticmethod
    def _digest(token: str) -> bytes:
        return hashlib.sha256(token.encode()).digest()

    def kept_key(self, token: str) -> VerifiedKey | None:
        found = self._kept.get(self._digest(token))
        if found is None:
            return None
        key, until = found
        return key if time.monotonic() < until else None

    def keep(self, token: str, key: VerifiedKey) -> None:
        if not isinstance(self.storage, RedisStorage):
            return
        with self._kept_lock:
            if len(self._kept) >= MAX_KEPT:
                self._kept.clear()
            self._kept[self._digest(token)] = (key, time.monotonic() + KEY_SECONDS)

    def forget(self, key_ids: set[int] | None = None) -> None:
        with self._kept_lock:
            if key_ids is None:
                self._kept.clear()
            else:
                for digest in [d for d, (k, _) in self._kept.items() if k.id in key_ids]:
                    del self._kept[digest]

    @staticmethod
    def _revoked_key(key_id: int) -> str:
        return f"{NAMESPACE}/revoked/{key_id}"

    def revoked(self, key_ids: set[int]) -> None:
        """services.keys announces a committed revocation: drop the keys here and mark them in
        Redis for every other process. If Redis is unreachable, they learn it within
        KEY_SECONDS, when their copy expires."""
        self.forget(key_ids)
        storage = self.storage
        assert isinstance(storage, RedisStorage)
        redis: Any = storage.get_connection()
        pipe = redis.pipeline(transaction=False)
        for key_id in key_ids:
            pipe.set(self._revoked_key(key_id), 1, ex=REVOKED_SECONDS)
        pipe.execute()

    def _admit_script(self, storage: RedisStorage) -> Any:
        if self._script is None:
            self._script = storage.get_connection().register_script(ADMIT.encode())
        return self._script

    def admit_kept(self, key: VerifiedKey, address: str) -> bool:
        """A kept key's request in one Redis round trip: False if it was revoked meanwhile (or
        Redis is unreachable: the caller looks the key up as usual); else the call is counted
        and 429 raised when the address or the key is over its limit."""
        storage = self.storage
        assert isinstance(storage, RedisStorage)
        items = parse_limits(key.rate_limit or self.default)
        counters = [storage.prefixed_key(item.key_for(NAMESPACE, f"key:{key.id}"))
                    for item in items]
        failures = [storage.prefixed_key(self._failure_key(item, address))
                    for item in self.failure_limits]
        script = self._admit_script(storage)
        try:
            replies = script(keys=[self._revoked_key(key.id), *failures, *counters],
                             args=[len(failures), *(item.get_expiry() for item in items)])
        except storage.base_exceptions:
            self.forget()  # revocations may be missed meanwhile: look every key up again
            return False
        if int(replies[0]) < 0:
            self.forget({key.id})
            return False
        for item, n in zip(self.failure_limits, replies[1:1 + len(failures)], strict=True):
            if int(n) >= item.amount:
                raise self._failing(
                    item, self._retry_after(storage, self._failure_key(item, address), item))
        counted = [_Counted(item, item.amount - int(n)) for item, n in
                   zip(items, replies[1 + len(failures):], strict=True)]
        self._enforce(storage, key.id, counted)
        return True

    def check(self) -> None:
        """before_request, after authentication: count the call against its key's limits."""
        caller = g.get("caller")
        if caller is None:  # health checks and the OpenAPI document are not limited
            return
        if g.get("rate_limit") is not None:  # counted already (a kept key: admit_kept)
            return
        items = parse_limits(caller.rate_limit or self.default)
        storage, counted = self._using(lambda s: self._count(s, caller.id, items))
        self._enforce(storage, caller.id, counted)

    def _enforce(self, storage: Storage, key_id: int, counted: list[_Counted]) -> None:
        tightest = min(counted, key=lambda c: c.remaining)
        if tightest.remaining < 0:
            key = tightest.item.key_for(NAMESPACE, f"key:{key_id}")
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
