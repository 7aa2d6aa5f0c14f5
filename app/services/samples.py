"""Daily samples: a reproducible, stratified draw of one day's accepted items, and verdicts.

The population is the project's accepted items received that UTC day. Each model version
present (its stratum) gets at least one item when the size allows, the rest go to the strata in
proportion to their weight (D'Hondt: the largest weight per seat next, ties by name). Within a
stratum, items with negative feedback are drawn first; then the others. Draws are weighted
without replacement (Efraimidis-Spirakis: the largest u^(1/w) first), u a hash of the project,
the date and the item, so the same date and size give the same sample, and a larger size adds
items without dropping those a smaller one drew (unless the strata's shares move). An item
whose prompt version first appeared in the 7 days up to the date weighs 3.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.feedback import SignalMap
from app.models import FeedbackRollup, Generation, Item, SampleVerdict
from app.models.base import utcnow
from app.models.item import ACCEPTED_STATES
from app.payloads.conversations import RedactedMessage
from app.payloads.samples import (
    SampledItem,
    SampleFeedback,
    SampleOut,
    StratumOut,
    VerdictIn,
    VerdictOut,
)
from app.services import rollups
from app.services.errors import Conflict, NotFound
from app.services.reactions import feedback_of

NEW_PROMPT_DAYS = 7
NEW_PROMPT_WEIGHT = 3.0
MAX_SIZE = 500
# The failure modes a verdict may name: the Label Studio review's choices (stored key, label),
# so a sample verdict and an annotation count the same way in datasets and analytics.
FAILURE_MODES = (
    ("hallucination", "Hallucination"),
    ("wrong_or_incomplete", "Wrong or incomplete"),
    ("off_topic", "Off-topic"),
    ("unsafe", "Unsafe"),
    ("format", "Format"),
    ("other", "Other"),
)


@dataclass(frozen=True)
class Candidate:
    item: Any  # the row of Item's id, external_id, generation_ref, received_at
    generation: Any  # the row of Generation's columns, or None
    stratum: str
    negative: bool
    new_prompt: bool
    score: float | None
    by_type: dict[str, int]
    key: float  # u ** (1 / weight): larger is drawn first

    @property
    def order(self) -> tuple[bool, float, str]:
        return (not self.negative, -self.key, self.item.external_id)


def _uniform(project_id: int, day: date, external_id: str) -> float:
    digest = hashlib.sha256(f"{project_id}:{day.isoformat()}:{external_id}".encode()).digest()
    return (int.from_bytes(digest[:8], "big") + 1) / (2**64 + 2)


def _population(session: Session, project_id: int, day: date) -> list[Any]:
    """The day's accepted items, without their text (read for the drawn ones only)."""
    start, end = rollups.day_bounds(day)
    return list(session.execute(
        select(Item.id, Item.external_id, Item.generation_ref, Item.received_at).where(
            Item.project_id == project_id, Item.state.in_(ACCEPTED_STATES),
            Item.received_at >= start, Item.received_at < end).order_by(Item.id)))


def _generations(session: Session, project_id: int, refs: set[str]) -> dict[str, Any]:
    g = Generation
    found: dict[str, Any] = {}
    ordered = sorted(refs)
    for start in range(0, len(ordered), 1000):
        rows = session.execute(select(
            g.external_id, g.model_name, g.model_version, g.prompt_id, g.prompt_version,
            g.feature).where(g.project_id == project_id,
                             g.external_id.in_(ordered[start : start + 1000])))
        found.update({row.external_id: row for row in rows})
    return found


def _old_prompts(session: Session, project_id: int, day: date,
                 prompts: set[tuple[str, str | None]]) -> set[tuple[str, str | None]]:
    """The prompt versions that had generations before the 7 days up to `day`."""
    if not prompts:
        return set()
    r = FeedbackRollup
    before = day - timedelta(days=NEW_PROMPT_DAYS - 1)
    rows = session.execute(select(r.prompt_id, r.prompt_version).distinct().where(
        r.project_id == project_id, r.day < before,
        r.prompt_id.in_(sorted({p for p, _ in prompts}))))
    return {(p, v) for p, v in rows if p is not None}


