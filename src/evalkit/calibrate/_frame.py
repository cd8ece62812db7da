"""Calibrate one configuration's rows of ``scores.parquet``: metrics, recalibration, thresholds, cost."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from evalkit.calibrate._bins import segment_masks
from evalkit.calibrate._cost import cost_optimal
from evalkit.calibrate._ltt import make_grid
from evalkit.calibrate._metrics import Metrics, compute_metrics, ece
from evalkit.calibrate._recal import (
    SEGMENT_MIN_N,
    apply_map,
    cross_fit,
    fit_map,
    make_folds,
    map_for,
    segment_maps,
)
from evalkit.calibrate._segments import Certification, certify
from evalkit.errors import DataError
from evalkit.stats import check_confidence_range
from evalkit.suite import CalibrationSpec

if TYPE_CHECKING:
    import pandas as pd

    from evalkit.economics import EconomicsSpec

REQUIRED = ("config", "segment", "status", "deferred", "confidence")
MIN_RECAL_N = 20


@dataclass(kw_only=True)
class ConfigCalibration:
    config: str
    n: int
    n_automatable: int
    excluded: dict[str, int]
    metrics: Metrics | None
    metrics_recalibrated: Metrics | None
    segment_metrics: dict[str, Metrics]
    recalibration: dict
    certification: Certification | None
    cost_optimal: dict | None
    warnings: list[str] = field(default_factory=list)
    document: dict = field(default_factory=dict)


def check_columns(df: pd.DataFrame, outcome: str, where: str) -> None:
    missing = [c for c in (*REQUIRED, outcome) if c not in df.columns]
    if missing:
        raise DataError(f"{where}: missing column(s) {missing} needed for calibration")


def _prepare(df: pd.DataFrame, outcome: str, where: str) -> tuple[np.ndarray, dict, list[str]]:
    """Automatable mask (contracts.md rule) plus counts of what is escalated regardless."""
    conf = df["confidence"].to_numpy(dtype=float, na_value=np.nan)
    status = df["status"].astype("string").fillna("").to_numpy(dtype=object)
    deferred = df["deferred"].fillna(False).to_numpy(dtype=bool)
    y_raw = df[outcome]
    ok = status == "ok"
    finite = np.isfinite(conf)
    check_confidence_range(conf, ok, df["case_id"].to_numpy() if "case_id" in df.columns else None, where)
    y_missing = y_raw.isna().to_numpy()
    automatable = ok & ~deferred & finite & ~y_missing
    warnings = []
    nan_conf = int((ok & ~deferred & ~finite).sum())
    if nan_conf:
        warnings.append(f"{nan_conf} valid decision(s) without a confidence: escalated and left out of the metrics")
    if int((ok & ~deferred & finite & y_missing).sum()):
        warnings.append(f"{int((ok & ~deferred & finite & y_missing).sum())} row(s) without `{outcome}`: left out")
    excluded = {"invalid": int((status == "invalid").sum()), "failed": int((status == "failed").sum()),
                "deferred": int((ok & deferred).sum()), "no_confidence": nan_conf,
                "no_outcome": int((ok & ~deferred & finite & y_missing).sum())}
    return automatable, excluded, warnings


def _signals(df: pd.DataFrame, rows: np.ndarray, conf: np.ndarray, signals: list[str]) -> tuple[np.ndarray, list[str]]:
    cols, used = [], []
    for s in signals:
        if s not in df.columns:
            continue
        v = df[s].to_numpy(dtype=float, na_value=np.nan)[rows]
        if np.isfinite(v).any():
            # a missing signal falls back to the row's chosen confidence: keeps the row, stays in [0, 1]
            cols.append(np.clip(np.where(np.isfinite(v), v, conf), 0, 1))
            used.append(s)
    if not cols:
        return conf.reshape(-1, 1), ["confidence"]
    return np.column_stack(cols), used


def calibrate_frame(df: pd.DataFrame, *, spec: CalibrationSpec, economics: EconomicsSpec | None = None,
                    config: str = "", where: str = "scores") -> ConfigCalibration:
    """Calibrate the rows of one configuration (all rows: invalid/failed/deferred count as escalated)."""
    check_columns(df, spec.outcome, where)
    auto_mask, excluded, warnings = _prepare(df, spec.outcome, where)
    rows = np.flatnonzero(auto_mask)
    conf = df["confidence"].to_numpy(dtype=float, na_value=np.nan)[rows]
    y = df[spec.outcome].to_numpy(dtype=float, na_value=np.nan)[rows]
    err = y < 0.5
    seg_all = df["segment"].astype("string").fillna("(none)").to_numpy(dtype=object)
    seg = seg_all[rows]
    seg_total = {s: int(m.sum()) for s, m in segment_masks(seg_all).items()}
    masks = segment_masks(seg, sorted(seg_total))
    n_total, n_a = len(df), rows.size
    if n_a == 0:
        warnings.append("no automatable rows (valid, not deferred, with confidence): everything is escalated")
    metrics = compute_metrics(conf, y, n_bins=spec.bins, bootstrap=spec.bootstrap, seed=spec.seed) if n_a else None
    seg_metrics = {s: compute_metrics(conf[m], y[m], n_bins=spec.bins, bootstrap=spec.bootstrap, seed=spec.seed)
                   for s, m in sorted(masks.items()) if m.any()}
    # --- recalibration, cross-fitted; per segment where the data allow
    fold, k = make_folds(err.astype(int), folds=spec.folds, seed=spec.seed)
    final, oof, fit_method, evaluation, recal_warnings = _recalibrate(df, rows, conf, y, fold, k, masks, spec)
    warnings += recal_warnings
    metrics_recal = (compute_metrics(oof, y, n_bins=spec.bins, bootstrap=spec.bootstrap, seed=spec.seed)
                     if n_a and fit_method != "identity" else None)
    # --- thresholds with a guarantee
    grid = make_grid(spec.grid, spec.grid_step, conf)
    cert = (certify(conf, err, seg, seg_total, grid, mode=spec.mode, alpha=spec.alpha, delta=spec.delta,
                    min_segment_n=spec.min_segment_n, never_automate=spec.never_automate)
            if spec.alpha is not None else None)
    # --- cost-optimal threshold
    cost = None
    if economics is not None:
        err_cost = np.zeros(n_a)
        for s, m in masks.items():  # one lookup per segment, not per case
            err_cost[m] = economics.error_cost_for(s)
        cost = _cost(conf, err, err_cost, masks, seg_total, fold, k, grid, cert, economics.review_cost,
                     oof, final if fit_method != "logistic" else None)
    res = ConfigCalibration(config=config, n=n_total, n_automatable=int(n_a), excluded=excluded, metrics=metrics,
                            metrics_recalibrated=metrics_recal, segment_metrics=seg_metrics, recalibration=final,
                            certification=cert, cost_optimal=cost,
                            warnings=warnings + (cert.notes if cert else []) + (metrics.warnings if metrics else []))
    res.document = _document(res, spec, evaluation, fit_method)
    return res


def _recalibrate(df: pd.DataFrame, rows: np.ndarray, conf: np.ndarray, y: np.ndarray, fold: np.ndarray, k: int,
                 masks: dict[str, np.ndarray], spec: CalibrationSpec) -> tuple[dict, np.ndarray, str, str, list[str]]:
    """(exported map with its per-segment maps, out-of-fold scores, fit method, evaluation note, warnings)."""
    n_a = conf.size
    warnings: list[str] = []
    method = spec.method
    if method == "auto":
        method = "isotonic" if n_a >= spec.isotonic_min_n else "platt"
    if method == "none" or n_a < MIN_RECAL_N:
        if method != "none":
            warnings.append(f"only {n_a} automatable rows (< {MIN_RECAL_N}): no recalibration (identity map)")
        method = "identity"
    x, feats = (_signals(df, rows, conf, spec.signals) if method == "multi" else (conf, ["confidence"]))
    fit_method = "logistic" if method == "multi" else method
    oof, notes = (cross_fit(x, y, fold, k, method=fit_method, features=feats) if n_a else (conf.copy(), []))
    final = fit_map(x, y, method=fit_method, features=feats)
    evaluation = (f"out of fold: {k}-fold stratified cross-fitting (seed {spec.seed}); "
                  "no in-sample recalibrated metric is reported")
    final.update({"fitted_on_n": int(n_a), "outcome": spec.outcome, "evaluation": evaluation, "fold_notes": notes})
    if fit_method == "identity" or not n_a:
        return final, oof, fit_method, evaluation, warnings

    pooled_oof = oof
    oof, seg_maps = segment_maps(x, y, fold, k, masks, method=fit_method, features=feats, pooled_oof=oof)
    own = [s for s, m in seg_maps.items() if m["method"] != "pooled"]
    final["segments"] = seg_maps
    final["per_segment"] = {
        "rule": (f"a segment with at least {SEGMENT_MIN_N} automatable cases gets its own map (same method, "
                 "cross-fitted on the same folds); the others use the pooled map (the top-level map)"),
        "own_map": own, "pooled": [s for s in seg_maps if s not in own],
        # The comparison that justifies the per-segment maps (or not), both out of fold: ECE within
        # each segment, weighted by its cases (a pooled ECE hides segments that cancel out).
        "ece_within_segments_out_of_fold": {"pooled_map": _ece_within(pooled_oof, y, masks, spec.bins),
                                            "per_segment_maps": _ece_within(oof, y, masks, spec.bins)},
    }
    return final, oof, fit_method, evaluation, warnings


def _ece_within(p: np.ndarray, y: np.ndarray, masks: dict[str, np.ndarray], bins: int) -> float | None:
    parts = [(int(m.sum()), ece(p[m], y[m], n_bins=bins)) for m in masks.values() if m.any()]
    total = sum(n for n, _ in parts)
    return float(sum(n * e for n, e in parts) / total) if total else None


def _cost(conf, err, err_cost, masks, seg_total, fold, k, grid, cert, review, oof, fmap) -> dict:
    n_total = int(sum(seg_total.values()))
    if cert is None:
        return cost_optimal(conf, err, err_cost, fold, k, candidates=grid, review_cost=review,
                            n_total=n_total, p_oof=oof, final_map=fmap, certified=False)
    if cert.mode != "per_segment":
        cand = np.asarray(cert.overall.certified_thresholds)
        keep = np.logical_or.reduce([np.zeros(conf.size, bool)]
                                    + [masks[s] for s, v in cert.segments.items() if not v.get("excluded")])
        return cost_optimal(conf[keep], err[keep], err_cost[keep], fold[keep], k, candidates=cand,
                            review_cost=review, n_total=n_total, p_oof=oof[keep], final_map=fmap)
    out: dict[str, Any] = {"segments": {}}
    for s, r in cert.segment_results.items():
        m = masks[s]
        out["segments"][s] = cost_optimal(conf[m], err[m], err_cost[m], fold[m], k,
                                          candidates=np.asarray(r.certified_thresholds), review_cost=review,
                                          n_total=seg_total[s], p_oof=oof[m],
                                          final_map=map_for(fmap, s) if fmap is not None else None)
    return out


def _thin(values: list[float], cap: int = 500) -> list[float]:
    """At most ``cap`` values (a "distinct" grid can certify 100k thresholds); ends always kept."""
    if len(values) <= cap:
        return values
    idx = np.unique(np.linspace(0, len(values) - 1, cap).round().astype(int))
    return [values[i] for i in idx]


def _document(r: ConfigCalibration, spec: CalibrationSpec, evaluation: str, fit_method: str) -> dict:
    cert = r.certification
    doc: dict[str, Any] = {"n": r.n, "n_automatable": r.n_automatable, "escalated_always": r.excluded,
                           "recalibration": r.recalibration, "warnings": r.warnings}
    calibrable = fit_method != "logistic"
    if cert is not None and cert.overall is not None:
        o = cert.overall
        doc.update({"threshold": o.threshold, "certified": o.certified, "n_automated": int(cert.automated.sum()),
                    "n_errors": o.n_errors, "coverage": o.coverage, "error_rate": o.error_rate,
                    "risk_upper_bound": o.risk_upper_bound, "message": o.message,
                    "p_value_path": [[p["threshold"], p["p_value"]] for p in o.path], "path": o.path,
                    "certified_thresholds": _thin(o.certified_thresholds),
                    "certified_range": ([min(o.certified_thresholds), max(o.certified_thresholds)]
                                        if o.certified_thresholds else None),
                    "cases_needed": o.cases_needed,
                    "n_min_automated": o.n_min})
    elif cert is not None:
        from evalkit.calibrate._bins import rate

        err_auto = int(sum(v["n_errors"] for v in cert.segments.values()))
        na = int(cert.automated.sum())
        doc.update({"threshold": None, "certified": any(v.get("certified") for v in cert.segments.values()),
                    "n_automated": na, "n_errors": err_auto, "coverage": rate(na, r.n),
                    "error_rate": rate(err_auto, na), "risk_upper_bound": None,
                    "message": "per-segment thresholds: see `segments`; top-level threshold is null by design"})
    if cert is not None:
        thr = doc.get("threshold")
        doc["threshold_calibrated"] = (float(apply_map(r.recalibration, np.array([thr]))[0])
                                       if thr is not None and calibrable else None)
        for seg, v in cert.segments.items():
            t = v.get("threshold")
            v["threshold_calibrated"] = (float(apply_map(map_for(r.recalibration, seg), np.array([t]))[0])
                                         if t is not None and calibrable else None)
        doc["segments"] = cert.segments
        doc["uncertified_segments"] = cert.uncertified
    doc["cost_optimal"] = r.cost_optimal
    doc["metrics"] = {
        "raw": r.metrics.to_json() if r.metrics else None,
        "recalibrated_out_of_fold": r.metrics_recalibrated.to_json() if r.metrics_recalibrated else None,
        "recalibrated_evaluation": evaluation,
        "segments": {s: m.to_json() for s, m in r.segment_metrics.items()},
    }
    return doc

