"""evalkit.stats: the one implementation of the shared statistics and formats."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evalkit import formatting, stats


def test_wilson_matches_statsmodels_and_handles_edges():
    from statsmodels.stats.proportion import proportion_confint

    e = stats.wilson(37, 120)
    lo, hi = proportion_confint(37, 120, method="wilson")
    assert (e.lo, e.hi) == pytest.approx((lo, hi)) and e.k == 37 and e.n == 120
    assert stats.wilson(0, 10).lo == 0.0 and stats.wilson(0, 10).hi > 0
    assert stats.wilson(10, 10).hi == 1.0 and stats.wilson(10, 10).lo < 1
    assert stats.wilson(0, 0).value is None  # no data is unknown, not 0
    lo_v, hi_v = stats.wilson_interval([37, 0], [120, 0])
    assert lo_v[0] == pytest.approx(lo) and np.isnan(lo_v[1]) and np.isnan(hi_v[1])


def test_rate_and_outcome_mask_count_missing_as_not_good():
    df = pd.DataFrame({"good": pd.array([True, None, False, True], dtype="boolean")})
    mask = stats.outcome_mask(df, "good")
    assert mask.tolist() == [True, False, False, True]
    assert stats.rate(mask).value == 0.5 and stats.rate(mask).n == 4


def test_ece_zero_for_perfect_calibration_and_large_for_overconfidence():
    rng = np.random.default_rng(0)
    conf = rng.random(20000)
    good = rng.random(20000) < conf
    assert stats.ece_interval(conf, good).value < 0.02
    est = stats.ece_interval(np.full(1000, 0.95), np.zeros(1000, bool))
    assert est.value == pytest.approx(0.95) and est.lo <= est.value <= est.hi
    assert stats.ece(conf, good) == pytest.approx(stats.ece_interval(conf, good).value)


def test_bins_are_left_closed_and_exact_on_edges():
    idx = stats.width_bins(np.array([0.0, 0.0999999, 0.7, 0.7 - 1e-12, 1.0]), 10)
    assert idx.tolist() == [0, 0, 7, 7, 9]  # 0.7 - 1e-12 snaps to the 0.7 tick
    table = stats.reliability_bins(np.array([0.72, 0.75, 0.1]), np.array([1, 0, 0]))
    assert table["n"].tolist() == [1, 2] and table["observed"].tolist() == [0.0, 0.5]


def test_the_automation_rule():
    auto = stats.automated(ok=[True, True, False, True, True], deferred=[False, False, False, True, False],
                           confidence=[0.7, 0.69, 0.9, 0.9, np.nan], threshold=0.7)
    assert auto.tolist() == [True, False, False, False, False]
    assert not stats.automated(ok=[True], deferred=[False], confidence=[1.0], threshold=None).any()


def test_formats():
    assert formatting.pct(0.7612) == "76.1%" and formatting.pct(None) == "–"
    assert formatting.rate_lines(0.761, 0.745, 0.777) == "76.1\n74.5–77.7" and formatting.rate_lines(float("nan"), 0, 1) == "–"
    assert formatting.rate_lines(0.0, 0.0, 0.0013, 0) == "0.0\n0.0–0.1" and formatting.rate_lines(0.5, None, 0.6) == "50.0"
    assert formatting.money(None) == "unknown" and formatting.money(0) == "$0"
    assert formatting.money(0.01234) == "$0.0123" and formatting.money(1234.5) == "$1,234"
    assert stats.Estimate(value=0.5, lo=0.4, hi=0.6, n=10).to_dict() == {"value": 0.5, "lo": 0.4, "hi": 0.6, "n": 10}
    assert formatting.money(-5.2, 0) == "-$5" and formatting.money(0.5, 2) == "$0.50"


def test_an_estimate_is_shown_with_its_interval_and_n_whatever_its_form():
    est = stats.wilson(2586, 3000)
    text = formatting.interval(est)
    assert text == f"86.2% [{100 * est.lo:.1f}%, {100 * est.hi:.1f}%] n=3000"
    assert formatting.interval(est.to_dict()) == text  # its JSON (a run-folder file) reads the same
    assert formatting.interval(est, label="95% CI ", digits=0) == f"86% [95% CI {100 * est.lo:.0f}%, {100 * est.hi:.0f}%] n=3000"
    cost = stats.Estimate(value=0.0085, lo=0.0083, hi=0.0088, n=40)
    assert formatting.interval(cost, usd=True) == "$0.0085 [$0.0083, $0.0088] n=40"
    assert formatting.interval({"value": 0.5, "lo": None, "hi": None, "n": 3}) == "50.0% n=3"  # no interval: still its n
    assert formatting.interval({"value": None, "n": 7}) == "unknown n=7"  # unknown is never 0
    assert formatting.interval(None, unknown="-") == "-"
    assert formatting.interval(est, unit=lambda x: f"{100 * x:.1f} pts").startswith("86.2 pts [")


def test_an_interval_of_nonzero_width_never_prints_as_a_point():
    """Wilson's interval for 0 of 1500 is [0%, 0.26%]: at 0 decimals it read '0% [0%, 0%]', a point."""
    est = stats.wilson(0, 1500)
    assert formatting.interval(est, digits=0) == "0.0% [0.0%, 0.3%] n=1500"
    assert formatting.pct_parts(est.value, est.lo, est.hi, 0) == ("0.0%", "0.0%", "0.3%")
    assert formatting.pct_parts(0.5, 0.49999, 0.50001, 1) == ("50.000%", "49.999%", "50.001%")
    assert formatting.interval(stats.wilson(2586, 3000), digits=0).startswith("86% [85%, 87%]")  # wide: unchanged
    assert formatting.interval({"value": 0.5, "lo": 0.5, "hi": 0.5, "n": 1}) == "50.0% [50.0%, 50.0%] n=1"  # a point
    cost = {"value": 0.00002, "lo": 0.00001, "hi": 0.00003, "n": 9}
    assert formatting.interval(cost, usd=True) == "$0.00002 [$0.00001, $0.00003] n=9"
    for lo, hi in [(0.0, 1e-9), (0.123, 0.1231), (0.9999, 1.0)]:
        _, a, b = formatting.pct_parts(lo, lo, hi, 0)
        assert a != b


