"""app.services.stats: intervals checked against published values and independent formulas,
verdicts on samples where the answer is known."""

from __future__ import annotations

import random

import pytest
from scipy import stats as sps
from statsmodels.stats.proportion import proportion_confint

from app.services import stats


@pytest.mark.parametrize(("k", "n"), [(0, 10), (3, 10), (10, 10), (1, 1), (412, 1000),
                                    (7, 123456)])
def test_wilson_interval_matches_statsmodels(k: int, n: int) -> None:
    est = stats.proportion(k, n)
    assert est.value == pytest.approx(k / n) and est.interval is not None
    low, high = proportion_confint(k, n, alpha=0.05, method="wilson")
    assert est.interval.low == pytest.approx(float(low), abs=1e-9)
    assert est.interval.high == pytest.approx(float(high), abs=1e-9)


def test_a_published_wilson_interval() -> None:
    # Newcombe (1998), Statistics in Medicine 17:857, table II: 81/263 -> 0.2553 to 0.3662.
    est = stats.proportion(81, 263)
    assert est.interval is not None
    assert (round(est.interval.low, 4), round(est.interval.high, 4)) == (0.2553, 0.3662)


def test_newcombes_published_example() -> None:
    # Newcombe (1998), Statistics in Medicine 17:873, example (a): 56/70 against 48/80,
    # method 10 (hybrid score): 0.0524 to 0.3339.
    c = stats.compare_proportions(48, 80, 56, 70)
    assert c.difference == pytest.approx(0.2)
    assert c.interval is not None
    assert (round(c.interval.low, 4), round(c.interval.high, 4)) == (0.0524, 0.3339)
    assert c.verdict == "better" and c.p_value is not None and c.p_value < 0.05


def test_more_regenerations_is_worse_with_the_interval_excluding_zero() -> None:
    c = stats.compare_proportions(100, 1000, 160, 1000, higher_is_better=False)
    assert c.verdict == "worse"
    assert c.interval is not None and c.interval.low > 0
    assert (c.needed_a, c.needed_b) == (0, 0)
    # The same difference on a rate where higher is better reads the other way.
    assert stats.compare_proportions(100, 1000, 160, 1000).verdict == "better"


def test_ten_generations_each_is_not_enough_and_says_how_many_more() -> None:
    c = stats.compare_proportions(1, 10, 3, 10, higher_is_better=False)
    assert c.verdict == "not enough data"
    assert c.interval is not None and c.interval.low < 0 < c.interval.high
    assert c.needed_a == c.needed_b > 100
    # With that many more on each side, a 5-point change from the pooled rate is detectable:
    # simulate it and check the power is about the promised 80%.
    n = 10 + c.needed_a
    rng = random.Random(7)
    base = 4 / 20
    hits = 0
    for _ in range(400):
        ka = sum(rng.random() < base for _ in range(n))
        kb = sum(rng.random() < base + 0.05 for _ in range(n))
        hits += stats.compare_proportions(ka, n, kb, n, higher_is_better=False).verdict == "worse"
    assert 0.7 < hits / 400 < 0.9


def test_large_equal_samples_show_no_detectable_difference() -> None:
    c = stats.compare_proportions(500, 5000, 505, 5000)
    assert c.verdict == "no detectable difference" and (c.needed_a, c.needed_b) == (0, 0)


@pytest.mark.parametrize(("ka", "kb"), [(0, 0), (10, 10)])
def test_both_sides_all_or_nothing_is_no_difference_not_an_error(ka: int, kb: int) -> None:
    c = stats.compare_proportions(ka, 10, kb, 10)
    assert c.difference == 0 and c.p_value == 1.0 and c.verdict == "not enough data"
    assert c.interval is not None and c.interval.low < 0 < c.interval.high


def test_an_empty_side_has_no_estimate() -> None:
    c = stats.compare_proportions(0, 0, 3, 10)
    assert c.a.value is None and c.difference is None and c.verdict == "not enough data"
    assert c.needed_a > c.needed_b > 0


def test_bad_counts_are_refused() -> None:
    with pytest.raises(ValueError):
        stats.proportion(11, 10)
    with pytest.raises(ValueError):
        stats.proportion(-1, 10)


def moments(values: list[float]) -> stats.Moments:
    return stats.Moments(len(values), sum(values), sum(v * v for v in values))


def test_mean_interval_and_welch_match_scipy_on_raw_values() -> None:
    rng = random.Random(3)
    a = [rng.gauss(0.2, 0.5) for _ in range(80)]
    b = [rng.gauss(0.45, 0.9) for _ in range(60)]
    est = stats.mean(moments(a))
    ci = sps.t.interval(0.95, len(a) - 1, loc=sps.tmean(a), scale=sps.sem(a))
    assert est.interval is not None
    assert (est.interval.low, est.interval.high) == pytest.approx(ci, rel=1e-9)
    c = stats.compare_means(moments(a), moments(b))
    ref = sps.ttest_ind(b, a, equal_var=False)
    assert c.p_value == pytest.approx(ref.pvalue, rel=1e-9)
    low, high = ref.confidence_interval(0.95)
    assert c.interval is not None
    assert (c.interval.low, c.interval.high) == pytest.approx((low, high), rel=1e-9)
    assert c.verdict == ("better" if low > 0 else "not enough data")


def test_means_with_one_value_have_no_interval() -> None:
    assert stats.mean(moments([1.0])).interval is None
    c = stats.compare_means(moments([1.0]), moments([0.0, 1.0]))
    assert c.verdict == "not enough data" and c.needed_a > 0


def test_holm_matches_statsmodels() -> None:
    from statsmodels.stats.multitest import multipletests

    rng = random.Random(11)
    for size in (1, 2, 5, 8):
        for _ in range(20):
            ps = [rng.random() ** 3 for _ in range(size)]
            expected = multipletests(ps, alpha=0.05, method="holm")[1]
            assert stats.holm(ps) == pytest.approx(list(expected), abs=1e-12)
    assert stats.holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
