"""Feedback analytics over the rollups: per version group and period, and B against A.

Every figure is computed from the rollup rows of the window's days (app.services.rollups), so a
query reads a few rows per day and group, however many events there are. Rates are proportions
of generations (or of thumbs events); the statistics are app.services.stats.
"""

from __future__ import annotations

import math
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import manifest
from app.dataset_files import SPLITS
from app.db import chunks
from app.feedback import EVENT_TYPES, RANK, RATING, SignalMap
from app.models import Erasure, FeedbackRollup, Item, Project
from app.models.base import utcnow
from app.models.item import ACCEPTED_STATES
from app.models.sample import VERDICTS
from app.payloads.analytics import (
    CompareOut,
    FeedbackGroupOut,
    FeedbackReportOut,
    IntervalOut,
    MeanOut,
    MetricComparisonOut,
    RateOut,
    SideOut,
    SkewOut,
)
from app.services import datasets, rollups, stats
from app.services.errors import Invalid
from app.store import Store

# API field -> generation column
FIELDS = {
    "model": "model_name",
    "model_version": "model_version",
    "prompt_id": "prompt_id",
    "prompt_version": "prompt_version",
    "feature": "feature",
}
# FIELD:VALUE, the value printable (1-128 characters, as stored).
WHERE_PATTERN = r"^(" + "|".join(FIELDS) + r"):[^\x00-\x1f\x7f]{1,128}$"
MAX_DAYS = 400
# Types whose signal is no judgement of the output (ratings count by their value instead).
UNSCORED = (RATING, RANK, "share", "comment")
# Rates of generations with implicit feedback: (name, rollup column, higher is better).
RATES: tuple[tuple[str, str, bool | None], ...] = (
    ("acceptance", "accepted", True),
    ("tweak", "tweaked", None),  # accepted, then edited: better than ignored, worse than as-is
    ("regenerate", "regenerated", False),
    ("ignore", "ignored", False),
    ("abandon", "abandoned", False),
)
COUNTERS = ("generations", "with_explicit", "with_implicit", *(c for _, c, _ in RATES))


class BadQuery(Invalid):
    """A parameter that cannot be answered: which one, and why."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


class TooLittleData(Invalid):
    """A side of a comparison holds too few conversations to compare distributions."""


@dataclass(frozen=True)
class Window:
    since: date
    until: date  # exclusive

    def __post_init__(self) -> None:
        if self.until <= self.since:
            raise BadQuery(f"the window is empty: since {self.since} is not before until "
                           f"{self.until}", "until")
        if (self.until - self.since).days > MAX_DAYS:
            raise BadQuery(f"the window spans more than {MAX_DAYS} days", "since")


DAYS_BACK = re.compile(r"^(\d{1,3})d$")


def day(text: str, today: date, name: str) -> date:
    """A UTC date, YYYY-MM-DD, or `Nd`: today and the N - 1 days before."""
    if match := DAYS_BACK.match(text):
        return today - timedelta(days=max(int(match[1]) - 1, 0))
    try:
        found = date.fromisoformat(text)
    except ValueError:
        raise BadQuery(f"{name} must be YYYY-MM-DD or Nd (e.g. 7d), got {text[:20]!r}",
                       name) from None
    if not date(1970, 1, 1) <= found <= date(9998, 12, 31):  # no day of data; no overflow
        raise BadQuery(f"{name} must be a day from 1970-01-01 to 9998-12-31", name)
    return found


def window(since: str | None, until: str | None, today: date | None = None) -> Window:
    """The window of days from [since, until): since defaults to 30d, until to tomorrow."""
    today = today or datetime.now(UTC).date()
    start = day(since or "30d", today, "since")
    end = day(until, today, "until") if until else today + timedelta(days=1)
    return Window(start, end)


@dataclass(frozen=True)
class Query:
    window: Window
    group_by: tuple[str, ...] = ()
    filters: Mapping[str, Sequence[str]] = field(default_factory=dict)  # API field -> values
    interval: str | None = None  # day | week


@dataclass
class Totals:
    """Rollup rows summed: counters, event and rating counts, user sketches."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTERS, 0))
    events: dict[str, int] = field(default_factory=dict)
    ratings: dict[int, int] = field(default_factory=dict)
    verdicts: dict[str, int] = field(default_factory=dict)
    sketches: list[bytes] = field(default_factory=list)
    exact_users: int = 0

    def add(self, row: FeedbackRollup) -> None:
        for name in COUNTERS:
            self.counts[name] += getattr(row, name)
        for name, n in row.events.items():
            self.events[name] = self.events.get(name, 0) + n
        for value, n in row.ratings.items():
            self.ratings[int(value)] = self.ratings.get(int(value), 0) + n
        for verdict, n in row.verdicts.items():
            self.verdicts[verdict] = self.verdicts.get(verdict, 0) + n
        self.sketches.append(row.users_sketch)
        self.exact_users = row.users

    @property
    def users(self) -> int:
        if len(self.sketches) == 1:
            return self.exact_users
        return rollups.merged_users(self.sketches) if self.sketches else 0

    def signal(self, signals: SignalMap) -> stats.Moments:
        n, total, squares = 0, 0.0, 0.0
        scored = [(signals.signal(t).score, c) for t, c in self.events.items()
                  if t not in UNSCORED and t in EVENT_TYPES]
        scored += [(signals.signal(RATING, v).score, c) for v, c in self.ratings.items()]
        for score, count in scored:
            n += count
            total += score * count
            squares += score * score * count
        return stats.Moments(n, total, squares)

    def rating(self) -> stats.Moments:
        return stats.Moments(sum(self.ratings.values()),
                             float(sum(v * c for v, c in self.ratings.items())),
                             float(sum(v * v * c for v, c in self.ratings.items())))

    def thumbs(self) -> tuple[int, int]:
        up = self.events.get("thumbs_up", 0)
        return up, up + self.events.get("thumbs_down", 0)


