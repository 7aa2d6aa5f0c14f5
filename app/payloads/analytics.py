"""Feedback analytics and version comparisons, as the API answers them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

GroupField = Literal["model", "model_version", "prompt_id", "prompt_version", "feature"]
Interval = Literal["day", "week"]


class IntervalOut(BaseModel):
    low: float
    high: float


class RateOut(BaseModel):
    value: float | None = Field(description="k / n; null when n is 0.")
    k: int
    n: int
    interval: IntervalOut | None = Field(description="Wilson's 95% score interval.")


class MeanOut(BaseModel):
    value: float | None
    n: int
    interval: IntervalOut | None = Field(description="95% t interval (null below 2 values).")


class FeedbackGroupOut(BaseModel):
    group: dict[str, str | None] = Field(
        description="The group's value of each `group_by` field (null: not given).")
    period: date | None = Field(
        description="The day, or the Monday of the ISO week, with `interval`; else null.")
    generations: int = Field(description="Generations served in the window (by their day).")
    users: int = Field(description="Distinct users of those generations.")
    users_estimated: bool = Field(
        description="True when `users` merges several days or groups (HyperLogLog, about "
        "1.6% error); exact otherwise.")
    events: dict[str, int] = Field(description="Events on those generations, per type.")
    events_by_kind: dict[str, int] = Field(description="Events per kind: explicit, implicit.")
    signal: MeanOut = Field(
        description="Mean signal score (-2..+2) of the events that carry one, with the "
        "project's taxonomy overrides applied.")
    acceptance: RateOut = Field(
        description="Generations accepted, tweaked or copied, among those with implicit "
        "feedback.")
    tweak: RateOut = Field(description="Generations tweaked, among those with implicit feedback.")
    regenerate: RateOut = Field(description="Generations regenerated, among those with implicit "
                                "feedback.")
    ignore: RateOut = Field(description="Generations ignored, among those with implicit feedback.")
    abandon: RateOut = Field(description="Generations abandoned, among those with implicit "
                             "feedback.")
    thumbs_up_share: RateOut = Field(description="Thumbs up among thumbs events.")
    rating: MeanOut = Field(description="Mean rating (1-5).")
    verdicts: dict[str, int] = Field(
        description="People's verdicts (good, bad, unsure) from the daily samples on items "
        "of these generations.")


class FeedbackReportOut(BaseModel):
    as_of: datetime | None = Field(
        description="When the rollups were last refreshed; rows stored later are not counted "
        "yet (the worker refreshes them every few seconds).")
    since: date = Field(description="First UTC day of the window.")
    until: date = Field(description="The day after the window's last (exclusive).")
    group_by: list[GroupField]
    interval: Interval | None
    groups: list[FeedbackGroupOut]


class MetricComparisonOut(BaseModel):
    metric: str
    unit: str = Field(description="What `n` counts for this metric.")
    higher_is_better: bool | None = Field(description="Null: neither direction is better.")
    a: RateOut | MeanOut
    b: RateOut | MeanOut
    difference: float | None = Field(description="b - a.")
    interval: IntervalOut | None = Field(description="95% interval of the difference.")
    p_value: float | None
    p_adjusted: float | None = Field(
        description="Holm's adjustment over the metrics compared, for the overall verdict.")
    test: str
    verdict: Literal["better", "worse", "different", "no detectable difference",
                     "not enough data"] = Field(
        description="B against A: better or worse when the interval excludes 0 (different "
        "when neither direction is better); otherwise no detectable difference if each side "
        "had enough data to see the smallest effect worth seeing, else not enough data.")
    needed_a: int = Field(description="More of `unit` side A needs to see the smallest effect "
                          "worth seeing (5 points for a rate, 0.2 SD for a mean) with 80% power.")
    needed_b: int


class SideOut(BaseModel):
    field: GroupField
    value: str
    generations: int
    users: int


class CompareOut(BaseModel):
    as_of: datetime | None
    since: date
    until: date
    a: SideOut
    b: SideOut
    verdict: Literal["better", "worse", "mixed", "no detectable difference",
                     "not enough data"] = Field(
        description="Over the metrics whose Holm-adjusted p-value is below 0.05: better or "
        "worse when they agree, mixed when they do not; when none is, not enough data if any "
        "metric lacked it, else no detectable difference.")
    more_generations: dict[str, int] = Field(
        description="Generations each side (`a`, `b`) still needs before every rate can show "
        "a 5-point difference (scaled by the share of its generations with implicit feedback).")
    metrics: list[MetricComparisonOut]


class SkewBinOut(BaseModel):
    label: str = Field(description="A numeric bin as an interval (`(a, b]`), else the value.")
    reference: float = Field(description="The split's share in this bin.")
    production: float = Field(description="Production's share in this bin.")


class FeatureSkewOut(BaseModel):
    name: str = Field(description="turns, user_chars, assistant_chars, code_share, typo_rate, "
                      "placeholder_density, has_json, has_lists, language or content.")
    kind: Literal["numeric", "binary", "categorical", "content"]
    psi: float = Field(description="Population stability index of production against the "
                       "split (for content: over the topic clusters).")
    ks: float | None = Field(description="Two-sample Kolmogorov-Smirnov statistic (numeric).")
    ks_p: float | None
    status: Literal["ok", "watch", "drift"] = Field(
        description="From PSI: below 0.1 ok, below 0.25 watch, else drift; for content from "
        "`value` on the same thresholds.")
    reference: dict[str, float] = Field(description="The split's summary (mean, median, or "
                                        "shares).")
    production: dict[str, float]
    value: float | None = Field(
        description="Content: production's share in clusters the split barely has.")
    note: str | None
    bins: list[SkewBinOut] = Field(
        default_factory=list, description="The bins PSI is computed over (numeric: the split's "
        "deciles; binary: no, yes; language: its codes), each side's share; content: none "
        "(see `clusters`).")


class ClusterSkewOut(BaseModel):
    cluster: int
    reference_share: float
    production_share: float
    under_covered: bool = Field(
        description="At least 2% of production and under a quarter of that share in the split.")
    top_terms: list[str] = Field(description="The cluster's heaviest TF-IDF terms (redacted "
                                 "text).")
    examples: list[str] = Field(description="Production item ids nearest its centre.")


class SkewOut(BaseModel):
    dataset: str
    version: int
    split: str
    since: date
    until: date
    reference_count: int = Field(description="The split's items still stored (an erased one "
                                 "is gone).")
    production_count: int = Field(
        description="Accepted items received in the window, not in the split (the newest "
        "5,000 at most).")
    status: Literal["ok", "watch", "drift"] = Field(description="The worst feature's.")
    features: list[FeatureSkewOut]
    clusters: list[ClusterSkewOut]