def test_a_number_that_rounds_to_zero_has_no_sign():
    assert formatting.signed(-0.04) == "0.0" and formatting.signed(0.04) == "0.0" and formatting.signed(-0.05) == "-0.1"
    assert formatting.signed(2.5, 0) == "+2" and formatting.signed(-12.34) == "-12.3"
    assert formatting.pct(-0.00001) == "0.0%" and formatting.money(-0.00001, 4) == "$0.0000"
    assert formatting.money(-0.00001) == "$0.0000" and formatting.money(-5.2, 0) == "-$5"
    # a caller's own unit too: the gate's '-0.0 pts' observed drop
    shown = formatting.interval({"value": -0.0, "lo": -0.094, "hi": 0.094, "n": 32}, label="95% CI ",
                                unit=lambda x: f"{100 * x:.1f} pts")
    assert shown == "0.0 pts [95% CI -9.4 pts, 9.4 pts] n=32"
    assert formatting.unsigned_zero("$-0.000000") == "$0.000000" and formatting.unsigned_zero("-0.05%") == "-0.05%"
    assert formatting.unsigned_zero("+0.0%") == "0.0%" and formatting.unsigned_zero("-10.0 pts") == "-10.0 pts"
    assert formatting.rate_lines(-0.00001, None, None) == "0.0"


def test_wilson_is_statsmodels_formula_bit_for_bit():
    # The closed form avoids importing statsmodels/scipy on every run; it must not change one digit.
    from statsmodels.stats.proportion import proportion_confint

    rng = np.random.default_rng(0)
    n = rng.integers(1, 5000, 5000)
    k = (rng.random(5000) * n).astype(int)
    for alpha in (0.05, 0.1, 0.01, 0.2):
        lo, hi = stats.wilson_interval(k, n, alpha)
        ref_lo, ref_hi = proportion_confint(k.astype(float), n.astype(float), alpha=alpha, method="wilson")
        assert np.array_equal(lo, np.clip(ref_lo, 0, 1)) and np.array_equal(hi, np.clip(ref_hi, 0, 1)), alpha


def test_every_stage_reads_the_same_ece_and_bins():
    """calibrate's metrics, the gate's ECE interval and the report's reliability bins are one
    computation (evalkit.stats), bit for bit."""
    from evalkit.calibrate._metrics import compute_metrics
    from evalkit.calibrate._metrics import ece as calibrate_ece

    rng = np.random.default_rng(4)
    conf = np.round(rng.uniform(0.3, 1.0, 2500), 2)
    y = (rng.uniform(size=conf.size) < conf * 0.9).astype(float)
    value = stats.ece(conf, y)
    metrics = compute_metrics(conf, y, bootstrap=50, seed=1)
    assert metrics.ece_width == value == calibrate_ece(conf, y)
    assert stats.ece_interval(conf, y, resamples=20).value == value
    bins = stats.reliability_bins(conf, y)
    assert [b.n for b in metrics.reliability_width] == bins["n"].tolist()
    assert [b.observed_rate for b in metrics.reliability_width] == bins["observed"].tolist()
    assert value == pytest.approx(float((bins["n"] * (bins["observed"] - bins["confidence"]).abs()).sum() / conf.size))


def test_quantile_change_interval_is_the_quantiles_change_with_a_bootstrap_interval():
    rng = np.random.default_rng(0)
    cand, base = rng.gamma(2.0, 1.5, 400), rng.gamma(2.0, 1.0, 600)
    est = stats.quantile_change_interval(cand, base, 0.95, relative=True)
    assert est.value == pytest.approx(np.quantile(cand, 0.95) / np.quantile(base, 0.95) - 1) and est.n == 400
    assert est.lo < est.value < est.hi
    diff = stats.quantile_change_interval(cand, base, 0.95, relative=False)
    assert diff.value == pytest.approx(np.quantile(cand, 0.95) - np.quantile(base, 0.95))
    free = stats.quantile_change_interval(cand, np.zeros(50), 0.95, relative=True)  # from a $0 baseline
    assert free.lo is None and free.hi is None


def test_a_p_value_never_rounds_onto_or_across_alpha():
    assert formatting.p_value(0.0504) == "0.0504" and formatting.p_value(0.0496) == "0.0496"
    assert formatting.p_value(0.012) == "0.012" and formatting.p_value(1.0) == "1" and formatting.p_value(0.31) == "0.31"
    assert formatting.p_value(0.05) == "0.05" and formatting.p_value(0.00999, alpha=0.01) == "0.00999"
    assert formatting.p_value(None) == "unknown"
