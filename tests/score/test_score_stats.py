"""Interval and test primitives against scipy/statsmodels and a published worked example."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binomtest
from statsmodels.stats.multitest import multipletests

from evalkit.score import holm, mcnemar_exact_p, paired_diff_newcombe, wilson


@pytest.mark.parametrize("k,n", [(0, 10), (10, 10), (3, 7), (412, 500), (1, 1), (57, 3000)])
def test_wilson_matches_scipy(k, n):
    lo, hi = wilson(k, n)
    ref = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    assert float(lo) == pytest.approx(ref.low, abs=1e-9)
    assert float(hi) == pytest.approx(ref.high, abs=1e-9)


def test_wilson_is_nan_without_data():
    lo, hi = wilson(np.array([0, 2]), np.array([0, 4]))
    assert np.isnan(lo[0]) and np.isnan(hi[0]) and not np.isnan(lo[1])


@pytest.mark.parametrize("b,c", [(6, 16), (0, 5), (12, 12), (1, 30), (40, 25), (0, 1)])
def test_mcnemar_exact_matches_scipy_binomtest(b, c):
    assert mcnemar_exact_p(b, c) == pytest.approx(binomtest(b, b + c, 0.5).pvalue, rel=1e-12)


def test_mcnemar_no_discordant_pairs():
    assert mcnemar_exact_p(0, 0) == 1.0


def test_newcombe_paired_published_example():
    # Fagerland, Lydersen & Laake, Statistical Analysis of Contingency Tables (ch. 8),
    # Cavo et al. 2012: table [[59, 6], [16, 80]] -> -0.0621 (95% CI -0.1186 to -0.0046);
    # exact conditional McNemar P = 0.052479.
    d, lo, hi = paired_diff_newcombe(59, 6, 16, 80)
    assert float(d) == pytest.approx(-10 / 161)
    assert round(float(lo), 4) == -0.1186 and round(float(hi), 4) == -0.0046
    assert round(mcnemar_exact_p(6, 16), 6) == 0.052479


def test_newcombe_paired_coverage_by_simulation():
    # Correlated pairs, true diff = p(cand) - p(base) = 0.72 - 0.80 = -0.08.
    rng = np.random.default_rng(11)
    probs = np.array([0.70, 0.10, 0.02, 0.18])  # n11, n10 (x only), n01 (y only), n00
    true = (probs[0] + probs[1]) - (probs[0] + probs[2])
    tables = rng.multinomial(150, probs, size=4000)
    d, lo, hi = paired_diff_newcombe(tables[:, 0], tables[:, 1], tables[:, 2], tables[:, 3])
    coverage = np.mean((lo <= true) & (true <= hi))
    assert 0.93 <= coverage <= 0.975
    assert np.all(lo <= d) and np.all(d <= hi)


def test_holm_matches_hand_computed_step_down():
    p = np.array([0.01, 0.04, 0.03, 0.5, np.nan])
    adj, rej = holm(p)
    m = 4
    order = np.argsort(p[:4])
    hand = np.empty(4)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        hand[i] = running
    assert np.allclose(adj[:4], hand) and np.isnan(adj[4])
    ref_rej, ref_adj, _, _ = multipletests(p[:4], method="holm")
    assert np.allclose(adj[:4], ref_adj)
    assert list(rej[:4]) == list(ref_rej) == list(hand <= 0.05)
    assert not rej[4]


@pytest.mark.parametrize("seed", range(5))
def test_holm_matches_statsmodels_on_random_pvalues(seed):
    p = np.random.default_rng(seed).beta(0.3, 1.0, size=12)
    p[3] = p[5]  # ties
    ref_rej, ref_adj, _, _ = multipletests(p, alpha=0.05, method="holm")
    adj, rej = holm(p)
    assert np.allclose(adj, ref_adj) and list(rej) == list(ref_rej)
