"""Projects (tenants) and their signal-map overrides."""

from __future__ import annotations

import re
from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.feedback import EVENT_TYPES, RATING_SIGNALS, Signal, SignalMap
from app.models import Project
from app.payloads.taxonomy import SignalOverridesIn
from app.services.errors import Invalid, NotFound

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


def create_project(session: Session, slug: str, name: str | None = None) -> Project:
    if not SLUG.match(slug):
        raise Invalid("project slug must be 1-64 of a-z, 0-9 and '-', starting alphanumeric")
    if session.scalar(select(Project.id).where(Project.slug == slug)) is not None:
        raise Invalid(f"project {slug!r} already exists")
    project = Project(slug=slug, name=name or slug)
    session.add(project)
    session.flush()
    return project


def get_project(session: Session, slug: str) -> Project:
    project = session.scalar(select(Project).where(Project.slug == slug))
    if project is None:
        raise NotFound(f"no project {slug!r}")
    return project


def list_projects(session: Session) -> list[Project]:
    return list(session.scalars(select(Project).order_by(Project.id)))


def get_or_create_project(session: Session, slug: str, name: str | None = None) -> Project:
    project = session.scalar(select(Project).where(Project.slug == slug))
    return project or create_project(session, slug, name)


def signal_map(project: Project) -> SignalMap:
    return SignalMap.from_overrides(project.signal_map)


def set_signal_overrides(project: Project, overrides: SignalOverridesIn) -> SignalMap:
    """Replace the project's overrides (validated by the caller's model) after checking names."""
    unknown = sorted(set(overrides.types) - set(EVENT_TYPES))
    if unknown:
        raise Invalid(f"unknown event type(s) in types: {', '.join(unknown)}")
    if any(v not in {str(r) for r in RATING_SIGNALS} for v in overrides.ratings):
        raise Invalid("ratings keys must be '1' to '5'")
    empty = not overrides.types and not overrides.ratings
    project.signal_map = None if empty else overrides.model_dump(mode="json")
    return signal_map(project)


def parse_overrides(types: Mapping[str, str], ratings: Mapping[str, str]) -> SignalOverridesIn:
    """Overrides from a form's fields ({event type or rating value: signal name}; an empty
    value keeps the default). Raises Invalid naming the first bad field."""
    signals = {s.value for s in Signal}
    chosen: dict[str, dict[str, str]] = {"types": {}, "ratings": {}}
    for part, fields, known in (("types", types, set(EVENT_TYPES)),
                                ("ratings", ratings, {str(r) for r in RATING_SIGNALS})):
        for name, value in fields.items():
            if name not in known:
                raise Invalid(f"unknown {'event type' if part == 'types' else 'rating'} "
                              f"{name[:40]!r}")
            if not value:
                continue
            if value not in signals:
                raise Invalid(f"{name}: {value[:40]!r} is not a signal; one of "
                              f"{', '.join(s.value for s in Signal)}")
            chosen[part][name] = value
    return SignalOverridesIn.model_validate(chosen)
