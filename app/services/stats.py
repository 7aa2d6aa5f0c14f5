"""The statistics behind feedback analytics and version comparisons, on statsmodels and scipy.

Rates (acceptance, regenerate, thumbs-up share, ...) are proportions of generations:
- one group's interval is Wilson's score interval (good at small n and near 0 or 1);
- two groups are compared by their difference B - A, with Newcombe's hybrid score interval
  (built from the two Wilson intervals, so it behaves at 0 and 1 too) and the score test's
  p-value (Miettinen-Nurminen). The verdict follows the interval: it excludes 0 or it does not.
Means (signal score, rating) get a t interval, and two means Welch's t-test and interval.

When an interval includes 0, the comparison says whether the samples were large enough to see a
difference worth seeing (`min_effect`: 5 percentage points for a rate, a fifth of a standard
deviation for a mean, both at 80% power and a two-sided 5% level); if not, how many more
generations each side needs.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from functools import lru_cache
from statistics import NormalDist
from typing import Any, Literal

# scipy and statsmodels load on first use (function-level imports): together they double a web
# worker's memory at start-up (104 to 199 MB) for operations most workers never serve.

LEVEL = 0.95
POWER = 0.8
MIN_RATE_EFFECT = 0.05
MIN_MEAN_EFFECT = 0.2  # in standard deviations (Cohen's d)

Verdict = Literal["better", "worse", "no detectable difference", "not enough data"]


@dataclass(frozen=True)
class Interval:
    low: float
    high: float


@dataclass(frozen=True)
class Estimate:
    value: float | None
    n: int
    interval: Interval | None


@dataclass(frozen=True)
class Comparison:
    a: Estimate
    b: Estimate
    difference: float | None  # b - a
    interval: Interval | None
    p_value: float | None
    test: str
    verdict: Verdict
    # Generations each side still needs to see `min_effect` (0 when it has enough).
    needed_a: int
    needed_b: int


def proportion(k: int, n: int, level: float = LEVEL) -> Estimate:
    """k of n, with Wilson's interval; no value for n = 0. (Its closed form: statsmodels'
    `proportion_confint(method="wilson")` gives the same, tested, at 50 times the cost, which
    a report of a few hundred groups notices.)"""
    _check_counts(k, n)
    if n == 0:
        return Estimate(None, 0, None)
    z = _z(level)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return Estimate(p, n, Interval(max(0.0, centre - half), min(1.0, centre + half)))


@lru_cache(maxsize=16)
def _z(level: float) -> float:
    return NormalDist().inv_cdf(0.5 + level / 2)


@lru_cache(maxsize=4096)
def _t(level: float, df: float) -> float:
    return float(_scipy().t.ppf(0.5 + level / 2, df))


def _scipy() -> Any:
    from scipy import stats as sps

    return sps


@dataclass(frozen=True)
class Moments:
    """What a rollup keeps of a mean: count, sum and sum of squares."""

    n: int
    total: float
    squares: float

    @property
    def mean(self) -> float | None:
        return self.total / self.n if self.n else None

    @property
    def variance(self) -> float | None:
        """The sample variance (n - 1), clipped at 0 against rounding."""
        if self.n < 2:
            return None
        return max(0.0, (self.squares - self.total * self.total / self.n) / (self.n - 1))


def mean(m: Moments, level: float = LEVEL) -> Estimate:
    """The mean with its t interval (none below 2 values)."""
    if m.n == 0:
        return Estimate(None, 0, None)
    value = m.mean
    var = m.variance
    if var is None or value is None:
        return Estimate(value, m.n, None)
    half = _t(level, m.n - 1) * math.sqrt(var / m.n)
    return Estimate(value, m.n, Interval(value - half, value + half))


def compare_proportions(ka: int, na: int, kb: int, nb: int, *, higher_is_better: bool = True,
                        min_effect: float = MIN_RATE_EFFECT, level: float = LEVEL) -> Comparison:
    """B against A for a rate: kb/nb - ka/na."""
    a, b = proportion(ka, na, level), proportion(kb, nb, level)
    test = "score test of two proportions; Newcombe's hybrid score interval"
    if na == 0 or nb == 0:
        need = _needed_rates(ka + kb, na + nb, min_effect, level)
        return Comparison(a, b, None, None, None, test, "not enough data",
                          max(0, need - na), max(0, need - nb))
    diff = kb / nb - ka / na
    from statsmodels.stats.proportion import confint_proportions_2indep, test_proportions_2indep

    with warnings.catch_warnings():  # statsmodels divides by zero at 0/n and n/n, harmlessly
        warnings.simplefilter("ignore", RuntimeWarning)
        low, high = confint_proportions_2indep(kb, nb, ka, na, method="newcomb",
                                               compare="diff", alpha=1 - level)
        p = float(test_proportions_2indep(kb, nb, ka, na, method="score",
                                          compare="diff").pvalue)
    if math.isnan(p):  # both sides all 0 or all 1: nothing tells them apart
        p = 1.0
    interval = Interval(float(low), float(high))
    need = _needed_rates(ka + kb, na + nb, min_effect, level)
    return _judge(a, b, diff, interval, p, test, higher_is_better, na, nb, need)


def compare_means(ma: Moments, mb: Moments, *, higher_is_better: bool = True,
                  min_effect: float = MIN_MEAN_EFFECT, level: float = LEVEL) -> Comparison:
    """B against A for a mean: Welch's t-test and interval of mean_b - mean_a."""
    a, b = mean(ma, level), mean(mb, level)
    test = "Welch's t-test; Welch-Satterthwaite interval"
    need = _needed_means(min_effect, level)
    va, vb = ma.variance, mb.variance
    if va is None or vb is None or a.value is None or b.value is None:
        return Comparison(a, b, None, None, None, test, "not enough data",
                          max(0, need - ma.n), max(0, need - mb.n))
    diff = b.value - a.value
    sa, sb = va / ma.n, vb / mb.n
    se = math.sqrt(sa + sb)
    if se == 0.0:  # every value the same on both sides
        p = 1.0 if diff == 0 else 0.0
        interval = Interval(diff, diff)
    else:
        df = (sa + sb) ** 2 / (sa**2 / (ma.n - 1) + sb**2 / (mb.n - 1))
        t = _t(level, df)
        interval = Interval(diff - t * se, diff + t * se)
        p = float(2 * _scipy().t.sf(abs(diff) / se, df))
    return _judge(a, b, diff, interval, p, test, higher_is_better, ma.n, mb.n, need)


