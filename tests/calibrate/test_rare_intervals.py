"""Intervals that hold on rare events: 1-3% error rates with ~20 automated cases per segment.

The percentile bootstrap these rates used to get collapses to [0%, 0%] whenever no error is
seen (most repetitions at n=20, p=1%) and covered 33-67%. Clopper-Pearson per segment and
the stratified MOVER interval for the production-mix rate must cover >= 93% of 1,000
simulated repetitions (nominal 95%).
"""

from __future__ import annotations

import numpy as np
import pytest

from evalkit.stats import exact, exact_interval, stratified

REPS = 1000


@pytest.mark.parametrize("p", [0.01, 0.015, 0.02, 0.025, 0.03])
def test_segment_error_rate_interval_covers(p):
    rng = np.random.default_rng(int(p * 1000))
    n = rng.integers(16, 25, REPS)  # about 20 automated cases
    k = rng.binomial(n, p)
    lo, hi = exact_interval(k, n)
    coverage = float(np.mean((lo <= p) & (p <= hi)))
    assert coverage >= 0.93, coverage
    assert np.all(hi > 0)  # never the collapsed [0, 0]


def test_production_mix_error_rate_interval_covers():
    rng = np.random.default_rng(7)
    segments = 8
    p = rng.uniform(0.01, 0.03, segments)
    mix = rng.dirichlet(np.ones(segments) * 2)
    automation = rng.uniform(0.6, 0.9, segments)
    weights = mix * automation  # share of production volume automated in each segment
    truth = float(weights @ p / weights.sum())
    covered = 0
    for _ in range(REPS):
        n = rng.integers(16, 25, segments)
        k = rng.binomial(n, p)
        est = stratified(k, n, weights)
        covered += est.lo <= truth <= est.hi
        assert est.hi > 0
    assert covered / REPS >= 0.93, covered / REPS


def test_the_percentile_bootstrap_collapses_where_the_exact_interval_does_not():
    # 0 errors in 20 automated cases: the bootstrap's every resample has 0 errors too.
    rng = np.random.default_rng(0)
    sample = np.zeros(20, bool)
    boots = rng.choice(sample, (1000, 20)).mean(axis=1)
    assert np.quantile(boots, 0.975) == 0.0
    est = exact(0, 20)
    assert est.lo == 0.0 and est.hi == pytest.approx(1 - 0.025 ** (1 / 20))


def test_exact_matches_statsmodels_beta():
    from statsmodels.stats.proportion import proportion_confint

    for k, n in [(0, 20), (1, 20), (3, 150), (20, 20)]:
        lo, hi = proportion_confint(k, n, alpha=0.05, method="beta")
        est = exact(k, n)
        assert (est.lo, est.hi) == pytest.approx((lo, hi), abs=1e-9)
