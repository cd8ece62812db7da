from __future__ import annotations

import numpy as np
import pytest

from evalkit.gate._stats import expected_calibration_error, paired_segment_compare, wilson


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


def test_paired_compare_adapter_marks_only_the_planted_segment(runs):
    import pandas as pd

    base = pd.read_parquet(runs["base"] / "scores.parquet")
    drop = pd.read_parquet(runs["drop"] / "scores.parquet")
    t = paired_segment_compare(base, drop, include_overall=True)
    assert t["segment"].iloc[0] == "(all segments)"
    seg = t.set_index("segment")
    assert bool(seg.loc["legacy_discount", "significant"]) and seg.loc["legacy_discount", "diff"] < -0.1
    assert seg.drop(["legacy_discount", "(all segments)"])["significant"].sum() == 0
    # Holm never makes a segment p-value smaller; the overall row keeps its raw p-value.
    assert (seg["p_adjusted"] >= seg["p_value"] - 1e-12).all()
    assert seg.loc["(all segments)", "p_adjusted"] == seg.loc["(all segments)", "p_value"]