def check_fields(names: Iterable[str], what: str) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(names))
    unknown = [n for n in names if n not in FIELDS]
    if unknown:
        raise BadQuery(f"unknown {what} field(s): {', '.join(unknown)[:200]}; known: "
                       f"{', '.join(FIELDS)}", what)
    return names


def _rows(session: Session, project_id: int, q: Query) -> Iterable[FeedbackRollup]:
    r = FeedbackRollup
    query = select(r).where(r.project_id == project_id, r.day >= q.window.since,
                            r.day < q.window.until)
    for name, values in q.filters.items():
        query = query.where(getattr(r, FIELDS[name]).in_(list(values)))
    return session.scalars(query)


def _period(day: date, interval: str | None) -> date | None:
    if interval == "day":
        return day
    if interval == "week":
        return day - timedelta(days=day.weekday())
    return None


def totals(session: Session, project_id: int, q: Query) -> dict[tuple[Any, ...], Totals]:
    """The rollup rows of the window summed per (group values..., period)."""
    found: dict[tuple[Any, ...], Totals] = {}
    for row in _rows(session, project_id, q):
        key = (*(getattr(row, FIELDS[g]) for g in q.group_by), _period(row.day, q.interval))
        found.setdefault(key, Totals()).add(row)
    return found


def _interval(estimate: stats.Estimate) -> IntervalOut | None:
    i = estimate.interval
    return IntervalOut(low=i.low, high=i.high) if i else None


def rate_out(k: int, n: int) -> RateOut:
    e = stats.proportion(k, n)
    return RateOut(value=e.value, k=k, n=n, interval=_interval(e))


def mean_out(m: stats.Moments) -> MeanOut:
    e = stats.mean(m)
    return MeanOut(value=e.value, n=e.n, interval=_interval(e))


def group_out(key: tuple[Any, ...], group_by: Sequence[str], t: Totals,
              signals: SignalMap) -> FeedbackGroupOut:
    implicit = t.counts["with_implicit"]
    rates = {name: rate_out(t.counts[column], implicit) for name, column, _ in RATES}
    kinds = {"explicit": 0, "implicit": 0}
    for name, n in t.events.items():
        if name in EVENT_TYPES:
            kinds[EVENT_TYPES[name].kind.value] += n
    return FeedbackGroupOut(
        group=dict(zip(group_by, key[:-1], strict=True)),
        period=key[-1],
        generations=t.counts["generations"],
        users=t.users,
        users_estimated=len(t.sketches) > 1,
        events=dict(sorted(t.events.items())),
        events_by_kind=kinds,
        signal=mean_out(t.signal(signals)),
        thumbs_up_share=rate_out(*t.thumbs()),
        rating=mean_out(t.rating()),
        verdicts=dict(sorted(t.verdicts.items())),
        **rates,
    )


