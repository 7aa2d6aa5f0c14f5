"""Reading a project's curated items for a build, a chunk per round trip, as `Candidate`s.

Two keyset-paginated passes, so no cursor stays open and memory stays flat however many items
there are: items without a conversation (in id order), then items with one, in (conversation,
id) order so the alternatives of a conversation arrive together. Each chunk brings its items'
generation, feedback (their own and their duplicates'), best rank, tweak and annotations in a
few batched queries.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select, tuple_

from app.db import among
from app.feedback import SignalMap
from app.models import Annotation, Event, Generation, Item, SampleVerdict
from app.models.item import ACCEPTED_STATES
from app.services.reactions import latest_tweaks
from workers.datasets.select import Candidate, FeedbackScores, Review

COLUMNS = (
    Item.id,
    Item.external_id,
    Item.conversation_ref,
    Item.user_id,
    Item.redacted,
    Item.generation_ref,
    Generation.model_name,
    Generation.model_version,
    Generation.prompt_id,
    Generation.prompt_version,
    Generation.feature,
)

Redactor = Callable[[dict[int, str]], dict[int, str]]


def candidates(
    sessions: Callable[[], Any],
    project_id: int,
    signals: SignalMap,
    chunk_size: int,
    redact: Redactor,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Iterator[list[Candidate]]:
    """Chunks of candidates: conversation-less items first, then by conversation."""
    base = (
        select(*COLUMNS)
        .outerjoin(
            Generation,
            and_(
                Generation.project_id == Item.project_id,
                Generation.external_id == Item.generation_ref,
            ),
        )
        .where(
            Item.project_id == project_id,
            Item.state.in_(ACCEPTED_STATES),
            Item.redacted.is_not(None),
        )
    )
    if since is not None:
        base = base.where(Item.occurred_at >= since)
    if until is not None:
        base = base.where(Item.occurred_at < until)

    scores = FeedbackScores(signals)
    last_id = 0
    while True:
        with sessions() as session:
            rows = (
                session.connection()
                .execute(
                    base.where(Item.conversation_ref.is_(None), Item.id > last_id)
                    .order_by(Item.id)
                    .limit(chunk_size)
                )
                .all()
            )
            if not rows:
                break
            last_id = rows[-1][0]
            yield _enrich(session, project_id, scores, rows, redact)
    after: tuple[str, int] | None = None
    while True:
        with sessions() as session:
            query = base.where(Item.conversation_ref.is_not(None))
            if after is not None:
                query = query.where(tuple_(Item.conversation_ref, Item.id) > after)
            rows = (
                session.connection()
                .execute(query.order_by(Item.conversation_ref, Item.id).limit(chunk_size))
                .all()
            )
            if not rows:
                break
            after = (rows[-1][2], rows[-1][0])
            yield _enrich(session, project_id, scores, rows, redact)


def _enrich(
    session: Any, project_id: int, scores: FeedbackScores, rows: Sequence[Any], redact: Redactor
) -> list[Candidate]:
    dialect = session.get_bind().dialect.name
    session = session.connection()  # column selects: Core, without the ORM's result layer
    ids = [r[0] for r in rows]
    # The items of each generation ref: its own, and those its duplicates are about (their
    # users' reactions count for the canonical item).
    owners: dict[str, list[int]] = {}
    for r in rows:
        if r[5]:
            owners.setdefault(r[5], []).append(r[0])
    for canonical, ref in session.execute(
        select(Item.duplicate_of_id, Item.generation_ref).where(
            among(Item.duplicate_of_id, ids, dialect), Item.generation_ref.is_not(None)
        )
    ):
        items = owners.setdefault(ref, [])
        if canonical not in items:
            items.append(canonical)
    types: dict[int, dict[str, int]] = {}  # item -> event type -> count
    ratings: dict[int, dict[int, int]] = {}
    ranks: dict[str, int] = {}
    tweaked: list[str] = []
    if owners:
        for ref, event_type, rating, rank, count in session.execute(
            select(
                Event.generation_ref, Event.type, Event.rating, func.min(Event.rank), func.count()
            )
            .where(
                Event.project_id == project_id, among(Event.generation_ref, list(owners), dialect)
            )
            .group_by(Event.generation_ref, Event.type, Event.rating)
        ):
            for item_id in owners[ref]:
                counts = types.setdefault(item_id, {})
                counts[event_type] = counts.get(event_type, 0) + count
                if rating is not None:
                    by_rating = ratings.setdefault(item_id, {})
                    by_rating[rating] = by_rating.get(rating, 0) + count
            if rank is not None:
                ranks[ref] = min(rank, ranks.get(ref, rank))
            if event_type == "tweak":
                tweaked.append(ref)
    tweaks = latest_tweaks(session, dialect, project_id, owners, tweaked) if tweaked else {}
    redacted_tweaks = redact(tweaks) if tweaks else {}
    reviews = _reviews(session, ids, dialect)
    _redact_corrections(reviews, redact)
    out = []
    no_ratings: dict[int, int] = {}
    for r in rows:
        item_id = r[0]
        by_type = types.get(item_id)
        score = kind = None
        if by_type is not None:
            score, kind = scores(by_type, ratings.get(item_id, no_ratings))
        out.append(
            Candidate(
                item_id=item_id,
                external_id=r[1],
                conversation=r[2],
                user_id=r[3],
                turns=r[4],
                generation=r[5],
                model=r[6],
                model_version=r[7],
                prompt=r[8],
                prompt_version=r[9],
                feature=r[10],
                score=score,
                feedback_kind=kind,
                regenerated=bool(by_type and by_type.get("regenerate")),
                rank=ranks.get(r[5]) if r[5] else None,
                tweak=redacted_tweaks.get(item_id),
                reviews=reviews.get(item_id, ()),
            )
        )
    return out


def _redact_corrections(reviews: dict[int, list[Review]], redact: Redactor) -> None:
    """Annotators see only redacted text, but what they type is free text too: screened like a
    tweak before it can become a reference answer; a correction the policy would reject is
    dropped (the item keeps its verdict)."""
    typed = [r for rs in reviews.values() for r in rs if r.correction and r.correction.strip()]
    if not typed:
        return
    screened = redact({n: r.correction for n, r in enumerate(typed) if r.correction})
    for n, review in enumerate(typed):
        review.correction = screened.get(n)


def _reviews(session: Any, item_ids: list[int], dialect: str) -> dict[int, list[Review]]:
    rows = session.execute(
        select(
            Annotation.item_id,
            Annotation.kind,
            Annotation.verdict,
            Annotation.failure_modes,
            Annotation.correction,
            Annotation.preference,
            Annotation.updated_at,
        )
        .where(
            among(Annotation.item_id, item_ids, dialect),
            Annotation.deleted_at.is_(None),
            Annotation.skipped.is_(False),
        )
        .order_by(Annotation.item_id, Annotation.id)
    )
    out: dict[int, list[Review]] = {}
    for item_id, kind, verdict, modes, correction, preference, updated in rows:
        out.setdefault(item_id, []).append(
            Review(kind, verdict, tuple(modes or ()), correction, preference, updated)
        )
    # A person's verdict on a daily sample is one more reviewer's vote; `unsure` is none.
    sampled = session.execute(
        select(SampleVerdict.item_id, SampleVerdict.verdict, SampleVerdict.failure_modes,
               SampleVerdict.at)
        .where(among(SampleVerdict.item_id, item_ids, dialect),
               SampleVerdict.verdict.in_(("good", "bad")))
    )
    for item_id, verdict, modes, at in sampled:
        out.setdefault(item_id, []).append(
            Review("review", verdict, tuple(modes or ()), None, None, at))
    return out
