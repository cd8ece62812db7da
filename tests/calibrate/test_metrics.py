"""Metric values agree with scikit-learn / netcal on the same inputs; bin edges are exact."""

from __future__ import annotations

import importlib
import sys
import types
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from sklearn.calibration import calibration_curve
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score

from evalkit.calibrate import brier_decomposition, compute_metrics, ece, mass_bins, risk_coverage, width_bins


def _continuous(n=1000, seed=1):
    rng = np.random.default_rng(seed)
    c = rng.uniform(0.001, 0.999, n)
    y = (rng.random(n) < c**1.5).astype(float)  # overconfident
    return c, y


def test_edge_values_land_in_left_closed_bin():
    levels = [i / 20 for i in range(21)] + [0.7, 0.3, 0.6, 0.1 + 0.2]  # 0.1 + 0.2 = 0.30000000000000004
    c = np.array(levels)
    got = width_bins(c, 10)
    for v, b in zip(levels, got):
        exact = min(int(Fraction(v).limit_denominator(10**6) * 10), 9)  # decimal the user meant
        assert b == exact, (v, b, exact)
    assert width_bins(np.array([0.7]), 10)[0] == 7  # naive floor(0.7 * 10) would also give 7, ceil gives 8
    assert width_bins(np.array([1.0, 0.0]), 10).tolist() == [9, 0]


def test_ece_width_matches_sklearn_calibration_curve():
    c, y = _continuous()
    prob_true, prob_pred = calibration_curve(y, c, n_bins=10, strategy="uniform")
    idx = width_bins(c, 10)
    counts = np.bincount(idx, minlength=10)
    w = counts[counts > 0] / c.size
    assert ece(c, y, n_bins=10) == pytest.approx(float(np.sum(w * np.abs(prob_true - prob_pred))), abs=1e-12)
    m = compute_metrics(c, y, bootstrap=0)
    assert [b.observed_rate for b in m.reliability_width] == pytest.approx(prob_true.tolist())
    assert [b.mean_confidence for b in m.reliability_width] == pytest.approx(prob_pred.tolist())


def test_ece_mass_matches_sklearn_quantile_bins():
    c, y = _continuous(1000, seed=2)  # n divisible by 10 and no ties: the two edge rules agree
    prob_true, prob_pred = calibration_curve(y, c, n_bins=10, strategy="quantile")
    assert prob_true.size == 10
    idx, _ = mass_bins(c, 10)
    assert np.bincount(idx).tolist() == [100] * 10
    expected = float(np.mean(np.abs(prob_true - prob_pred)))  # equal bins: n-weighting is a plain mean
    assert ece(c, y, n_bins=10, strategy="mass") == pytest.approx(expected, abs=1e-12)


def test_mass_bins_keep_ties_together():
    c = np.repeat([0.8, 0.9, 0.95, 1.0], [500, 300, 150, 50])
    idx, lows = mass_bins(c, 10)
    for v in np.unique(c):
        assert np.unique(idx[c == v]).size == 1
    # edges = values at ranks 100..900 = {0.8, 0.9, 0.95}: 1.0 (top 50) shares the 0.95 bin
    assert lows.tolist() == [0.8, 0.9, 0.95]


def test_brier_logloss_auroc_match_sklearn():
    c, y = _continuous(2000, seed=3)
    m = compute_metrics(c, y, bootstrap=0)
    assert m.brier == pytest.approx(brier_score_loss(y, c), abs=1e-12)
    assert m.log_loss == pytest.approx(log_loss(y, c), rel=1e-9)
    assert m.auroc == pytest.approx(roc_auc_score(y, c), abs=1e-12)


def test_auroc_with_ties_matches_sklearn():
    rng = np.random.default_rng(4)
    c = rng.choice([0.8, 0.9, 0.95, 1.0], 1000)
    y = (rng.random(1000) < c - 0.1).astype(float)
    assert compute_metrics(c, y, bootstrap=0).auroc == pytest.approx(roc_auc_score(y, c), abs=1e-12)


def test_murphy_decomposition_exact_on_distinct_values():
    rng = np.random.default_rng(5)
    c = rng.choice(np.arange(10, 21) / 20, 3000)
    y = (rng.random(3000) < c * 0.85).astype(float)
    d = brier_decomposition(c, y)
    assert d["grouping"].startswith("distinct")
    assert d["brier"] == pytest.approx(brier_score_loss(y, c), abs=1e-12)
    assert d["reliability"] - d["resolution"] + d["uncertainty"] == pytest.approx(d["brier"], abs=1e-12)
    cont = brier_decomposition(*_continuous())
    assert cont["grouping"].endswith("(approximate)")