def feedback(session: Session, project_id: int, q: Query,
             signals: SignalMap) -> FeedbackReportOut:
    found = totals(session, project_id, q)

    def order(key: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple((v is None, str(v)) for v in key)

    groups = [group_out(k, q.group_by, found[k], signals) for k in sorted(found, key=order)]
    return FeedbackReportOut(
        as_of=rollups.as_of(session, project_id), since=q.window.since, until=q.window.until,
        group_by=list(q.group_by), interval=q.interval,  # type: ignore[arg-type]
        groups=groups)


@dataclass(frozen=True)
class Side:
    field: str
    value: str


def parse_side(text: str, name: str) -> Side:
    field_name, sep, value = text.partition(":")
    if not sep or not value:
        raise BadQuery(f"{name} must be FIELD:VALUE, e.g. prompt_version:7", name)
    check_fields([field_name], name)
    return Side(field_name, value)


def filters(conditions: Iterable[str], name: str = "where") -> dict[str, list[str]]:
    """FIELD:VALUE conditions as {field: [values]}."""
    found: dict[str, list[str]] = {}
    for text in conditions:
        side = parse_side(text, name)
        found.setdefault(side.field, []).append(side.value)
    return found


def compare(session: Session, project_id: int, window: Window, a: Side, b: Side,
            filters: Mapping[str, Sequence[str]], signals: SignalMap) -> CompareOut:
    sides = []
    for side in (a, b):
        merged = {**filters, side.field: [side.value]}
        t = Totals()
        for row in _rows(session, project_id, Query(window, filters=merged)):
            t.add(row)
        sides.append(t)
    ta, tb = sides
    metrics = _compare_rates(ta, tb) + _compare_means(ta, tb, signals)
    return CompareOut(
        as_of=rollups.as_of(session, project_id), since=window.since, until=window.until,
        a=SideOut(field=a.field, value=a.value, generations=ta.counts["generations"],  # type: ignore[arg-type]
                  users=ta.users),
        b=SideOut(field=b.field, value=b.value, generations=tb.counts["generations"],  # type: ignore[arg-type]
                  users=tb.users),
        verdict=_overall(metrics),
        more_generations={"a": _more(ta, metrics, "a"), "b": _more(tb, metrics, "b")},
        metrics=metrics,
    )


def _metric(name: str, unit: str, better: bool | None, c: stats.Comparison,
            a: RateOut | MeanOut, b: RateOut | MeanOut) -> MetricComparisonOut:
    interval = IntervalOut(low=c.interval.low, high=c.interval.high) if c.interval else None
    verdict = c.verdict
    if better is None and verdict in ("better", "worse"):
        verdict = "different"  # type: ignore[assignment]
    return MetricComparisonOut(metric=name, unit=unit, higher_is_better=better, a=a, b=b,
                               difference=c.difference, interval=interval, p_value=c.p_value,
                               p_adjusted=None, test=c.test, verdict=verdict,
                               needed_a=c.needed_a, needed_b=c.needed_b)


def _compare_rates(ta: Totals, tb: Totals) -> list[MetricComparisonOut]:
    out = []
    na, nb = ta.counts["with_implicit"], tb.counts["with_implicit"]
    for name, column, better in RATES:
        ka, kb = ta.counts[column], tb.counts[column]
        c = stats.compare_proportions(ka, na, kb, nb, higher_is_better=better is not False)
        out.append(_metric(name, "generations with implicit feedback", better, c,
                           rate_out(ka, na), rate_out(kb, nb)))
    (ua, sa), (ub, sb) = ta.thumbs(), tb.thumbs()
    c = stats.compare_proportions(ua, sa, ub, sb)
    out.append(_metric("thumbs_up_share", "thumbs events", True, c, rate_out(ua, sa),
                       rate_out(ub, sb)))
    return out


def _compare_means(ta: Totals, tb: Totals, signals: SignalMap) -> list[MetricComparisonOut]:
    out = []
    for name, unit, ma, mb in (
        ("signal", "events with a signal", ta.signal(signals), tb.signal(signals)),
        ("rating", "ratings", ta.rating(), tb.rating()),
    ):
        c = stats.compare_means(ma, mb)
        out.append(_metric(name, unit, True, c, mean_out(ma), mean_out(mb)))
    return out


def _overall(metrics: list[MetricComparisonOut]) -> Any:
    tested = [m for m in metrics if m.p_value is not None]
    if tested:
        adjusted = stats.holm([m.p_value for m in tested if m.p_value is not None])
        for m, p in zip(tested, adjusted, strict=True):
            m.p_adjusted = float(p)
    seen = {m.verdict for m in metrics
            if m.verdict in ("better", "worse") and m.p_adjusted is not None
            and m.p_adjusted < 0.05}
    if seen == {"better", "worse"}:
        return "mixed"
    if seen:
        return seen.pop()
    if any(m.verdict == "not enough data" for m in metrics if m.unit.startswith("generations")):
        return "not enough data"
    return "no detectable difference"


def _more(t: Totals, metrics: list[MetricComparisonOut], side: str) -> int:
    """Generations a side needs before each implicit-feedback rate can show a 5-point change."""
    needed = max((getattr(m, f"needed_{side}") for m in metrics
                  if m.unit == "generations with implicit feedback"), default=0)
    if not needed:
        return 0
    share = t.counts["with_implicit"] / t.counts["generations"] if t.counts["generations"] else 1
    return math.ceil(needed / share) if share else needed


def flat(group: FeedbackGroupOut) -> dict[str, Any]:
    """One group as flat columns (CSV, the CLI's table)."""
    row: dict[str, Any] = {**group.group}
    if group.period is not None:
        row["period"] = group.period.isoformat()
    row.update(generations=group.generations, users=group.users,
               events=sum(group.events.values()), **group.events_by_kind)
    for name in ("signal", "rating"):
        m: MeanOut = getattr(group, name)
        row.update(_flat_interval(name, m.value, m.interval, m.n))
    for name in (*(r[0] for r in RATES), "thumbs_up_share"):
        r: RateOut = getattr(group, name)
        row.update(_flat_interval(name, r.value, r.interval, r.n))
    row.update({f"verdict_{v}": group.verdicts.get(v, 0) for v in VERDICTS})
    return row


def _flat_interval(name: str, value: float | None, interval: IntervalOut | None,
                   n: int) -> dict[str, Any]:
    return {name: value, f"{name}_low": interval.low if interval else None,
            f"{name}_high": interval.high if interval else None, f"{name}_n": n}


MAX_SKEW_SIDE = 5000


def skew(session: Session, store: Store, project: Project, dataset_ref: str, split: str,
         window: Window) -> SkewOut:
    """A dataset version's split against the production conversations of the window."""
    name, at, version_ref = dataset_ref.partition("@")
    dataset = datasets.get_dataset(session, project.id, name)
    version = datasets.get_version(session, dataset, version_ref if at else "latest",
                                   ready=True)
    if split not in SPLITS:
        raise BadQuery(f"no split {split[:40]!r}: one of {', '.join(SPLITS)}", "split")
    index = manifest.item_index(store, project.slug, dataset.name, version.number)
    in_split = sorted(item_id for item_id, (s, _, _) in index.items() if s == split)
    start, _ = rollups.day_bounds(window.since)
    end, _ = rollups.day_bounds(window.until)
    key = (str(session.get_bind().engine.url), project.id, dataset.name, version.number, split,
           window.since, window.until)
    # Either side changed: the manifest (rewritten by erasure's purge), an erasure requested
    # (its items are gone from the reference side before the purge), the window's set of
    # accepted items (count, sum and max of ids).
    stamp = (store.stamp(manifest.key(store, project.slug, dataset.name, version.number)),
             session.scalar(select(func.max(Erasure.id)).where(
                 Erasure.project_id == project.id)),
             *session.execute(select(func.count(), func.sum(Item.id), func.max(Item.id)).where(
                 Item.project_id == project.id, Item.state.in_(ACCEPTED_STATES),
                 Item.received_at >= start, Item.received_at < end)).one())
    now = utcnow()
    with _skews_lock:
        kept = _skews.get(key)
    if kept is not None and kept[1] == stamp and now - kept[0] < SKEW_TTL:
        return kept[2]
    out = _skew(session, project, dataset.name, version.number, split, window, in_split,
                start, end)
    with _skews_lock:
        _skews[key] = (now, stamp, out)
        while len(_skews) > 64:
            _skews.popitem(last=False)
    return out


# A skew report reads up to 10,000 conversations and clusters them (seconds). It is kept per
# dataset version, split and window while neither side changes (the manifest, erasure included;
# the window's accepted items), for at most SKEW_TTL.
SKEW_TTL = timedelta(minutes=10)
_skews: OrderedDict[tuple[Any, ...], tuple[datetime, tuple[Any, ...], SkewOut]] = OrderedDict()
_skews_lock = threading.Lock()


def _skew(session: Session, project: Project, name: str, number: int, split: str,
          window: Window, in_split: list[str], start: datetime, end: datetime) -> SkewOut:
    reference = _conversations(session, project.id, in_split[:MAX_SKEW_SIDE])
    taken = set(in_split)
    recent = session.execute(
        select(Item.external_id, Item.redacted).where(
            Item.project_id == project.id, Item.state.in_(ACCEPTED_STATES),
            Item.received_at >= start, Item.received_at < end, Item.redacted.is_not(None))
        .order_by(Item.id.desc()).limit(MAX_SKEW_SIDE + len(taken)))
    production = [(i, t) for i, t in recent if i not in taken][:MAX_SKEW_SIDE]
    from app.services import skew as skew_stats  # scikit-learn, py3langid: load when asked

    try:
        report = skew_stats.compare(reference, production).as_dict()
    except skew_stats.NotEnoughData as exc:
        raise TooLittleData(str(exc)) from None
    return SkewOut(dataset=name, version=number, split=split,
                   since=window.since, until=window.until, **report)


def _conversations(session: Session, project_id: int,
                   item_ids: Sequence[str]) -> list[tuple[str, list[Any]]]:
    found: list[tuple[str, list[Any]]] = []
    for chunk in chunks(list(item_ids), 1000):
        found += [(i, t) for i, t in session.execute(
            select(Item.external_id, Item.redacted).where(
                Item.project_id == project_id, Item.external_id.in_(chunk),
                Item.redacted.is_not(None)))]
    return sorted(found)
