"""Right of access: everything Winnow holds about one user id of a project, redacted, so a
data-subject request can be answered before an erasure: their items, events and generations
(and a generation no one is named on that their item or event is about), the annotations of and
decisions on their items, and the stored dataset versions holding examples made from them.
Nothing of anybody else's: not another user's events, generations or annotator identities.

Free text is shown only as screening left it: never raw or sealed text; an event, generation or
item still waiting for screening shows none.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from app import manifest
from app.feedback import SignalMap
from app.models import Annotation, Dataset, DatasetVersion, Event, Generation, Item, Review
from app.payloads.access import (
    AccessAnnotation,
    AccessDecision,
    AccessItem,
    DatasetReference,
    UserDataOut,
)
from app.payloads.conversations import RedactedMessage
from app.services.events import to_out as event_out
from app.services.generations import to_out as generation_out
from app.services.screening import PENDING
from app.store import Store

LIMIT = 10_000  # rows per list; `counts` always has the totals


def user_data(session: Session, store: Store, project_id: int, project: str, user_id: str,
              signals: SignalMap, limit: int = LIMIT) -> UserDataOut:
    items = list(session.scalars(select(Item).where(Item.project_id == project_id,
                                                    Item.user_id == user_id)
                                 .order_by(Item.id)))
    item_ids = {i.id: i.external_id for i in items}
    events_q = select(Event).where(Event.project_id == project_id, Event.user_id == user_id)
    refs = {i.generation_ref for i in items if i.generation_ref}
    refs |= set(session.scalars(select(Event.generation_ref).where(
        Event.project_id == project_id, Event.user_id == user_id).distinct()))
    theirs = Generation.user_id == user_id
    if refs:  # what they reacted to or shared, unless it names someone else
        theirs = or_(theirs, and_(Generation.user_id.is_(None),
                                  Generation.external_id.in_(sorted(refs))))
    generations_q = select(Generation).where(Generation.project_id == project_id, theirs)
    annotations_q = select(Annotation).where(Annotation.item_id.in_(list(item_ids)))
    decisions_q = select(Review).where(Review.item_id.in_(list(item_ids)))
    counts = {
        "items": len(items),
        "events": _count(session, events_q),
        "generations": _count(session, generations_q),
        "annotations": _count(session, annotations_q),
        "decisions": _count(session, decisions_q),
    }
    originals = sorted({i.duplicate_of_id for i in items if i.duplicate_of_id})
    canon: dict[int, str] = {
        n: e for n, e in session.execute(select(Item.id, Item.external_id)
                                         .where(Item.id.in_(originals)))
    } if originals else {}
    datasets = dataset_references(session, store, project_id, project, set(item_ids.values()))
    counts["dataset_examples"] = len(datasets)
    out = UserDataOut(
        user_id=user_id,
        limit=limit,
        complete=all(n <= limit for n in counts.values()),
        counts=counts,
        events=[event_out(e, signals) for e in session.scalars(
            events_q.order_by(Event.occurred_at, Event.id).limit(limit))],
        items=[_item(i, canon.get(i.duplicate_of_id or 0)) for i in items[:limit]],
        generations=[generation_out(g) for g in session.scalars(
            generations_q.order_by(Generation.id).limit(limit))],
        annotations=[AccessAnnotation(
            item_id=item_ids[a.item_id], kind=a.kind, verdict=a.verdict,
            failure_modes=list(a.failure_modes or []), corrected=bool(a.correction),
            rating=a.rating, preference=a.preference, created_at=a.created_at,
            deleted_at=a.deleted_at)
            for a in session.scalars(annotations_q.order_by(Annotation.id).limit(limit))],
        decisions=[AccessDecision(item_id=item_ids[r.item_id],
                                  action=r.action,  # type: ignore[arg-type]
                                  from_state=r.from_state, to_state=r.to_state, at=r.at)
                   for r in session.scalars(decisions_q.order_by(Review.id).limit(limit))],
        datasets=datasets[:limit],
    )
    return out


def _count(session: Session, query: Select[Any]) -> int:
    return int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)


def _item(item: Item, duplicate_of: str | None) -> AccessItem:
    return AccessItem(
        id=item.external_id, state=item.state,  # type: ignore[arg-type]
        source=item.source, generation_id=item.generation_ref,
        conversation_id=item.conversation_ref,
        messages=[RedactedMessage(role=t["role"], content=t["text"]) for t in item.redacted]
        if item.redacted is not None else None,
        findings=sorted({f["type"] for f in item.findings or []}),
        reasons=list(item.reasons or []), duplicate_of=duplicate_of,
        received_at=item.received_at, screened_at=item.screened_at,
        metadata=None if item.screening == PENDING else item.meta,  # never unscreened
    )


def dataset_references(session: Session, store: Store, project_id: int, project: str,
                       item_ids: set[str]) -> list[DatasetReference]:
    """Every ready version whose manifest lists one of these items (read from the store)."""
    if not item_ids:
        return []
    out = []
    rows = session.execute(
        select(Dataset, DatasetVersion).join(DatasetVersion,
                                             DatasetVersion.dataset_id == Dataset.id)
        .where(Dataset.project_id == project_id, DatasetVersion.state == "ready")
        .order_by(Dataset.name, DatasetVersion.number))
    for dataset, version in rows:
        contents = manifest.read(store, project, dataset.name, version.number)
        for split, example, _, flags in manifest.item_entries(contents):
            if example in item_ids:
                files = [name for flag, name in (("e", "eval"), ("f", "finetune"))
                         if flag in flags]
                out.append(DatasetReference(dataset=dataset.name, version=version.number,
                                            split=split, item_id=example, files=files))
    return out