def test_aurc_bruteforce_and_tie_invariance():
    rng = np.random.default_rng(6)
    c = rng.uniform(size=300)
    y = (rng.random(300) < c).astype(float)
    order = np.argsort(-c)
    err = 1 - y[order]
    brute = np.mean(np.cumsum(err) / np.arange(1, 301))
    rc = risk_coverage(c, y)
    assert rc["aurc"] == pytest.approx(brute, abs=1e-12)
    n_err = int(err.sum())
    oracle = np.mean(np.cumsum(np.r_[np.zeros(300 - n_err), np.ones(n_err)]) / np.arange(1, 301))
    assert rc["aurc_optimal"] == pytest.approx(oracle, abs=1e-12)
    assert rc["e_aurc"] >= 0
    # ties: result must not depend on row order
    ct = np.round(c, 1)
    perm = rng.permutation(300)
    assert risk_coverage(ct, y)["aurc"] == pytest.approx(risk_coverage(ct[perm], y[perm])["aurc"], abs=1e-12)


def test_bootstrap_is_seeded_and_covers_the_estimate():
    c, y = _continuous(800, seed=7)
    a = compute_metrics(c, y, bootstrap=200, seed=3)
    b = compute_metrics(c, y, bootstrap=200, seed=3)
    assert a.ece_width_ci == b.ece_width_ci
    assert a.bootstrap["seed"] == 3
    lo, hi = a.ece_width_ci
    assert lo < a.ece_width < hi
    assert compute_metrics(c, y, bootstrap=200, seed=4).ece_width_ci != a.ece_width_ci


def test_large_n_bootstrap_uses_cell_approximation_close_to_case_bootstrap():
    rng = np.random.default_rng(8)
    c = rng.uniform(0.5, 1, 150_000)
    y = (rng.random(c.size) < c - 0.05).astype(float)
    m = compute_metrics(c, y, bootstrap=200, seed=0)
    assert "cell" in m.bootstrap["kind"]
    lo, hi = m.ece_width_ci
    exact = compute_metrics(c[:100_000], y[:100_000], bootstrap=200, seed=0)
    assert "case" in exact.bootstrap["kind"]
    w_cell, w_case = hi - lo, exact.ece_width_ci[1] - exact.ece_width_ci[0]
    assert 0.5 < w_cell / w_case * np.sqrt(150_000 / 100_000) < 2.0  # same scale of uncertainty


def test_small_n_warnings():
    m = compute_metrics(np.array([0.9, 0.8, 0.95, 0.7]), np.array([1.0, 1.0, 1.0, 1.0]), bootstrap=0)
    text = " ".join(m.warnings)
    assert "ECE with n=4" in text and "AUROC" in text and "undefined" in text
    assert m.auroc is None


def _load_netcal_metric():
    """Import netcal's numpy ECE without running netcal/__init__.py (which imports torch)."""
    spec = importlib.util.find_spec("netcal")
    if spec is None or not spec.submodule_search_locations:
        pytest.fail("netcal is not installed: `make test` installs the pinned netcal (Makefile) for this comparison")
    root = Path(next(iter(spec.submodule_search_locations)))
    saved = {k: sys.modules.get(k) for k in ("netcal", "netcal.metrics", "netcal.metrics.confidence")}
    pkg = types.ModuleType("netcal")
    pkg.__path__ = [str(root)]

    def accepts(*_types):  # netcal's decorator only type-checks arguments
        return lambda f: f

    def squeeze_generic(a, axes_to_keep):  # same as netcal.Helper.squeeze_generic (that module imports torch)
        keep = (axes_to_keep,) if isinstance(axes_to_keep, int) else tuple(axes_to_keep)
        return a.reshape([s for i, s in enumerate(a.shape) if i in keep or s != 1])

    def hpdi(*_a, **_k):  # only used for uncertainty inputs, not here
        raise NotImplementedError

    pkg.accepts, pkg.squeeze_generic, pkg.hpdi = accepts, squeeze_generic, hpdi
    metrics = types.ModuleType("netcal.metrics")
    metrics.__path__ = [str(root / "metrics")]
    conf = types.ModuleType("netcal.metrics.confidence")
    conf.__path__ = [str(root / "metrics" / "confidence")]
    sys.modules.update({"netcal": pkg, "netcal.metrics": metrics, "netcal.metrics.confidence": conf})
    try:
        return importlib.import_module("netcal.metrics.confidence.ECE").ECE, saved
    except (ImportError, AttributeError, NameError) as exc:  # pragma: no cover - the Makefile pins netcal 1.4.0
        _restore(saved)
        pytest.fail(f"cannot load netcal's ECE without torch (is the pinned netcal 1.4.0 installed?): {exc}")


def _restore(saved):
    for k in list(sys.modules):
        if k == "netcal" or k.startswith("netcal."):
            del sys.modules[k]
    for k, v in saved.items():
        if v is not None:
            sys.modules[k] = v


def test_ece_matches_netcal():
    ECE, saved = _load_netcal_metric()
    try:
        # netcal bins [0, 1] with np.histogramdd (left-closed, last bin closed) like evalkit; continuous
        # confidences avoid float edge cases, where netcal's float edges would disagree on e.g. 0.7
        rng = np.random.default_rng(9)
        c = rng.uniform(0.02, 0.98, 3000)
        y = (rng.random(3000) < c**2).astype(int)
        theirs = float(ECE(bins=10).measure(c, y))
        assert ece(c, y, n_bins=10) == pytest.approx(theirs, abs=1e-9)
    finally:
        _restore(saved)
