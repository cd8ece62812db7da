"""Post-stratification, Kish ESS, flagging, and bootstrap interval coverage."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evalkit.economics import EconomicsSpec
from evalkit.project import (
    ProjectionSpec,
    build_strata,
    kish_ess,
    kish_ess_from_strata,
    post_stratified_mean,
    project_frame,
)
from evalkit.project._automation import Decisions, Money, at_policy
from evalkit.project._policy import Policy


def _two_segment_frame() -> pd.DataFrame:
    # A: 4 cases, 3 automated (0.75); B: 6 cases, 1 automated (1/6)
    auto = [1, 1, 1, 0] + [1, 0, 0, 0, 0, 0]
    return pd.DataFrame({
        "config": "c", "segment": ["A"] * 4 + ["B"] * 6, "status": "ok", "deferred": False,
        "correct": True, "good": True, "confidence": [float(a) for a in auto], "cost_usd": 0.01,
    })


def test_reweighting_hand_checkable() -> None:
    df = _two_segment_frame()
    mix = {"A": 0.2, "B": 0.8}
    strata = build_strata(df["segment"].to_numpy(), mix, min_cases=1)
    # by hand: 0.2 * 3/4 + 0.8 * 1/6 = 0.15 + 0.1333... ; dataset rate would be 4/10
    expected = 0.2 * 0.75 + 0.8 / 6
    assert post_stratified_mean(df["confidence"].to_numpy(), strata) == pytest.approx(expected)
    # weights: A 0.2/0.4 = 0.5 (x4), B 0.8/0.6 = 4/3 (x6); ESS = (2 + 8)^2 / (4*0.25 + 6*16/9)
    ess_hand = 10.0**2 / (4 * 0.25 + 6 * 16 / 9)
    w = strata.row_weights()
    np.testing.assert_allclose(w, [0.5] * 4 + [4 / 3] * 6)
    assert kish_ess(w) == pytest.approx(ess_hand)
    assert kish_ess_from_strata(strata.counts, strata.pi) == pytest.approx(ess_hand)
    assert strata.ess == pytest.approx(ess_hand)

    spec = ProjectionSpec(volume_per_month=1000, mix=mix, min_cases_per_segment=1, resamples=200)
    out = project_frame(df, spec=spec, economics=EconomicsSpec(), outcome="good",
                        policy_for=lambda c: Policy(source="--threshold", threshold=0.5))["c"]
    assert out["automation_rate"]["value"] == pytest.approx(expected)
    assert out["effective_sample_size"] == pytest.approx(ess_hand)
    assert out["automated_per_month"]["value"] == pytest.approx(1000 * expected)
    lo, hi = out["automation_rate"]["lo"], out["automation_rate"]["hi"]
    assert lo <= expected <= hi and lo < hi


def test_flagged_and_unestimated_segments() -> None:
    df = _two_segment_frame()
    mix = {"A": 0.5, "B": 0.3, "ghost": 0.2}
    strata = build_strata(df["segment"].to_numpy(), mix, min_cases=5)
    assert set(strata.flagged) == {"A", "ghost"}  # A has 4 < 5 cases, ghost has none
    assert "no cases" in strata.flagged["ghost"] and "4 cases" in strata.flagged["A"]
    assert strata.names == ("A", "B")
    assert strata.unestimated_share == pytest.approx(0.2)
    np.testing.assert_allclose(strata.pi, [0.5 / 0.8, 0.3 / 0.8])  # renormalised over estimable segments

    spec = ProjectionSpec(volume_per_month=100, mix=mix, min_cases_per_segment=5, resamples=100)
    out = project_frame(df, spec=spec, economics=EconomicsSpec(), outcome="good",
                        policy_for=lambda c: Policy(source="--threshold", threshold=0.5))["c"]
    assert out["flagged_segments"] == ["A", "ghost"]
    assert out["unestimated_share"] == pytest.approx(0.2)
    assert "ghost" not in out["segments"]
    assert out["automation_rate"]["value"] == pytest.approx(0.625 * 0.75 + 0.375 / 6)


def test_zero_share_and_unmixed_segments_are_ignored_but_listed() -> None:
    df = _two_segment_frame()
    strata = build_strata(df["segment"].to_numpy(), {"A": 1.0}, min_cases=1)
    assert strata.unmixed == ("B",)
    assert (strata.codes[4:] == -1).all()
    assert post_stratified_mean(df["confidence"].to_numpy(), strata) == pytest.approx(0.75)


def test_stratified_bootstrap_interval_coverage() -> None:
    """95% intervals for the production automation rate cover the truth in 92-98% of 500 repetitions.

    (Checked offline with 3,000 repetitions and other seeds: coverage 0.947-0.949.)
    """
    rng = np.random.default_rng(7)
    n_seg = {"routine": 150, "edge": 120, "rare": 80}
    p_auto = {"routine": 0.7, "edge": 0.35, "rare": 0.15}
    mix = {"routine": 0.75, "edge": 0.15, "rare": 0.10}
    truth = sum(mix[s] * p_auto[s] for s in mix)
    segs = np.concatenate([[s] * n for s, n in n_seg.items()])
    strata = build_strata(segs, mix, min_cases=1)
    money = Money(volume=1000, economics=EconomicsSpec())
    thresholds = np.full(len(strata.names), 0.5)
    covered = 0
    reps = 500
    for _ in range(reps):
        conf = np.concatenate([(rng.random(n) < p_auto[s]).astype(float) for s, n in n_seg.items()])
        dec = Decisions(ok=np.ones(len(segs), bool), deferred=np.zeros(len(segs), bool),
                        confidence=conf, error=np.zeros(len(segs), bool))
        r = at_policy(dec, strata, thresholds, money)["automation_rate"]
        covered += r["lo"] <= truth <= r["hi"]
    assert 0.92 <= covered / reps <= 0.98, covered / reps
