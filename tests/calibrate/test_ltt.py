"""Learn-then-Test: exact binomial bounds, fixed-sequence logic, and a simulation of the guarantee."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binom, binomtest
from statsmodels.stats.proportion import proportion_confint

from evalkit.calibrate import certify, cp_upper, ltt_single, make_grid
from evalkit.calibrate._bins import binom_pvalue, n_min_zero_errors, wilson


@pytest.mark.parametrize(("k", "n"), [(0, 59), (3, 100), (31, 1200), (10, 10), (0, 1), (250, 3000)])
def test_cp_upper_and_pvalue_match_scipy_statsmodels(k, n):
    delta, alpha = 0.05, 0.05
    # one-sided CP at 1 - delta == upper end of the two-sided 'beta' interval at level 2*delta
    _, hi = proportion_confint(k, n, alpha=2 * delta, method="beta")
    assert float(cp_upper(k, n, delta)) == pytest.approx(1.0 if k == n else hi, abs=1e-10)
    p = float(binom_pvalue(k, n, alpha))
    assert p == pytest.approx(binomtest(k, n, alpha, alternative="less").pvalue, rel=1e-10)
    assert (p <= delta) == (float(cp_upper(k, n, delta)) <= alpha)  # test form == bound form


def test_wilson_matches_scipy():
    lo, hi = wilson(np.array([0, 7, 40]), np.array([20, 50, 40]))
    for i, (k, n) in enumerate([(0, 20), (7, 50), (40, 40)]):
        ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
        assert (lo[i], hi[i]) == pytest.approx((ci.low, ci.high), abs=1e-10)


def test_n_min():
    assert n_min_zero_errors(0.05, 0.05) == 59
    assert n_min_zero_errors(0.01, 0.05) == 299
    assert n_min_zero_errors(0.10, 0.10) == 22
    assert binom.cdf(0, 59, 0.05) <= 0.05 < binom.cdf(0, 58, 0.05)


def _reference_fst(conf, err, grid, alpha, delta):
    """Plain-Python reference: loop over the grid from high to low."""
    n_min = n_min_zero_errors(alpha, delta)
    passed = []
    for t in grid:
        sel = [e for c, e in zip(conf, err) if c >= t - 1e-12]
        n, k = len(sel), int(sum(sel))
        if n < n_min and not passed:
            continue
        if binom.cdf(k, n, alpha) <= delta:
            passed.append(float(t))
        else:
            break
    return passed


def test_fixed_sequence_matches_reference_loop():
    rng = np.random.default_rng(0)
    conf = np.round(rng.uniform(0.5, 1, 800) * 20) / 20
    err = rng.random(800) < (1 - conf) * 0.2
    grid = make_grid("fixed", 0.05, conf)
    r = ltt_single(conf, err, grid, n_total=1000, alpha=0.05, delta=0.05)
    assert r.certified_thresholds == pytest.approx(_reference_fst(conf, err, grid, 0.05, 0.05))
    assert r.threshold == min(r.certified_thresholds)
    auto = conf >= r.threshold - 1e-12
    assert (r.n_automated, r.n_errors) == (int(auto.sum()), int(err[auto].sum()))
    assert r.coverage["value"] == pytest.approx(auto.sum() / 1000)
    assert r.coverage["lo"] < r.coverage["value"] < r.coverage["hi"]
    assert r.risk_upper_bound == pytest.approx(float(cp_upper(r.n_errors, r.n_automated, 0.05)))
    assert r.risk_upper_bound <= 0.05
    assert r.path[-1]["passed"] is False or r.threshold == grid[-1]  # path ends at the first failure


def test_threshold_on_an_edge_automates_that_value():
    conf = np.full(200, 0.7)
    r = ltt_single(conf, np.zeros(200, bool), make_grid("fixed", 0.01, conf), n_total=200, alpha=0.05, delta=0.05)
    assert r.threshold == 0.0 or r.n_automated == 200
    assert r.n_automated == 200


def test_nothing_certifiable_says_so_and_how_many_needed():
    conf = np.full(40, 0.95)
    r = ltt_single(conf, np.zeros(40, bool), make_grid("fixed", 0.01, conf), n_total=40, alpha=0.05, delta=0.05)
    assert r.threshold is None and not r.certified
    assert r.message.startswith("escalate everything: no threshold can be certified at alpha=0.05, delta=0.05 with n=40")
    assert "59" in r.message
    assert r.cases_needed["cases"] >= 59  # zero observed errors at full coverage: ~59
    conf = np.full(100, 0.95)
    err = np.arange(100) < 3  # 3% errors: certifiable only with more data
    r = ltt_single(conf, err, make_grid("fixed", 0.01, conf), n_total=100, alpha=0.05, delta=0.05)
    assert r.threshold is None
    m = r.cases_needed["automated_cases"]
    # at the needed size the observed rate certifies; at 80% of it it does not
    assert binom.cdf(np.floor(0.03 * m * 1.02), m, 0.05) <= 0.05 * 1.5
    assert binom.cdf(np.floor(0.03 * m * 0.8), int(m * 0.8), 0.05) > 0.05 * 0.5


def _draw(rng, n, levels, probs, err_rates):
    li = rng.choice(levels.size, size=n, p=probs)
    return levels[li], rng.random(n) < err_rates[li]


def test_guarantee_holds_in_simulation():
    """Many calibration sets from a known generator: P(true selective risk > alpha) <= delta."""
    alpha, delta, reps, n = 0.10, 0.10, 600, 600
    levels = np.arange(10, 21) / 20  # verbalised 0.50..1.00
    probs = np.full(levels.size, 1 / levels.size)
    err_rates = 0.02 + 0.5 * (1 - levels) ** 1.2  # true P(error | confidence)
    grid = make_grid("fixed", 0.05, levels)

    def true_risk(t):
        sel = levels >= t - 1e-12
        return float(np.sum(probs[sel] * err_rates[sel]) / np.sum(probs[sel]))

    rng = np.random.default_rng(2024)
    viol = naive_viol = 0
    coverage = []
    for _ in range(reps):
        conf, err = _draw(rng, n, levels, probs, err_rates)
        r = ltt_single(conf, err, grid, n_total=n, alpha=alpha, delta=delta)
        if r.threshold is not None:
            viol += true_risk(r.threshold) > alpha
        coverage.append(r.coverage["value"])
        # negative control: lowest threshold whose in-sample error rate is <= alpha (no guarantee)
        naive = [t for t in grid if err[conf >= t - 1e-12].mean() <= alpha]
        naive_viol += bool(naive) and true_risk(min(naive)) > alpha
    slack = 3 * np.sqrt(delta * (1 - delta) / reps)
    assert viol / reps <= delta + slack
    assert np.mean(coverage) > 0.2  # not trivially escalating everything
    assert naive_viol / reps > delta + slack  # the check has power: in-sample picking fails it


def _segments(rng, sizes, err_by_seg):
    conf, err, seg = [], [], []
    for s, n in sizes.items():
        c = np.round(rng.uniform(0.6, 1, n) * 20) / 20
        conf.append(c)
        err.append(rng.random(n) < err_by_seg[s] * (1.2 - c) * 4)
        seg += [s] * n
    return np.concatenate(conf), np.concatenate(err), np.array(seg, dtype=object)


def test_per_segment_bonferroni_and_small_segments_escalated():
    rng = np.random.default_rng(1)
    sizes = {"routine": 2000, "legacy": 800, "tiny": 30}
    conf, err, seg = _segments(rng, sizes, {"routine": 0.005, "legacy": 0.05, "tiny": 0.0})
    grid = make_grid("fixed", 0.01, conf)
    c = certify(conf, err, seg, sizes, grid, mode="per_segment", alpha=0.05, delta=0.05, min_segment_n=None)
    assert "tiny" in c.uncertified and c.segments["tiny"]["threshold"] is None
    assert "too small" in c.segments["tiny"]["reason"]
    assert c.segments["routine"]["delta_used"] == pytest.approx(0.05 / 3)
    m = seg == "routine"
    alone = ltt_single(conf[m], err[m], grid, n_total=2000, alpha=0.05, delta=0.05 / 3)
    assert c.segments["routine"]["threshold"] == alone.threshold
    assert c.automated[seg == "tiny"].sum() == 0


def test_all_segments_uses_max_p_and_lists_small_segments():
    rng = np.random.default_rng(2)
    sizes = {"routine": 2000, "legacy": 800, "tiny": 30}
    conf = np.round(rng.uniform(0.6, 1, sum(sizes.values())) * 20) / 20
    seg = np.repeat(list(sizes), list(sizes.values())).astype(object)
    p_err = np.where(seg == "routine", 0.01, np.where(conf >= 0.85, 0.01, 0.25))  # legacy fails below 0.85
    err = rng.random(conf.size) < p_err
    grid = make_grid("fixed", 0.01, conf)
    c = certify(conf, err, seg, sizes, grid, mode="all_segments", alpha=0.05, delta=0.05, min_segment_n=None)
    assert c.uncertified == ["tiny"]
    t = c.overall.threshold
    assert t is not None and 0.8 < t <= 0.85  # legacy's risky band below 0.85 stops the sequence
    for s in ("routine", "legacy"):
        m = (seg == s) & (conf >= t - 1e-12)
        assert binom.cdf(err[m].sum(), m.sum(), 0.05) <= 0.05  # each segment passes at the chosen t
        assert c.segments[s]["threshold"] == t
    # one step lower fails for at least one segment (or is the end of the grid, or untestable)
    lower = grid[grid < t]
    if lower.size:
        t2 = lower[0]
        ps = [binom.cdf(err[(seg == s) & (conf >= t2 - 1e-12)].sum(), ((seg == s) & (conf >= t2 - 1e-12)).sum(), 0.05)
              for s in ("routine", "legacy")]
        assert max(ps) > 0.05


def test_global_mode_reports_segments_without_certifying_them():
    rng = np.random.default_rng(3)
    sizes = {"a": 1500, "b": 500}
    conf, err, seg = _segments(rng, sizes, {"a": 0.005, "b": 0.01})
    c = certify(conf, err, seg, sizes, make_grid("fixed", 0.01, conf), mode="global", alpha=0.05, delta=0.05,
                min_segment_n=None)
    assert c.overall is not None and c.uncertified == []
    assert all(v["certified"] is None for v in c.segments.values())
    assert sum(v["n_automated"] for v in c.segments.values()) == c.overall.n_automated


@pytest.mark.parametrize("mode", ["per_segment", "all_segments"])
def test_segment_guarantee_holds_in_simulation(mode):
    """Two segments with known error curves: P(any certified segment's true risk > alpha) <= delta."""
    alpha, delta, reps = 0.10, 0.10, 300
    levels = np.arange(10, 21) / 20
    probs = np.full(levels.size, 1 / levels.size)
    curves = {"a": 0.02 + 0.4 * (1 - levels), "b": 0.04 + 0.6 * (1 - levels)}
    sizes = {"a": 800, "b": 600}
    grid = make_grid("fixed", 0.05, levels)

    def true_risk(s, t):
        sel = levels >= t - 1e-12
        return float(np.sum(probs[sel] * curves[s][sel]) / np.sum(probs[sel]))

    rng = np.random.default_rng(7)
    viol, certified = 0, 0
    for _ in range(reps):
        parts = [_draw(rng, n, levels, probs, curves[s]) for s, n in sizes.items()]
        conf = np.concatenate([p[0] for p in parts])
        err = np.concatenate([p[1] for p in parts])
        seg = np.repeat(list(sizes), list(sizes.values())).astype(object)
        c = certify(conf, err, seg, sizes, grid, mode=mode, alpha=alpha, delta=delta, min_segment_n=None)
        bad = [s for s, v in c.segments.items() if v["certified"] and true_risk(s, v["threshold"]) > alpha]
        viol += bool(bad)
        certified += any(v["certified"] for v in c.segments.values())
    assert viol / reps <= delta + 3 * np.sqrt(delta * (1 - delta) / reps)
    assert certified / reps > 0.5