def candidates(session: Session, project_id: int, day: date,
               signals: SignalMap) -> list[Candidate]:
    items = _population(session, project_id, day)
    gens = _generations(session, project_id, {i.generation_ref for i in items
                                              if i.generation_ref})
    prompts = {(g.prompt_id, g.prompt_version) for g in gens.values() if g.prompt_id}
    old = _old_prompts(session, project_id, day, prompts)
    feedback = feedback_of(session, project_id, {i.id: i.generation_ref for i in items})
    out = []
    for item in items:
        g = gens.get(item.generation_ref or "")
        stratum = f"{g.model_name}@{g.model_version or '-'}" if g else "(no generation)"
        new = bool(g and g.prompt_id and (g.prompt_id, g.prompt_version) not in old)
        weight = NEW_PROMPT_WEIGHT if new else 1.0
        score = feedback[item.id].score(signals)
        key = _uniform(project_id, day, item.external_id) ** (1.0 / weight)
        out.append(Candidate(item, g, stratum, score is not None and score < 0, new, score,
                             dict(feedback[item.id].by_type), key))
    return out


def allocate(strata: Mapping[str, Sequence[Candidate]], size: int) -> dict[str, int]:
    """How many items each stratum gets: one each first (the heaviest strata when the size is
    smaller than their number), then by D'Hondt on their weights, never more than they hold."""
    weight = {s: sum(_weight(c) for c in cs) for s, cs in strata.items()}
    names = sorted(strata, key=lambda s: (-weight[s], s))
    seats = dict.fromkeys(names, 0)
    left = min(size, sum(len(cs) for cs in strata.values()))
    for name in names[:left]:
        seats[name] = 1
    left -= min(left, len(names))
    while left > 0:
        open_ = [s for s in names if seats[s] < len(strata[s])]
        best = max(open_, key=lambda s: (weight[s] / (seats[s] + 1), -names.index(s)))
        seats[best] += 1
        left -= 1
    return seats


def _weight(c: Candidate) -> float:
    return NEW_PROMPT_WEIGHT if c.new_prompt else 1.0


@dataclass(frozen=True)
class Draw:
    population: int
    strata: list[StratumOut]
    drawn: list[Candidate]


# Drawing a day's sample reads the feedback of every item that day (a few thousand on a busy
# day: half a second on PostgreSQL), and a person steps through it item by item. A draw is kept
# per project, day, size and taxonomy while the day's population is unchanged, for at most
# DRAW_TTL (so feedback that arrives later reorders it within a minute); verdicts and text are
# read fresh on every call.
DRAW_TTL = timedelta(seconds=60)
_draws: OrderedDict[tuple[Any, ...], tuple[datetime, tuple[Any, ...], Draw]] = OrderedDict()
_draws_lock = threading.Lock()


def _population_stamp(session: Session, project_id: int, day: date) -> tuple[Any, ...]:
    start, end = rollups.day_bounds(day)
    # The set of the day's accepted items (count, sum and max of ids): an erasure that promotes
    # another user's copy, or a release and a removal, changes it even when the count does not.
    row = session.execute(select(func.count(), func.sum(Item.id), func.max(Item.id),
                                 func.max(Item.received_at)).where(
        Item.project_id == project_id, Item.state.in_(ACCEPTED_STATES),
        Item.received_at >= start, Item.received_at < end)).one()
    return tuple(row)


def draw(session: Session, project_id: int, day: date, size: int,
         signals: SignalMap) -> Draw:
    key = (str(session.get_bind().engine.url), project_id, day, size, repr(signals.as_dict()))
    stamp = _population_stamp(session, project_id, day)
    now = utcnow()
    with _draws_lock:
        kept = _draws.get(key)
        if kept is not None and kept[1] == stamp and now - kept[0] < DRAW_TTL:
            return kept[2]
    found = candidates(session, project_id, day, signals)
    strata: dict[str, list[Candidate]] = {}
    for c in found:
        strata.setdefault(c.stratum, []).append(c)
    for members in strata.values():
        members.sort(key=lambda c: c.order)
    seats = allocate(strata, size)
    drawn = sorted((c for s, cs in strata.items() for c in cs[: seats[s]]),
                   key=lambda c: c.order)
    out = Draw(len(found), [StratumOut(stratum=s, population=len(cs),
                                       negative=sum(c.negative for c in cs), sampled=seats[s])
                            for s, cs in sorted(strata.items())], drawn)
    with _draws_lock:
        _draws[key] = (now, stamp, out)
        while len(_draws) > 256:
            _draws.popitem(last=False)
    return out


