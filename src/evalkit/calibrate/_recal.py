"""Recalibration maps (confidence -> P(outcome)), always evaluated out of fold.

A map is plain JSON so a production service can apply it without evalkit:

* ``{"method": "platt", "transform": "logit", "clip_eps": 1e-6, "coef": a, "intercept": b}``:
  p = 1 / (1 + exp(-(a * logit(clip(c)) + b)))
* ``{"method": "logistic", "features": [...], "coef": [...], ...}``: the same on several signals
* ``{"method": "isotonic", "x": [...], "y": [...]}``: linear interpolation between breakpoints,
  clipped to the end values outside [x0, x_last] (scikit-learn ``IsotonicRegression.predict``)
* ``{"method": "constant", "p": p}``: fallback when the fitting data holds one outcome only
* ``{"method": "identity"}``
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import numpy as np

CLIP_EPS = 1e-6  # logit(1 - 1e-6) = 13.8: keeps verbalised 1.0 finite without dominating the fit
PLATT_C = 1e4  # nearly unpenalised, but finite so separable folds still converge


def _logit(c: np.ndarray) -> np.ndarray:
    c = np.clip(np.asarray(c, dtype=float), CLIP_EPS, 1 - CLIP_EPS)
    return np.log(c) - np.log1p(-c)


def fit_map(x: np.ndarray, y: np.ndarray, *, method: str, features: list[str] | None = None) -> dict:
    """Fit one map on all rows given. ``x`` is (n,) or (n, d) raw confidences; y in {0, 1}."""
    y = np.asarray(y, dtype=float)
    n, k = y.size, float(y.sum())
    if method == "identity" or n == 0:
        return {"method": "identity"}
    if k in (0.0, float(n)):
        # a logistic fit diverges on one class; the Jeffreys-smoothed rate is a finite, honest guess
        return {"method": "constant", "p": (k + 0.5) / (n + 1.0),
                "reason": f"fitting data had a single outcome ({int(k)}/{n} positive)"}
    if method == "isotonic":
        from sklearn.isotonic import IsotonicRegression

        iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip", increasing=True)
        iso.fit(np.asarray(x, dtype=float).ravel(), y)
        return {"method": "isotonic", "x": iso.X_thresholds_.tolist(), "y": iso.y_thresholds_.tolist(),
                "interpolation": "linear", "out_of_bounds": "clip"}
    from sklearn.linear_model import LogisticRegression

    z = _logit(np.asarray(x, dtype=float))
    z2 = z.reshape(n, -1)
    lr = LogisticRegression(C=PLATT_C, max_iter=1000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lr.fit(z2, y)
    coef = lr.coef_.ravel().tolist()
    base = {"transform": "logit", "clip_eps": CLIP_EPS, "intercept": float(lr.intercept_[0])}
    if method == "platt":
        return {"method": "platt", "coef": float(coef[0]), **base}
    return {"method": "logistic", "features": list(features or []), "coef": coef, **base}


def apply_map(rmap: Mapping, conf: object) -> np.ndarray:
    """Apply an exported map. ``conf``: array of confidences, or for a multi-signal map a
    mapping feature -> array (or an (n, d) array in the map's feature order)."""
    method = rmap["method"]
    if method == "logistic":
        feats = rmap["features"]
        if isinstance(conf, Mapping):
            x = np.column_stack([np.asarray(conf[f], dtype=float) for f in feats])
        else:
            x = np.asarray(conf, dtype=float).reshape(-1, len(feats))
        eps = float(rmap.get("clip_eps", CLIP_EPS))
        xc = np.clip(x, eps, 1 - eps)
        s = (np.log(xc) - np.log1p(-xc)) @ np.asarray(rmap["coef"], dtype=float) + float(rmap["intercept"])
        return 1.0 / (1.0 + np.exp(-s))
    c = np.asarray(conf, dtype=float)
    if method == "identity":
        return c.copy()
    if method == "constant":  # one probability per row, also for a multi-signal (n, d) input
        return np.full(c.shape[:1] if c.ndim == 2 else c.shape, float(rmap["p"]))
    if method == "platt":
        eps = float(rmap.get("clip_eps", CLIP_EPS))
        cc = np.clip(c, eps, 1 - eps)
        s = float(rmap["coef"]) * (np.log(cc) - np.log1p(-cc)) + float(rmap["intercept"])
        return 1.0 / (1.0 + np.exp(-s))
    if method == "isotonic":
        return np.interp(c, np.asarray(rmap["x"], dtype=float), np.asarray(rmap["y"], dtype=float))
    raise ValueError(f"unknown recalibration method {method!r}")


def make_folds(y: np.ndarray, *, folds: int, seed: int) -> tuple[np.ndarray, int]:
    """Fold id per row from a seeded stratified K-fold (plain K-fold if no class can fill K folds)."""
    from sklearn.model_selection import KFold, StratifiedKFold

    n = y.size
    k = min(folds, n)
    fold = np.zeros(n, dtype=np.int64)
    if k < 2:
        return fold, 1
    counts = np.bincount(y.astype(np.int64), minlength=2)
    splitter = (StratifiedKFold(k, shuffle=True, random_state=seed) if counts.max() >= k
                else KFold(k, shuffle=True, random_state=seed))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "least populated class has only m members" is expected
        for i, (_, test) in enumerate(splitter.split(np.zeros(n), y)):
            fold[test] = i
    return fold, k


def cross_fit(x: np.ndarray, y: np.ndarray, fold: np.ndarray, k: int, *, method: str,
              features: list[str] | None = None) -> tuple[np.ndarray, list[str]]:
    """Out-of-fold recalibrated probabilities: each row scored by a map fitted without its fold."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    notes: list[str] = []
    if k < 2:
        notes.append("fewer than 2 cases: no out-of-fold fit possible, identity map used")
        return (x if x.ndim == 1 else x[:, 0]).copy(), notes
    oof = np.empty(y.size)
    for f in range(k):
        test = fold == f
        train = ~test
        m = fit_map(x[train], y[train], method=method, features=features)
        if m["method"] == "constant":
            notes.append(f"fold {f}: {m['reason']}; constant {m['p']:.3f} used (Jeffreys-smoothed rate)")
        oof[test] = apply_map(m, x[test])
    return oof, notes


SEGMENT_MIN_N = 100
"""Automatable cases a segment needs for a recalibration map of its own; below, the pooled map.
A segment whose fitting data hold one outcome only gets the constant Jeffreys-smoothed rate
(``fit_map``): exactly where a pooled map is most wrong."""


def segment_maps(x: np.ndarray, y: np.ndarray, fold: np.ndarray, k: int, masks: Mapping[str, np.ndarray], *,
                 method: str, features: list[str] | None,
                 pooled_oof: np.ndarray) -> tuple[np.ndarray, dict[str, dict]]:
    """Recalibration per segment where the data allow, the pooled map elsewhere.

    A segment with at least ``SEGMENT_MIN_N`` automatable cases gets its own map (the pooled map's method), cross-fitted on the same folds
    as the pooled one; every other segment keeps the pooled map's out-of-fold scores. Returns
    the out-of-fold scores that result, and per segment its exported map or the fallback
    record ``{"method": "pooled", "reason": ...}``."""
    y = np.asarray(y, dtype=float)
    oof = np.asarray(pooled_oof, dtype=float).copy()
    maps: dict[str, dict] = {}
    for s, m in sorted(masks.items()):
        n = int(m.sum())
        if n < SEGMENT_MIN_N:
            maps[s] = {"method": "pooled", "reason": (
                f"{n} automatable cases: a map of its own needs {SEGMENT_MIN_N}; the pooled map applies")}
            continue
        oof[m], notes = cross_fit(x[m], y[m], fold[m], k, method=method, features=features)
        fitted = fit_map(x[m], y[m], method=method, features=features)
        fitted.update({"fitted_on_n": n, "fold_notes": notes})
        maps[s] = fitted
    return oof, maps


def map_for(recalibration: Mapping, segment: str | None) -> Mapping:
    """The map that applies to ``segment``: its own when it has one, else the pooled (top-level) map."""
    own = (recalibration.get("segments") or {}).get(segment) if segment is not None else None
    return own if own is not None and own.get("method") != "pooled" else recalibration
