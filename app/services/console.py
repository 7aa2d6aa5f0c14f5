"""Console sessions: started by an API key, ended by signing out, idling or ageing out, or the
key's revocation. The browser holds a 256-bit random token; only its sha256 is stored."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, available_timezones

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from app.models import ApiKey, ConsoleSession, Project
from app.models.base import utcnow
from app.services.keys import VerifiedKey

# last_seen_at is written at most this often: a page view is a read, not a write, in the main.
TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class Signed:
    """Who a console request acts as."""

    key: VerifiedKey
    key_name: str
    project_slug: str
    project_name: str
    time_zone: str

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)


class Ended(Exception):
    """The session is over; the message says why, in words for the sign-in page."""


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def time_zone(name: str | None) -> str:
    """An IANA zone name as given, or UTC for anything unknown."""
    name = (name or "").strip()
    return name if name in _zones() else "UTC"


_ZONES: frozenset[str] | None = None


def _zones() -> frozenset[str]:
    global _ZONES
    if _ZONES is None:
        _ZONES = frozenset(available_timezones()) | {"UTC"}
    return _ZONES


def start(session: Session, key: VerifiedKey, zone: str | None, idle: timedelta,
          longest: timedelta) -> str:
    """A new session for `key`; sessions that ended unseen (idle or too old) are deleted."""
    now = utcnow()
    session.execute(delete(ConsoleSession).where(or_(
        ConsoleSession.last_seen_at < now - idle, ConsoleSession.created_at < now - longest)))
    token = secrets.token_urlsafe(32)
    session.add(ConsoleSession(token_hash=_hash(token), key_id=key.id, time_zone=time_zone(zone)))
    session.flush()
    return token


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=utcnow().tzinfo)


def resume(session: Session, token: str, idle: timedelta, longest: timedelta,
           now: datetime | None = None) -> Signed:
    """The session's signer, or Ended (and the row deleted) when it is over."""
    now = now or utcnow()
    row = session.execute(
        select(ConsoleSession, ApiKey, Project)
        .join(ApiKey, ApiKey.id == ConsoleSession.key_id)
        .join(Project, Project.id == ApiKey.project_id)
        .where(ConsoleSession.token_hash == _hash(token))
    ).first()
    if row is None:
        raise Ended("You have been signed out. Sign in again to go on.")
    console, key, project = row
    why = None
    if key.revoked_at is not None:
        why = "The API key this session used has been revoked. Sign in with another key."
    elif now - _aware(console.last_seen_at) > idle:
        why = "Your session expired after a period without activity. Sign in again to go on."
    elif now - _aware(console.created_at) > longest:
        why = "Your session reached its maximum age. Sign in again to go on."
    if why is not None:
        session.delete(console)
        raise Ended(why)
    if now - _aware(console.last_seen_at) > TOUCH_EVERY:
        console.last_seen_at = now
    verified = VerifiedKey(key.id, key.prefix, key.project_id, tuple(key.scopes), key.rate_limit)
    return Signed(verified, key.name, project.slug, project.name or project.slug,
                  console.time_zone)


def end(session: Session, token: str) -> None:
    session.execute(delete(ConsoleSession).where(ConsoleSession.token_hash == _hash(token)))
