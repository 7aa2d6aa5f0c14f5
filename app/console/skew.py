"""The Skew page: a dataset version's split against recent production (the dev-prod skew report
of GET /v1/analytics/skew), a table of features with their PSI, KS and status, a bar chart per
feature (each side's share per bin) with its numbers in a table, and the topic clusters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import request
from markupsafe import Markup

from app.api.request import dataset_store
from app.console import charts
from app.console.web import bp, page, render, transaction
from app.console.web import signed as signed_in
from app.dataset_files import SPLITS
from app.models import Project
from app.payloads.analytics import FeatureSkewOut, SkewBinOut, SkewOut
from app.services import analytics
from app.services.datasets import ready_versions
from app.services.keys import Scope

DATASET_REF = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}(@([0-9]{1,9}|latest))?$")
SERIES = ("Split", "Production")
FEATURES = {
    "turns": "Turns per conversation",
    "user_chars": "User characters",
    "assistant_chars": "Assistant characters",
    "code_share": "Share of turns with code",
    "typo_rate": "Typo rate of the user's words",
    "placeholder_density": "Redaction placeholders per 100 words",
    "has_json": "Has JSON",
    "has_lists": "Has lists",
    "language": "Language",
    "content": "Topics (content clusters)",
}


@dataclass(frozen=True)
class Panel:
    """A feature's chart and the bins it draws."""

    feature: FeatureSkewOut
    title: str
    chart_id: str
    bins: list[SkewBinOut]
    svg: Markup


def _percent(v: float) -> str:
    return f"{100 * v:.0f}%"


def _bins(feature: FeatureSkewOut, report: SkewOut) -> list[SkewBinOut]:
    if feature.kind != "content":
        return feature.bins
    return [SkewBinOut(label=f"topic {n}", reference=c.reference_share,
                       production=c.production_share)
            for n, c in enumerate(report.clusters, 1)]


def panels(report: SkewOut) -> list[Panel]:
    """One bar chart per feature: the split's and production's share of each bin."""
    out = []
    for feature in report.features:
        bins = _bins(feature, report)
        title = FEATURES.get(feature.name, feature.name)
        chart_id = f"skew-{feature.name}"
        svg = charts.bar_chart(chart_id, f"{title}: split against production",
                               [b.label for b in bins],
                               [(SERIES[0], [b.reference for b in bins]),
                                (SERIES[1], [b.production for b in bins])], _percent)
        out.append(Panel(feature, title, chart_id, bins, svg))
    return out


@bp.get("/skew")
@page(Scope.DATASETS_READ.value)
def skew() -> str | tuple[str, int]:
    who = signed_in()
    ref = request.args.get("dataset", "").strip()
    split = request.args.get("split", "test")
    since = request.args.get("since", "").strip() or "30d"
    until = request.args.get("until", "").strip() or None
    form = {"dataset": ref, "split": split, "since": since, "until": until or ""}
    with transaction() as session:
        options = [f"{name}@{number}" for name, number in ready_versions(session,
                                                                          who.key.project_id)]
        context = {"options": options, "form": form, "splits": SPLITS, "features": FEATURES,
                   "swatch": charts.swatch, "series": SERIES}
        if not ref:
            return render("skew.html", **context)
        error = None
        if not DATASET_REF.match(ref):
            error = ("Choose a dataset version as NAME@VERSION (a number or latest), e.g. "
                     "support-eval@3.")
        elif split not in SPLITS:
            error = f"Choose a split: one of {', '.join(SPLITS)}."
        else:
            try:
                window = analytics.window(since, until)
            except analytics.BadQuery as exc:
                error = f"The window is not valid: {exc}."
        if error is not None:
            return render("skew.html", error=error, **context), 400
        project = session.get_one(Project, who.key.project_id)
        try:
            report = analytics.skew(session, dataset_store(), project, ref, split, window)
        except analytics.TooLittleData as exc:
            return render("skew.html", too_little=str(exc), **context)
    return render("skew.html", report=report, panels=panels(report), **context)
