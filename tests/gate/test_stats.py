from __future__ import annotations

import numpy as np
import pytest

from evalkit.gate._stats import expected_calibration_error, holm, mcnemar_exact, wilson


@pytest.mark.parametrize("b,c", [(0, 0), (0, 5), (3, 3), (48, 10), (200, 150), (5000, 5100)])
def test_mcnemar_matches_scipy(b, c):
    from scipy.stats import binomtest

    expected = binomtest(min(b, c), b + c, 0.5).pvalue if b + c else 1.0
    assert mcnemar_exact(b, c) == pytest.approx(expected, rel=1e-6, abs=1e-12)


def test_holm_matches_statsmodels():
    from statsmodels.stats.multitest import multipletests

    p = [0.01, 0.04, 0.03, 0.5, 0.002, 0.2]
    assert holm(p) == pytest.approx(list(multipletests(p, method="holm")[1]))


def test_wilson_matches_statsmodels_and_handles_edges():
    from statsmodels.stats.proportion import proportion_confint

    e = wilson(37, 120)
    lo, hi = proportion_confint(37, 120, method="wilson")
    assert (e.lo, e.hi) == pytest.approx((lo, hi))
    assert wilson(0, 10).lo == 0 and wilson(0, 10).hi > 0
    assert wilson(0, 0).value is None


def test_ece_zero_for_perfect_calibration_and_large_for_overconfidence():
    rng = np.random.default_rng(0)
    conf = rng.random(20000)
    good = rng.random(20000) < conf
    assert expected_calibration_error(conf, good).value < 0.02
    assert expected_calibration_error(np.full(1000, 0.95), np.zeros(1000, bool)).value == pytest.approx(0.95)