def _judge(a: Estimate, b: Estimate, diff: float, interval: Interval, p: float, test: str,
           higher_is_better: bool, na: int, nb: int, need: int) -> Comparison:
    verdict: Verdict
    if interval.low > 0 or interval.high < 0:
        verdict = "better" if (interval.low > 0) == higher_is_better else "worse"
        need_a = need_b = 0
    else:
        need_a, need_b = max(0, need - na), max(0, need - nb)
        verdict = "no detectable difference" if need_a == need_b == 0 else "not enough data"
    return Comparison(a, b, diff, interval, p, test, verdict, need_a, need_b)


def _needed_rates(k: int, n: int, min_effect: float, level: float) -> int:
    """Generations per side for a two-sided test at `level` to see a change of `min_effect`
    from the pooled rate, towards 1/2 (the harder direction), with 80% power."""
    base = k / n if n else 0.5
    # Rounded to 0.1 point so the answer is cached: solving the power equation costs ~20 ms,
    # and a comparison asks for it once per rate.
    return _needed_at(round(min(max(base, 0.01), 0.99), 3), min_effect, level)


@lru_cache(maxsize=4096)
def _needed_at(base: float, min_effect: float, level: float) -> int:
    other = base + min_effect if base < 0.5 else base - min_effect
    from statsmodels.stats.power import NormalIndPower
    from statsmodels.stats.proportion import proportion_effectsize

    effect = abs(float(proportion_effectsize(other, base)))
    n_side = NormalIndPower().solve_power(effect_size=effect, alpha=1 - level, power=POWER,
                                          ratio=1.0)
    return math.ceil(float(n_side))


@lru_cache(maxsize=64)
def _needed_means(min_effect: float, level: float) -> int:
    from statsmodels.stats.power import TTestIndPower

    n_side = TTestIndPower().solve_power(effect_size=min_effect, alpha=1 - level, power=POWER,
                                         ratio=1.0)
    return math.ceil(float(n_side))


def holm(p_values: list[float]) -> list[float]:
    """Holm's step-down adjustment of p-values (as statsmodels' multipletests 'holm', which
    also runs a full garbage collection on every call: a quarter of a second in a request)."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def _check_counts(k: int, n: int) -> None:
    if n < 0 or k < 0 or k > n:
        raise ValueError(f"a proportion needs 0 <= k <= n, got {k} of {n}")
