"""The overview at `/`: how each model or prompt version is received, day by day, and the
newest version against the one before (the insights API's comparison)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import request

from app.console import charts
from app.console.web import bp, page, render, signed, transaction
from app.models import Project
from app.payloads.analytics import CompareOut, FeedbackGroupOut, MeanOut, RateOut
from app.services import analytics
from app.services.projects import signal_map

# What the page can group by: (label, name field, version field).
GROUPINGS = {
    "model_version": ("Model version", "model", "model_version"),
    "prompt_version": ("Prompt version", "prompt_id", "prompt_version"),
}
WINDOWS = (("7d", "Last 7 days"), ("14d", "Last 14 days"), ("30d", "Last 30 days"),
           ("90d", "Last 90 days"))


@dataclass(frozen=True)
class Metric:
    key: str
    title: str
    rate: bool


METRICS = (
    Metric("signal", "Signal score (-2 to +2)", False),
    Metric("acceptance", "Acceptance rate", True),
    Metric("regenerate", "Regenerate rate", True),
    Metric("thumbs_up_share", "Thumbs-up share", True),
)


def _label(group: dict[str, str | None], name_field: str, version_field: str) -> str:
    name = group.get(name_field) or "(none)"
    version = group.get(version_field)
    return f"{name} @ {version}" if version else f"{name} (no version)"


def _percent(v: float) -> str:
    return f"{100 * v:.0f}%"


def _signed(v: float) -> str:
    return f"{v:+.1f}"


def _point(g: FeedbackGroupOut, metric: Metric) -> charts.Point | None:
    value: RateOut | MeanOut = getattr(g, metric.key)
    if value.value is None or g.period is None:
        return None
    low = value.interval.low if value.interval else None
    high = value.interval.high if value.interval else None
    return charts.Point(g.period, value.value, low, high, value.n)


@dataclass
class Version:
    label: str
    name: str | None
    version: str | None
    first_day: date
    generations: int


def _versions(daily: list[FeedbackGroupOut], name_field: str,
              version_field: str) -> dict[str, Version]:
    found: dict[str, Version] = {}
    for g in daily:
        if g.period is None:
            continue
        label = _label(g.group, name_field, version_field)
        v = found.get(label)
        if v is None:
            found[label] = Version(label, g.group.get(name_field), g.group.get(version_field),
                                   g.period, g.generations)
        else:
            v.first_day = min(v.first_day, g.period)
            v.generations += g.generations
    return found


def newest_pair(versions: dict[str, Version]) -> tuple[Version, Version] | None:
    """The version first seen last, and the one before it (of the same model or prompt when
    there is one)."""
    dated = sorted((v for v in versions.values() if v.version is not None),
                   key=lambda v: (v.first_day, v.generations), reverse=True)
    if len(dated) < 2:
        return None
    newest = dated[0]
    same = [v for v in dated[1:] if v.name == newest.name]
    return (same or dated[1:])[0], newest


def _compare(session: Any, project_id: int, window: analytics.Window,
             pair: tuple[Version, Version], grouping: tuple[str, str, str],
             filters: dict[str, list[str]], signals: Any) -> CompareOut:
    _, name_field, version_field = grouping
    before, newest = pair
    scoped = dict(filters)
    if before.name == newest.name and before.name is not None:
        scoped[name_field] = [before.name]
    assert before.version is not None and newest.version is not None
    return analytics.compare(session, project_id, window,
                             analytics.Side(version_field, before.version),
                             analytics.Side(version_field, newest.version), scoped, signals)


@bp.get("/")
@page("events:read")
def overview() -> str | tuple[str, int]:
    by = request.args.get("by", "model_version")
    since = request.args.get("since", "30d")
    feature = request.args.get("feature", "").strip()
    errors = []
    if by not in GROUPINGS:
        errors.append("Group by must be model version or prompt version.")
        by = "model_version"
    try:
        window = analytics.window(since, request.args.get("until") or None)
    except analytics.BadQuery as exc:
        errors.append(str(exc))
        since = "30d"
        window = analytics.window(since, None)
    if len(feature) > 128:
        errors.append("The feature name is too long.")
        feature = ""
    grouping = GROUPINGS[by]
    _, name_field, version_field = grouping
    filters = {"feature": [feature]} if feature else {}
    project_id = signed().key.project_id
    with transaction() as session:
        signals = signal_map(session.get_one(Project, project_id))
        daily = analytics.feedback(session, project_id, analytics.Query(
            window, (name_field, version_field), filters, "day"), signals)
        totals = analytics.feedback(session, project_id, analytics.Query(
            window, (name_field, version_field), filters), signals)
        features = analytics.feedback(session, project_id, analytics.Query(
            window, ("feature",)), signals)
        versions = _versions(daily.groups, name_field, version_field)
        pair = newest_pair(versions)
        comparison = (_compare(session, project_id, window, pair, grouping, filters, signals)
                      if pair else None)
    order = sorted(versions.values(), key=lambda v: (v.first_day, v.label))
    index = {v.label: i for i, v in enumerate(order)}
    panels = []
    for m in METRICS:
        series = [charts.Series(v.label) for v in order]
        for g in daily.groups:
            p = _point(g, m)
            if p is not None:
                series[index[_label(g.group, name_field, version_field)]].points.append(p)
        fmt: Callable[[float], str] = _percent if m.rate else _signed
        ticks = (0, 0.25, 0.5, 0.75, 1) if m.rate else (-2, -1, 0, 1, 2)
        lo, hi = (0.0, 1.0) if m.rate else (-2.0, 2.0)
        svg = charts.line_chart(f"chart-{m.key}", m.title, series, window.since, window.until,
                                lo, hi, fmt, ticks)
        panels.append({"metric": m, "svg": svg})
    rows = sorted(totals.groups, key=lambda g: index.get(
        _label(g.group, name_field, version_field), len(index)))
    names = sorted({f for g in features.groups if (f := g.group.get("feature"))})
    if feature and feature not in names:
        names.append(feature)
    context = dict(
        by=by, since=since, feature=feature, features=names, windows=WINDOWS,
        groupings=GROUPINGS, grouping=grouping, window=window, panels=panels, order=order,
        swatch=charts.swatch, rows=rows, label=lambda g: _label(g.group, name_field,
                                                                version_field),
        index=index, comparison=comparison, pair=pair, as_of=daily.as_of, errors=errors,
        metrics=METRICS,
    )
    html = render("overview.html", **context)
    return (html, 400) if errors else html
