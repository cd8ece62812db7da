"""The sample-size planner: the figure it gives is enough, and not more than needed."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import binom

from evalkit.calibrate import ltt_single, make_grid
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
