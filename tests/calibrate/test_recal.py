"""Cross-fitted recalibration: out-of-fold ECE drops, exported maps reproduce scikit-learn."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

from evalkit.calibrate import CalibrationSpec, apply_map, calibrate_frame, cross_fit, ece, fit_map, make_folds
from evalkit.calibrate._recal import CLIP_EPS, PLATT_C


def _overconfident(n, seed=0):
    rng = np.random.default_rng(seed)
    q = rng.beta(6, 2, n)  # true P(good)
    c = np.clip(q + 0.15, 0, 1)  # stated: shifted up
    y = (rng.random(n) < q).astype(float)
    return c, y


@pytest.mark.parametrize("method", ["platt", "isotonic"])
def test_out_of_fold_recalibration_lowers_ece(method):
    c, y = _overconfident(3000)
    fold, k = make_folds(y, folds=5, seed=0)
    oof, notes = cross_fit(c, y, fold, k, method=method)
    assert k == 5 and notes == []
    assert ece(oof, y) < 0.5 * ece(c, y)


def test_folds_are_seeded_and_stratified():
    y = (np.arange(1000) % 4 == 0).astype(int)
    a, _ = make_folds(y, folds=5, seed=1)
    b, _ = make_folds(y, folds=5, seed=1)
    assert (a == b).all()
    assert not (a == make_folds(y, folds=5, seed=2)[0]).all()
    for f in range(5):
        assert y[a == f].sum() == 50  # 250 positives spread evenly


def test_platt_map_matches_sklearn_and_survives_json():
    c, y = _overconfident(2000, seed=1)
    m = json.loads(json.dumps(fit_map(c, y, method="platt")))
    z = np.log(np.clip(c, CLIP_EPS, 1 - CLIP_EPS)) - np.log1p(-np.clip(c, CLIP_EPS, 1 - CLIP_EPS))
    lr = LogisticRegression(C=PLATT_C, max_iter=1000).fit(z.reshape(-1, 1), y)
    assert apply_map(m, c) == pytest.approx(lr.predict_proba(z.reshape(-1, 1))[:, 1], abs=1e-6)
    assert m["coef"] > 0


def test_isotonic_map_matches_sklearn_predict():
    c, y = _overconfident(2000, seed=2)
    m = json.loads(json.dumps(fit_map(c, y, method="isotonic")))
    iso = IsotonicRegression(y_min=0, y_max=1, out_of_bounds="clip").fit(c, y)
    probe = np.r_[np.linspace(-0.1, 1.1, 500), c[:100]]
    assert apply_map(m, probe) == pytest.approx(iso.predict(probe), abs=1e-12)


def test_degenerate_folds_do_not_crash():
    c = np.linspace(0.5, 1, 50)
    y = np.ones(50)
    fold, k = make_folds(y, folds=5, seed=0)
    oof, notes = cross_fit(c, y, fold, k, method="platt")
    assert np.allclose(oof, 40.5 / 41) and len(notes) == 5  # Jeffreys rate of each 40-row training fold and "single outcome" in notes[0]
    y2 = np.zeros(50)
    y2[0] = 1  # one positive: the folds without it are all-wrong
    oof2, notes2 = cross_fit(c, y2, *make_folds(y2, folds=5, seed=0), method="isotonic")
    assert np.isfinite(oof2).all() and len(notes2) == 1


def test_multi_signal_and_auto_switch(scores_df):
    part = scores_df[scores_df.config == "strong"].reset_index(drop=True)
    r = calibrate_frame(part, spec=CalibrationSpec(method="multi", bootstrap=0), config="strong")
    rm = r.recalibration
    assert rm["method"] == "logistic" and len(rm["coef"]) == len(rm["features"]) == 3
    assert "out of fold" in rm["evaluation"]
    assert "out of fold" in r.document["metrics"]["recalibrated_evaluation"]
    assert r.metrics_recalibrated.ece_width < r.metrics.ece_width
    rows = part[(part.status == "ok") & ~part.deferred & part.confidence.notna()]
    sig = {f: rows[f].astype(float).fillna(rows["confidence"].astype(float)).to_numpy() for f in rm["features"]}
    p = apply_map(rm, sig)
    assert ((p > 0) & (p < 1)).all()
    big = calibrate_frame(part, spec=CalibrationSpec(bootstrap=0), config="strong")
    assert big.recalibration["method"] == "isotonic"  # > 1000 automatable rows
    small = calibrate_frame(part.iloc[:400], spec=CalibrationSpec(bootstrap=0), config="strong")
    assert small.recalibration["method"] == "platt"


def _two_meanings(n_a: int, n_b: int, seed: int = 0):
    """Segment a: stated 0.9 means ~95% good; segment b: the same 0.9 means ~45% good."""
    rng = np.random.default_rng(seed)
    seg = np.array(["a"] * n_a + ["b"] * n_b, dtype=object)
    c = np.round(np.clip(rng.normal(0.9, 0.04, n_a + n_b), 0.5, 1.0) * 20) / 20
    q = np.where(seg == "a", np.clip(c + 0.05, 0, 0.99), np.clip(c - 0.45, 0.01, 1))
    y = (rng.random(c.size) < q).astype(float)
    return c, y, seg


def _within(p, y, seg):
    return sum((seg == s).sum() * ece(p[seg == s], y[seg == s]) for s in np.unique(seg)) / y.size


@pytest.mark.parametrize("method", ["platt", "isotonic"])
def test_segment_maps_fix_what_a_pooled_map_averages_away(method):
    from evalkit.calibrate import SEGMENT_RECAL_MIN_N, map_for, segment_maps

    c, y, seg = _two_meanings(600, 400)
    fold, k = make_folds(y, folds=5, seed=0)
    pooled, _ = cross_fit(c, y, fold, k, method=method)
    masks = {s: seg == s for s in ("a", "b")}
    oof, maps = segment_maps(c, y, fold, k, masks, method=method, features=None, pooled_oof=pooled)
    assert SEGMENT_RECAL_MIN_N <= 400
    assert {m["method"] for m in maps.values()} == {method} and maps["b"]["fitted_on_n"] == 400
    # Pooled, the two meanings of 0.9 cancel out; per segment each is calibrated, still out of fold.
    assert _within(oof, y, seg) < 0.5 * _within(pooled, y, seg)
    # The exported map of a segment reproduces a fit on that segment alone.
    ref = fit_map(c[seg == "b"], y[seg == "b"], method=method)
    grid = np.linspace(0.5, 1, 11)
    assert np.allclose(apply_map(map_for({"method": "identity", "segments": maps}, "b"), grid), apply_map(ref, grid))


def test_thin_segments_keep_the_pooled_map_and_say_so():
    from evalkit.calibrate import SEGMENT_RECAL_MIN_N, map_for, segment_maps

    c, y, seg = _two_meanings(600, SEGMENT_RECAL_MIN_N - 1)
    fold, k = make_folds(y, folds=5, seed=0)
    pooled, _ = cross_fit(c, y, fold, k, method="platt")
    masks = {s: seg == s for s in ("a", "b")}
    oof, maps = segment_maps(c, y, fold, k, masks, method="platt", features=None, pooled_oof=pooled)
    assert maps["b"]["method"] == "pooled" and f"{SEGMENT_RECAL_MIN_N - 1} automatable cases" in maps["b"]["reason"]
    assert np.array_equal(oof[seg == "b"], pooled[seg == "b"])  # the fallback's scores are the pooled ones
    assert not np.array_equal(oof[seg == "a"], pooled[seg == "a"])
    top = {"method": "platt", "coef": 1.0, "intercept": 0.0, "segments": maps}
    assert map_for(top, "b") is top and map_for(top, "a") is maps["a"] and map_for(top, "unseen") is top


def test_calibrate_frame_records_per_segment_maps(scores_df):
    """thresholds.json says which segments have their own map, which fall back, and how much it helped."""
    part = scores_df[scores_df.config == "weak"].reset_index(drop=True)
    r = calibrate_frame(part, spec=CalibrationSpec(bootstrap=0, alpha=0.1), config="weak")
    rec = r.recalibration
    counts = part[(part.status == "ok") & ~part.deferred & part.confidence.notna()].groupby("segment").size()
    from evalkit.calibrate import SEGMENT_RECAL_MIN_N

    expected_own = sorted(s for s, n in counts.items() if n >= SEGMENT_RECAL_MIN_N)
    assert rec["per_segment"]["own_map"] == expected_own and expected_own
    assert sorted(rec["per_segment"]["pooled"]) == sorted(set(counts.index) - set(expected_own))
    assert set(rec["segments"]) == set(counts.index)
    ece_within = rec["per_segment"]["ece_within_segments_out_of_fold"]
    assert 0 <= ece_within["per_segment_maps"] <= 1 and 0 <= ece_within["pooled_map"] <= 1
    # A segment's calibrated threshold goes through that segment's map.
    from evalkit.calibrate import map_for

    certified = [(seg, e) for seg, e in r.document["segments"].items() if e.get("threshold") is not None]
    assert certified
    for seg, e in certified:
        want = apply_map(map_for(rec, seg), np.array([e["threshold"]]))[0]
        assert e["threshold_calibrated"] == pytest.approx(want)
    json.dumps(r.document)  # plain JSON


def test_multi_signal_falls_back_to_the_constant_map_when_a_fold_holds_one_outcome(scores_df):
    """A fold whose fitting rows are all good gets the constant Jeffreys map; with several signals per row
    (method multi) it used to return an (n, d) array and crash the out-of-fold assignment (exit 3)."""
    constant = {"method": "constant", "p": 0.75}
    assert apply_map(constant, np.full((7, 3), 0.9)).shape == (7,)
    assert apply_map(constant, np.full(7, 0.9)).shape == (7,)
    part = scores_df[scores_df.config == "strong"].reset_index(drop=True).assign(good=True, correct=True)
    r = calibrate_frame(part, spec=CalibrationSpec(method="multi", bootstrap=0), config="strong")
    assert r.recalibration["method"] == "constant" and np.isfinite(r.metrics_recalibrated.brier)
