"""Annotation read side: the agreement report of a project."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Annotation, Item, Project
from app.services.agreement import Report, report
from app.services.projects import signal_map
from app.services.reactions import feedback_of


def agreement(session: Session, project: Project) -> Report:
    live = (
        Annotation.project_id == project.id,
        Annotation.kind == "review",
        Annotation.deleted_at.is_(None),
        Annotation.skipped.is_(False),
    )
    verdicts = [
        (int(item_id), annotator or "?", str(verdict))
        for item_id, annotator, verdict in session.execute(
            select(Annotation.item_id, Annotation.annotator, Annotation.verdict).where(
                *live, Annotation.verdict.is_not(None)
            )
        )
    ]
    count = int(session.scalar(select(func.count(Annotation.id)).where(*live)) or 0)
    items = {i for i, _, _ in verdicts}
    refs = dict(
        session.execute(select(Item.id, Item.generation_ref).where(Item.id.in_(list(items))))
        .all()
    ) if items else {}
    feedback = feedback_of(session, project.id, refs)
    return report(verdicts, feedback, signal_map(project), count)


def overlapped_public_ids(session: Session, report_: Report) -> dict[int, str]:
    """Public ids of the items with 2+ verdicts: what the API and the CLI show, since no
    command or endpoint accepts the internal row id."""
    overlapped = [a.item_id for a in report_.items if a.percent_agreement is not None]
    if not overlapped:
        return {}
    rows = session.execute(select(Item.id, Item.external_id).where(Item.id.in_(overlapped)))
    return {int(i): str(ext) for i, ext in rows}
