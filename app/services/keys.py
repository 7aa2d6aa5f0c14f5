"""API keys: shown once, stored as a sha256 of a 256-bit secret, scoped, revocable.

A process may keep keys it verified for a few seconds (the API's gate does, with Redis: see
app/api/ratelimit.py); a revocation is announced to every such keeper when its transaction
commits (`listen_for_revocations`), so a revoked key stops working at once.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol, cast

from limits import parse_many
from sqlalchemy import Table, bindparam, event, select
from sqlalchemy.orm import Session

from app.models import ApiKey, Project
from app.models.base import utcnow
from app.services.errors import Invalid, NotFound

TOKEN_PREFIX = "wn"
log = logging.getLogger("winnow.keys")
_REVOKED = "winnow.revoked_keys"


class RevocationListener(Protocol):
    def revoked(self, key_ids: set[int]) -> None: ...


_listeners: weakref.WeakSet[RevocationListener] = weakref.WeakSet()


def listen_for_revocations(listener: RevocationListener) -> None:
    """`listener.revoked(ids)` runs after every commit that revoked keys, in this process
    (held weakly: an app that is gone stops listening)."""
    _listeners.add(listener)


@event.listens_for(Session, "after_commit")
def _announce_revocations(session: Session) -> None:
    ids: set[int] = session.info.pop(_REVOKED, set())
    if not ids:
        return
    for listener in list(_listeners):
        try:
            listener.revoked(ids)
        except Exception:  # the revocation is committed; the keepers' TTL bounds the rest
            log.exception("could not announce a key revocation")


@event.listens_for(Session, "after_rollback")
def _forget_revocations(session: Session) -> None:
    session.info.pop(_REVOKED, None)


class Scope(StrEnum):
    EVENTS_WRITE = "events:write"
    EVENTS_READ = "events:read"
    DATASETS_READ = "datasets:read"
    DATASETS_WRITE = "datasets:write"
    ITEMS_READ = "items:read"
    ITEMS_REVIEW = "items:review"
    ADMIN = "admin"


DEFAULT_SCOPES = (Scope.EVENTS_WRITE, Scope.EVENTS_READ)


@dataclass(frozen=True)
class IssuedKey:
    key: ApiKey
    token: str  # shown to the user once, never stored


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_scopes(values: Sequence[str]) -> list[str]:
    known = {s.value for s in Scope}
    unknown = [v for v in values if v not in known]
    if unknown:
        raise Invalid(f"unknown scope(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    return sorted(set(values))


def create_key(
    session: Session,
    project: Project,
    name: str,
    scopes: Sequence[str] = DEFAULT_SCOPES,
    rate_limit: str | None = None,
) -> IssuedKey:
    if rate_limit is not None:
        try:
            parse_many(rate_limit)
        except ValueError:
            raise Invalid("rate limit must look like '100/second' or '1000 per minute'") from None
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    key = ApiKey(
        project_id=project.id,
        name=name,
        prefix=prefix,
        secret_hash=_hash(secret),
        scopes=parse_scopes(list(scopes)),
        rate_limit=rate_limit,
    )
    session.add(key)
    session.flush()
    return IssuedKey(key=key, token=f"{TOKEN_PREFIX}_{prefix}_{secret}")


class KeyRejected(Exception):
    """Why a presented token was not accepted; the message is safe to return."""


@dataclass(frozen=True)
class VerifiedKey:
    id: int
    prefix: str
    project_id: int
    scopes: tuple[str, ...]
    rate_limit: str | None


_KEYS = cast(Table, ApiKey.__table__)
# Column-level (Core) lookup: this runs on every request, and the ORM's identity map and
# instance construction would cost more than the query.
_LOOKUP = select(
    _KEYS.c.id, _KEYS.c.project_id, _KEYS.c.secret_hash, _KEYS.c.scopes, _KEYS.c.rate_limit,
    _KEYS.c.revoked_at,
).where(_KEYS.c.prefix == bindparam("prefix"))


def verify_token(session: Session, token: str) -> VerifiedKey:
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX or not parts[1] or not parts[2]:
        raise KeyRejected("malformed API key")
    key = session.connection().execute(_LOOKUP, {"prefix": parts[1]}).first()
    # Compare even when the prefix is unknown, so timing says nothing about which prefixes exist.
    expected = key.secret_hash if key is not None else "0" * 64
    if not hmac.compare_digest(expected, _hash(parts[2])) or key is None:
        raise KeyRejected("invalid API key")
    if key.revoked_at is not None:
        raise KeyRejected("API key has been revoked")
    return VerifiedKey(key.id, parts[1], key.project_id, tuple(key.scopes), key.rate_limit)


def has_scope(key: VerifiedKey, scope: str) -> bool:
    return Scope.ADMIN.value in key.scopes or scope in key.scopes


def list_keys(session: Session, project: Project) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).where(ApiKey.project_id == project.id)
                                .order_by(ApiKey.id)))


def revoke_key(session: Session, prefix: str, project_id: int | None = None) -> ApiKey:
    """Revoke by prefix; with `project_id` (the console's admin), only a key of that project:
    another project's prefix is not found, as if it did not exist."""
    query = select(ApiKey).where(ApiKey.prefix == prefix)
    if project_id is not None:
        query = query.where(ApiKey.project_id == project_id)
    key = session.scalar(query)
    if key is None:
        raise NotFound(f"no API key with prefix {prefix[:40]!r}")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
    session.info.setdefault(_REVOKED, set()).add(key.id)
    return key