def daily_sample(session: Session, project_id: int, day: date, size: int,
                 signals: SignalMap) -> SampleOut:
    found = draw(session, project_id, day, size, signals)
    drawn = found.drawn
    verdicts = _verdicts(session, [c.item.id for c in drawn])
    texts: dict[int, list[Any] | None] = {}
    for start in range(0, len(drawn), 500):
        rows = session.execute(select(Item.id, Item.redacted).where(
            Item.id.in_([c.item.id for c in drawn[start : start + 500]])))
        texts.update((item_id, redacted) for item_id, redacted in rows)
    return SampleOut(
        date=day, size=size, population=found.population, strata=found.strata,
        items=[_item_out(c, texts.get(c.item.id), verdicts.get(c.item.id)) for c in drawn],
    )


def _item_out(c: Candidate, redacted: list[Any] | None,
              verdict: VerdictOut | None) -> SampledItem:
    g = c.generation
    return SampledItem(
        item_id=c.item.external_id, received_at=c.item.received_at, stratum=c.stratum,
        model=g.model_name if g else None, model_version=g.model_version if g else None,
        prompt_id=g.prompt_id if g else None, prompt_version=g.prompt_version if g else None,
        feature=g.feature if g else None, new_prompt_version=c.new_prompt,
        messages=[RedactedMessage(role=t["role"], content=t["text"])
                  for t in redacted or []],
        feedback=SampleFeedback(by_type=dict(sorted(c.by_type.items())), score=c.score,
                                negative=c.negative),
        verdict=verdict,
    )


def _verdicts(session: Session, item_ids: list[int]) -> dict[int, VerdictOut]:
    if not item_ids:
        return {}
    rows = session.execute(select(SampleVerdict, Item.external_id).join(
        Item, Item.id == SampleVerdict.item_id).where(SampleVerdict.item_id.in_(item_ids)))
    return {v.item_id: verdict_out(v, external_id) for v, external_id in rows}


def verdict_out(v: SampleVerdict, external_id: str) -> VerdictOut:
    return VerdictOut(item_id=external_id, date=v.sample_date, verdict=v.verdict,  # type: ignore[arg-type]
                      failure_modes=list(v.failure_modes), note=v.note, by=v.actor, at=v.at)


def record_verdict(session: Session, project_id: int, day: date, item_id: str,
                   body: VerdictIn, actor: str) -> VerdictOut:
    """A person's verdict on an item of that day's sample population (replaces theirs or
    anyone's before: one verdict per item); its generation's day is rolled up again."""
    item = session.scalar(select(Item).where(Item.project_id == project_id,
                                             Item.external_id == item_id))
    if item is None:
        raise NotFound("no item with that id in this project")
    received = item.received_at.date()
    if item.state not in ACCEPTED_STATES:
        raise Conflict(f"the item is {item.state}, not accepted: only accepted items are "
                       "sampled")
    if received != day:
        raise Conflict(f"the item was received on {received}, so it is in that day's sample, "
                       f"not {day}'s")
    verdict = session.scalar(select(SampleVerdict).where(SampleVerdict.item_id == item.id))
    values: dict[str, Any] = {"sample_date": day, "verdict": body.verdict,
                              "failure_modes": sorted(set(body.failure_modes)),
                              "note": body.note, "actor": actor, "at": utcnow()}
    if verdict is None:
        verdict = SampleVerdict(project_id=project_id, item_id=item.id, **values)
        session.add(verdict)
    else:
        for name, value in values.items():
            setattr(verdict, name, value)
    session.flush()
    counted_on = rollups.day_of_item(session, project_id, item.generation_ref)
    if counted_on is not None:
        rollups.mark_days(session, project_id, [counted_on])
    return verdict_out(verdict, item.external_id)



def verdict_of(session: Session, item: Item) -> VerdictOut | None:
    """The item's sample verdict, if someone gave one."""
    verdict = session.scalar(select(SampleVerdict).where(SampleVerdict.item_id == item.id))
    return verdict_out(verdict, item.external_id) if verdict is not None else None
