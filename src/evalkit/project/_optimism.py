"""Optimism of projecting at a threshold certified on the same run.

A threshold chosen on these cases and evaluated on the same cases looks better than it
will be: the fixed-sequence test stops exactly where the observed error rate is still low.
Cross-fitting measures it: split the cases into K folds (stratified by segment, seeded),
certify thresholds on K-1 folds with the same settings, apply them to the held-out fold,
and pool the held-out automated cases. The pooled error rate among automated cases is an
honest estimate for the *procedure* (certify on this much data, then automate); the gap to
the in-sample rate is the measured optimism, shown next to the projection.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from evalkit.stats import automated, outcome_mask, stratified


def _segment_thresholds(cert: Any, segments: list[str]) -> dict[str, float | None]:
    if cert.mode == "per_segment":
        return {s: (cert.segments.get(s) or {}).get("threshold") for s in segments}
    thr = cert.overall.threshold if cert.overall is not None else None
    return {s: (None if (cert.segments.get(s) or {}).get("excluded") else thr) for s in segments}


def measure_optimism(df: pd.DataFrame, thresholds: Any, config: str, *, outcome: str, mix: dict[str, float],
                     folds: int = 5, seed: int = 0) -> dict[str, Any] | None:
    """In-sample vs cross-fitted error rate among automated cases at the production mix (None if not certified)."""
    from evalkit.calibrate import certify, make_grid
    from evalkit.suite import CalibrationSpec

    entry = thresholds.configs.get(config) if thresholds is not None else None
    if entry is None or thresholds.alpha is None or not thresholds.spec:
        return None
    spec = CalibrationSpec(**thresholds.spec)
    ok = (df["status"].astype(str) == "ok").to_numpy()
    deferred = df["deferred"].astype("boolean").fillna(False).to_numpy(dtype=bool) if "deferred" in df else \
        np.zeros(len(df), bool)
    conf = df["confidence"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    err = ~outcome_mask(df, outcome).to_numpy()
    seg = df["segment"].astype(str).to_numpy()
    segments = sorted(set(seg))
    able = ok & ~deferred & np.isfinite(conf)
    rng = np.random.default_rng(seed)
    fold = np.zeros(len(df), dtype=int)
    for s in segments:
        idx = np.flatnonzero(seg == s)
        fold[rng.permutation(idx)] = np.arange(idx.size) % folds
    auto_cf = dict.fromkeys(segments, 0)
    err_cf = dict.fromkeys(segments, 0)
    for f in range(folds):
        train, test = fold != f, fold == f
        a = able & train
        seg_total = {s: int(np.sum(train & (seg == s))) for s in segments}
        grid = make_grid(spec.grid, spec.grid_step, conf[a])
        cert = certify(conf[a], err[a], seg[a], seg_total, grid, mode=spec.mode, alpha=spec.alpha, delta=spec.delta,
                       min_segment_n=spec.min_segment_n, never_automate=spec.never_automate)
        for s, t in _segment_thresholds(cert, segments).items():
            m = test & (seg == s)
            hit = automated(ok=ok[m], deferred=deferred[m], confidence=conf[m], threshold=t)
            auto_cf[s] += int(hit.sum())
            err_cf[s] += int(err[m][hit].sum())
    # in sample: the set's own thresholds on all cases
    auto_in, err_in = {}, {}
    for s in segments:
        e = entry.segments.get(s)
        t = (e.threshold if e is not None else None) if thresholds.mode in ("per_segment", "all_segments") \
            else entry.threshold
        m = seg == s
        hit = automated(ok=ok[m], deferred=deferred[m], confidence=conf[m], threshold=t)
        auto_in[s], err_in[s] = int(hit.sum()), int(err[m][hit].sum())
    n_s = np.array([np.sum(seg == s) for s in segments], dtype=float)
    pi = np.array([mix.get(s, 0.0) for s in segments], dtype=float) if mix else n_s / n_s.sum()

    def mixed(auto: dict[str, int], errs: dict[str, int]) -> dict[str, Any] | None:
        a = np.array([auto[s] for s in segments], dtype=float)
        w = pi * np.where(n_s > 0, a / np.where(n_s > 0, n_s, 1), 0.0)
        if w.sum() <= 0:
            return None
        return stratified([errs[s] for s in segments], a, w).to_dict()

    cf, ins = mixed(auto_cf, err_cf), mixed(auto_in, err_in)
    optimism = (cf["value"] - ins["value"]) if cf and ins and cf["value"] is not None and ins["value"] is not None \
        else None
    return {"in_sample_error_rate": ins, "cross_fitted_error_rate": cf, "optimism": optimism, "folds": folds,
            "seed": seed, "method": f"{folds}-fold cross-fitting stratified by segment: thresholds certified on "
            f"{folds - 1} folds with the same settings, applied to the held-out fold"}
