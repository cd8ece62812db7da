"""The sample-size planner: the figure it gives is enough, and not more than needed."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import binom

from evalkit.calibrate import ltt_single, make_grid
from evalkit.calibrate._ltt import counts_at
from evalkit.calibrate._planner import automated_needed, plan_segment


@pytest.mark.parametrize(("rate", "alpha", "delta"), [(0.0, 0.05, 0.05), (0.02, 0.05, 0.05 / 8), (0.03, 0.05, 0.05),
                                                      (0.045, 0.05, 0.05), (0.1, 0.2, 0.01), (0.005, 0.01, 0.05)])
def test_needed_automated_cases_certify_and_one_fewer_does_not(rate, alpha, delta):
    m = automated_needed(rate, alpha, delta)
    assert m is not None
    k = math.ceil(m * rate - 1e-12)
    assert binom.cdf(k, m, alpha) <= delta
    # Minimal: at every smaller count with the same error rate the exact test fails.
    smaller = np.arange(1, m)
    assert (binom.cdf(np.ceil(smaller * rate - 1e-12), smaller, alpha) > delta).all()


def test_no_amount_of_data_certifies_an_error_rate_at_alpha():
    assert automated_needed(0.05, 0.05, 0.05) is None
    assert automated_needed(0.2, 0.05, 0.05) is None


def _segment(n: int, coverage: float, rate: float, *, conf_auto: float = 0.9) -> tuple[np.ndarray, np.ndarray]:
    """n cases; a share ``coverage`` at confidence ``conf_auto`` with error rate ``rate``; the rest at 0.3, all wrong."""
    n_auto = round(n * coverage)
    k = math.ceil(n_auto * rate - 1e-12)
    conf = np.r_[np.full(n_auto, conf_auto), np.full(n - n_auto, 0.3)]
    err = np.r_[np.arange(n_auto) < k, np.ones(n - n_auto, dtype=bool)]
    return conf, err


@pytest.mark.parametrize(("n", "coverage", "rate", "alpha", "delta"),
                         [(120, 0.6, 0.02, 0.05, 0.05 / 8), (300, 0.5, 0.035, 0.05, 0.05), (80, 0.7, 0.0, 0.05, 0.0125),
                          (60, 0.4, 0.1, 0.2, 0.05)])
def test_certifying_with_the_planned_cases_at_the_observed_rate_succeeds(n, coverage, rate, alpha, delta):
    conf, err = _segment(n, coverage, rate)
    grid = make_grid("fixed", 0.05, conf)
    today = ltt_single(conf, err, grid, n_total=n, alpha=alpha, delta=delta)
    assert not today.certified  # escalated today
    from evalkit.calibrate._ltt import counts_at

    n_t, k_t = counts_at(conf, err, grid)
    plan = plan_segment(grid, n_t, k_t, n_total=n, alpha=alpha, delta=delta)
    assert plan is not None and plan.more_cases > 0
    # Label that many more cases, drawn at today's coverage and error rate: the segment certifies.
    conf2, err2 = _segment(plan.total_needed, plan.observed_coverage, plan.observed_error_rate)
    later = ltt_single(conf2, err2, grid, n_total=plan.total_needed, alpha=alpha, delta=delta)
    assert later.certified and plan.threshold in later.certified_thresholds
    assert plan.total_needed == n + plan.more_cases


def test_no_plan_when_every_threshold_errs_at_or_above_alpha():
    conf, err = _segment(300, 0.6, 0.3)
    grid = make_grid("fixed", 0.05, conf)
    from evalkit.calibrate._ltt import counts_at

    n_t, k_t = counts_at(conf, err, grid)
    assert plan_segment(grid, n_t, k_t, n_total=300, alpha=0.05, delta=0.05) is None


def test_needed_cases_equal_a_scan_of_every_m():
    """The run-by-run search finds exactly the smallest m that a plain scan of every m finds."""
    from scipy.stats import binom

    rng = np.random.default_rng(11)
    m = np.arange(1, 20_000)
    checked = 0
    for _ in range(60):
        alpha = float(rng.choice([0.05, 0.1, 0.2]))
        delta = float(rng.choice([0.01, 0.05, 0.1]))
        rate = float(rng.uniform(0, alpha * 0.7))
        ok = binom.cdf(np.ceil(m * rate - 1e-12), m, alpha) <= delta
        if not ok.any():
            continue
        assert automated_needed(rate, alpha, delta) == int(m[np.argmax(ok)]), (rate, alpha, delta)
        checked += 1
    assert checked >= 40
    assert automated_needed(alpha * 0.9999, alpha, 0.05) is None  # beyond the cap: none


# --- the plan runs the certification's own fixed sequence (start rule, delta / S) -----------------------------


def _scaled(levels: list[tuple[float, int, int]], big_n: int) -> tuple[np.ndarray, np.ndarray]:
    """Cases at ``big_n`` in all with today's coverage and error rate at each confidence level
    (levels: (confidence, cases, errors), highest first), built case by case for ltt_single."""
    n = sum(c for _, c, _ in levels)
    conf, err, cum_n, cum_k, m_prev, k_prev = [], [], 0, 0, 0, 0
    for level, cases, errors in levels:
        cum_n, cum_k = cum_n + cases, cum_k + errors
        m = cum_n * big_n // n
        k = -(-m * cum_k // cum_n)
        assert m >= m_prev and 0 <= k - k_prev <= m - m_prev
        conf += [level] * (m - m_prev)
        err += [True] * (k - k_prev) + [False] * (m - m_prev - (k - k_prev))
        m_prev, k_prev = m, k
    return np.array(conf), np.array(err)


def _first_certified_size(levels, grid, alpha, delta, upto):
    """Reference: the smallest N > n at which ltt_single certifies the scaled cases (a plain scan)."""
    n = sum(c for _, c, _ in levels)
    for big_n in range(n + 1, upto):
        conf, err = _scaled(levels, big_n)
        r = ltt_single(conf, err, grid, n_total=big_n, alpha=alpha, delta=delta)
        if r.certified:
            return big_n, r
    return None, None


def test_plan_never_says_zero_when_a_higher_threshold_stops_the_sequence():
    """rules/adversarial in the demo: 0.99 fails narrowly at delta/S (p = 0.0067 > 0.00625) although the
    lowest threshold alone would pass today; the old planner said '0 more (87 in all)'."""
    alpha, delta = 0.1, 0.05 / 8
    levels = [(0.99, 102, 3), (0.5, 34, 0)]
    conf, err = _scaled(levels, 136)
    grid = make_grid("fixed", 0.01, conf)
    today = ltt_single(conf, err, grid, n_total=136, alpha=alpha, delta=delta)
    assert not today.certified and today.path[0]["p_value"] == pytest.approx(binom.cdf(3, 102, alpha))
    assert binom.cdf(3, 136, alpha) <= delta  # the lowest threshold on its own would pass: the old plan's 0
    plan = today.cases_needed
    assert plan["more_cases"] >= 1 and plan["total_needed"] == 136 + plan["more_cases"]
    assert plan["delta"] == delta and plan["first_tested_threshold"] == 0.99
    assert "fixed sequence" in today.message or "would certify" in today.message
    big_n, later = _first_certified_size(levels, grid, alpha, delta, 2000)
    assert plan["total_needed"] == big_n  # the smallest size at which the certification itself passes
    assert later.threshold == plan["threshold"]


def test_no_plan_when_more_cases_make_a_worse_threshold_testable_first():
    """0.99 holds 20 cases (25% errors), below n_min = 29 today; the lower threshold needs more data to
    pass, but with that much data 0.99 is tested first and stops the sequence: no amount certifies."""
    alpha, delta = 0.1, 0.05
    levels = [(0.99, 20, 5), (0.5, 100, 3)]
    conf, err = _scaled(levels, 120)
    grid = make_grid("fixed", 0.01, conf)
    today = ltt_single(conf, err, grid, n_total=120, alpha=alpha, delta=delta)
    assert not today.certified and today.cases_needed is None
    assert "starts at threshold 0.99" in today.message
    n_t, k_t = counts_at(conf, err, grid)
    assert plan_segment(grid, n_t, k_t, n_total=120, alpha=alpha, delta=delta) is None
    assert _first_certified_size(levels, grid, alpha, delta, 1200) == (None, None)


@pytest.mark.parametrize("seed", range(6))
def test_plan_equals_a_scan_of_the_certification(seed):
    """Random three-level segments escalated today: the plan's size is the first at which ltt_single on
    the scaled cases certifies, and its threshold is the lowest one certified there."""
    rng = np.random.default_rng(seed)
    alpha, delta = 0.1, 0.05 / int(rng.integers(1, 9))
    checked = 0
    while checked < 3:
        counts = rng.integers(10, 80, 3)
        levels = [(lv, int(c), int(rng.binomial(c, r))) for lv, c, r in zip((0.97, 0.8, 0.6), counts, (0.01, 0.05, 0.12))]
        n = int(counts.sum())
        conf, err = _scaled(levels, n)
        grid = make_grid("fixed", 0.01, conf)
        today = ltt_single(conf, err, grid, n_total=n, alpha=alpha, delta=delta)
        if today.certified:
            continue
        big_n, later = _first_certified_size(levels, grid, alpha, delta, 8 * n)
        plan = today.cases_needed
        if big_n is None:
            assert plan is None or plan["total_needed"] >= 8 * n
        else:
            assert plan["total_needed"] == big_n and plan["threshold"] == later.threshold
            assert plan["more_cases"] >= 1
        checked += 1

