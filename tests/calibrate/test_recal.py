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
