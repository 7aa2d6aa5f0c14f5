"""GET /v1/analytics/feedback and /v1/analytics/compare: what users think of each version."""

from __future__ import annotations

import csv
import io
from typing import Annotated

from flask import Blueprint, Response
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.api.errors import Problem
from app.api.request import bad_query, caller, dataset_store, query_args, respond, transaction
from app.api.spec import operation
from app.models import Project
from app.payloads.analytics import CompareOut, FeedbackReportOut, SkewOut
from app.services import analytics as service
from app.services.projects import signal_map

bp = Blueprint("analytics", __name__)

WHEN = ("A UTC date (YYYY-MM-DD) or a number of days back from today, e.g. `7d` (today and "
        "the 6 days before).")
Where = Annotated[str, StringConstraints(pattern=service.WHERE_PATTERN)]


class Filters(BaseModel):
    model_config = ConfigDict(extra="forbid")
    since: str = Field(default="30d", max_length=10, description="First day. " + WHEN)
    until: str | None = Field(default=None, max_length=10,
                              description="The day after the last (exclusive); default: "
                              "tomorrow, so today counts. " + WHEN)
    where: list[Where] | None = Field(
        default=None, description="FIELD:VALUE, e.g. `feature:search` or `model:gpt-4o`, "
        "FIELD one of model, model_version, prompt_id, prompt_version, feature. Repeat: "
        "different fields must all hold, the same field twice matches either.")

    def window(self) -> service.Window:
        try:
            return service.window(self.since, self.until)
        except service.BadQuery as exc:
            raise bad_query([(exc.field, str(exc))]) from None

    def filters(self) -> dict[str, list[str]]:
        return service.filters(self.where or [])


class FeedbackQuery(Filters):
    group_by: list[str] | None = Field(
        default=None, description="Any of model, model_version, prompt_id, prompt_version, "
        "feature: repeat, or separate with commas.")
    interval: str | None = Field(default=None, description="`day` or `week` (ISO weeks, "
                                 "from Monday): one row per group and period.")
    format: str = Field(default="json", description="`json` or `csv`.")


class CompareQuery(Filters):
    a: Where = Field(description="FIELD:VALUE, e.g. `prompt_version:7`.")
    b: Where = Field(description="FIELD:VALUE, e.g. `prompt_version:8`.")


@operation(
    bp, "/analytics/feedback", "GET",
    summary="Feedback per model, prompt and feature version, optionally per day or week",
    scope="events:read",
    query=FeedbackQuery,
    responses={200: ("One row per group (and period)", FeedbackReportOut)},
    problems=[400],
    csv=True,
    description="Read from the feedback rollups (`as_of` says how fresh): generations count "
    "on their day (created_at, else received_at, in UTC) with all their events. Rates are "
    "shares of generations with implicit feedback, with Wilson 95% intervals; means have t "
    "intervals. `format=csv` answers the same rows as CSV.",
)
def feedback() -> Response:
    q = query_args(FeedbackQuery)
    fields = [f.strip() for g in (q.group_by or []) for f in g.split(",") if f.strip()]
    try:
        group_by = service.check_fields(fields, "group_by")
    except service.BadQuery as exc:
        raise bad_query([(exc.field, str(exc))]) from None
    if q.interval not in (None, "day", "week"):
        raise bad_query([("interval", "interval must be day or week")])
    if q.format not in ("json", "csv"):
        raise bad_query([("format", "format must be json or csv")])
    query = service.Query(q.window(), group_by, q.filters(), q.interval)
    project_id = caller().project_id
    with transaction() as session:
        signals = signal_map(session.get_one(Project, project_id))
        report = service.feedback(session, project_id, query, signals)
    if q.format == "csv":
        return Response(_csv(report), mimetype="text/csv")
    return respond(report)


def _csv(report: FeedbackReportOut) -> str:
    rows = [service.flat(g) for g in report.groups]
    out = io.StringIO()
    columns = list(dict.fromkeys(c for row in rows for c in row)) or [*report.group_by,
                                                                     "generations"]
    writer = csv.DictWriter(out, columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


@operation(
    bp, "/analytics/compare", "GET",
    summary="Compare two versions (B against A) rate by rate, with intervals and a verdict",
    scope="events:read",
    query=CompareQuery,
    responses={200: ("Each metric's difference, interval, test and verdict", CompareOut)},
    problems=[400],
    description="Rates (acceptance, tweak, regenerate, ignore, abandon, thumbs-up share): "
    "the score test of two proportions with Newcombe's hybrid score interval of the difference. "
    "Means (signal, rating): Welch's t-test and interval. The overall verdict counts the "
    "metrics whose Holm-adjusted p-value is below 0.05. When the samples are too small, "
    "`more_generations` says how many more generations each side needs.",
)
def compare() -> Response:
    q = query_args(CompareQuery)
    try:
        a = service.parse_side(q.a, "a")
        b = service.parse_side(q.b, "b")
    except service.BadQuery as exc:
        raise bad_query([(exc.field, str(exc))]) from None
    window = q.window()
    project_id = caller().project_id
    with transaction() as session:
        signals = signal_map(session.get_one(Project, project_id))
        out: CompareOut = service.compare(session, project_id, window, a, b, q.filters(),
                                          signals)
    return respond(out)


class SkewQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    dataset: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}(@([0-9]{1,9}|latest))?$",
                         description="NAME@VERSION (a number or `latest`; NAME alone: latest).")
    split: str = Field(default="test", pattern="^(train|validation|test)$")
    since: str = Field(default="30d", max_length=10, description="First day. " + WHEN)
    until: str | None = Field(default=None, max_length=10, description="Exclusive. " + WHEN)


@operation(
    bp, "/analytics/skew", "GET",
    summary="Dev-prod skew: does a dataset split still look like recent production?",
    scope="datasets:read",
    query=SkewQuery,
    responses={200: ("Each feature's PSI (and KS) and status, and the topic clusters",
                     SkewOut)},
    problems=[400, 404, 409, 422],
    description="Compares the split's conversations with the accepted items received in the "
    "window (not in the split; the newest 5,000) on structure (turns, user and assistant "
    "lengths, code share, JSON, lists, language, typo rate, placeholder density: PSI over the "
    "split's deciles, KS alongside) and content (TF-IDF topic clusters: production's share in "
    "clusters the split barely has, with example item ids). Status per feature: PSI below 0.1 "
    "ok, below 0.25 watch, else drift. 404 for an unknown dataset or version, 409 for a "
    "version not ready, 422 when a side has too few conversations.",
)
def skew() -> Response:
    q = query_args(SkewQuery)
    window = Filters(since=q.since, until=q.until).window()
    key = caller()
    with transaction() as session:
        project = session.get_one(Project, key.project_id)
        try:
            out = service.skew(session, dataset_store(), project, q.dataset, q.split, window)
        except service.BadQuery as exc:
            raise bad_query([(exc.field, str(exc))]) from None
        except service.TooLittleData as exc:
            raise Problem(422, "Not enough data", str(exc), slug="not-enough-data") from None
    return respond(out)
