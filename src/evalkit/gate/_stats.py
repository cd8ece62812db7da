"""Statistics shared by the gate and the report.

Intervals and the paired per-segment test come from ``evalkit.score`` (Wilson;
``compare``: McNemar exact, Holm across segments, Newcombe paired interval) so the
gate, the report and ``evalkit compare`` always agree. Here only: the adapter to
this package's ``Estimate``, ECE and bootstrap quantile intervals.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd


@dataclass(frozen=True, kw_only=True)
class Estimate:
    """A value with its 95% interval and the n it rests on (interval may be unknown: NaN)."""

    value: float | None
    lo: float | None = None
    hi: float | None = None
    n: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in asdict(self).items()}


def wilson(k: int, n: int) -> Estimate:
    """Wilson score interval (evalkit.score's); no data is an unknown rate, not 0."""
    from evalkit.score import wilson as _wilson

    if n <= 0:
        return Estimate(value=None, lo=None, hi=None, n=0)
    lo, hi = _wilson(k, n)
    return Estimate(value=k / n, lo=float(lo), hi=float(hi), n=int(n))


def rate(mask: pd.Series | np.ndarray) -> Estimate:
    arr = np.asarray(mask, dtype=bool)
    return wilson(int(arr.sum()), int(arr.size))


def outcome_mask(df: pd.DataFrame, outcome: str) -> pd.Series:
    """`good`/`correct` as plain bools; missing values count as not good (an invalid row is not good)."""
    return df[outcome].astype("boolean").fillna(False).astype(bool)


OVERALL = "(all segments)"


def paired_segment_compare(base: pd.DataFrame, cand: pd.DataFrame, *, outcome: str = "good",
                           alpha: float = 0.05, correction: str = "holm", include_overall: bool = False,
                           base_dataset: dict[str, Any] | None = None,
                           cand_dataset: dict[str, Any] | None = None) -> pd.DataFrame:
    """Per-segment paired comparison of one candidate config against one baseline config.

    Delegates to ``evalkit.score.compare`` (cases paired on ``case_id``). Returns one
    row per segment (plus ``OVERALL`` first when asked; its p-value is never adjusted)
    with columns: segment, n, base, cand, diff, diff_lo, diff_hi, b (base good -> cand
    not), c (base not -> cand good), p_value, p_adjusted, significant.
    ``correction="none"`` uses the raw p-values.
    """
    from evalkit.score import ALL, compare

    cmp = compare(base, cand, outcome=outcome, alpha=alpha, base_dataset=base_dataset,
                  cand_dataset=cand_dataset)
    t = cmp.rows(outcome)
    if not include_overall:
        t = t[t["segment"] != ALL]
    out = pd.DataFrame({
        "segment": t["segment"].astype(str).replace({ALL: OVERALL}).to_numpy(),
        "n": t["n"].to_numpy(), "base": t["base_rate"].to_numpy(), "cand": t["cand_rate"].to_numpy(),
        "diff": t["diff"].to_numpy(), "diff_lo": t["diff_lo"].to_numpy(), "diff_hi": t["diff_hi"].to_numpy(),
        "b": t["b"].to_numpy(), "c": t["c"].to_numpy(), "p_value": t["p_value"].to_numpy(),
        "p_adjusted": (t["p_value"] if correction == "none" else t["p_adjusted"]).to_numpy(),
    })
    out["significant"] = out["p_adjusted"] < alpha
    return out


def calibration_bins(confidence: np.ndarray, outcome: np.ndarray, bins: int = 10) -> pd.DataFrame:
    """Equal-width reliability bins: n, mean confidence, observed rate (with Wilson interval)."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    idx = np.clip(np.digitize(confidence, edges[1:-1], right=False), 0, bins - 1)
    rows = []
    for i in range(bins):
        sel = idx == i
        n = int(sel.sum())
        if n == 0:
            continue
        est = wilson(int(outcome[sel].sum()), n)
        rows.append({"lo_edge": edges[i], "hi_edge": edges[i + 1], "n": n,
                     "confidence": float(confidence[sel].mean()), "observed": est.value,
                     "obs_lo": est.lo, "obs_hi": est.hi})
    return pd.DataFrame(rows)


def expected_calibration_error(confidence: np.ndarray, outcome: np.ndarray, *, bins: int = 10,
                               resamples: int = 200, seed: int = 7) -> Estimate:
    """ECE (equal-width bins) with a bootstrap percentile interval."""
    confidence = np.asarray(confidence, dtype=float)
    outcome = np.asarray(outcome, dtype=float)
    n = confidence.size
    if n == 0:
        return Estimate(value=None, n=0)
    try:  # the calibrate package's bin convention, so both report the same number
        from evalkit.calibrate import width_bins

        idx = np.asarray(width_bins(confidence, bins), dtype=int)
    except ImportError:
        edges = np.linspace(0.0, 1.0, bins + 1)
        idx = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)

    def ece_of(sample: np.ndarray) -> float:
        b = idx[sample]
        conf_sum = np.bincount(b, weights=confidence[sample], minlength=bins)
        out_sum = np.bincount(b, weights=outcome[sample], minlength=bins)
        return float(np.abs(conf_sum - out_sum).sum() / sample.size)

    value = ece_of(np.arange(n))
    rng = np.random.default_rng(seed)
    boots = [ece_of(rng.integers(0, n, n)) for _ in range(resamples)]
    lo, hi = np.quantile(boots, [0.025, 0.975])
    return Estimate(value=value, lo=float(lo), hi=float(hi), n=int(n))


def quantile_interval(values: np.ndarray, q: float, *, resamples: int = 200, seed: int = 7) -> Estimate:
    """Quantile with a bootstrap percentile interval (resampled in chunks to bound memory)."""
    values = np.asarray(values, dtype=float)
    n = values.size
    if n == 0:
        return Estimate(value=None, n=0)
    value = float(np.quantile(values, q))
    rng = np.random.default_rng(seed)
    boots: list[np.ndarray] = []
    chunk = max(1, 2_000_000 // n)
    done = 0
    while done < resamples:
        k = min(chunk, resamples - done)
        boots.append(np.quantile(values[rng.integers(0, n, (k, n))], q, axis=1))
        done += k
    lo, hi = np.quantile(np.concatenate(boots), [0.025, 0.975])
    return Estimate(value=value, lo=float(lo), hi=float(hi), n=int(n))


def calibration_population(df: pd.DataFrame) -> pd.Series:
    """Rows calibration is about (as evalkit.calibrate): valid, not deferred, with a confidence."""
    deferred = df["deferred"].astype("boolean").fillna(False).astype(bool) if "deferred" in df else False
    conf = df["confidence"] if "confidence" in df else pd.Series(np.nan, index=df.index)
    return (df["status"].astype(str) == "ok") & ~deferred & conf.notna()


def ece_estimate(df: pd.DataFrame, *, outcome: str = "good", bins: int = 10,
                 thresholds_entry: dict[str, Any] | None = None) -> tuple[Estimate | None, str]:
    """ECE of one config: from thresholds.json (evalkit.calibrate's equal-width ECE and its
    bootstrap interval) when present for this bin count, else computed here. Returns (estimate, source)."""
    raw = ((thresholds_entry or {}).get("metrics") or {}).get("raw") or {}
    if bins == 10 and raw.get("ece_width") is not None:
        ci = raw.get("ece_width_ci") or [None, None]
        return Estimate(value=float(raw["ece_width"]), lo=ci[0], hi=ci[1], n=int(raw.get("n") or 0)), \
            "thresholds.json"
    sel = calibration_population(df)
    if not sel.any():
        return None, "no valid, non-deferred rows with a confidence"
    sub = df[sel]
    est = expected_calibration_error(sub["confidence"].to_numpy(dtype=float), outcome_mask(sub, outcome).to_numpy(),
                                     bins=bins, resamples=100)
    return est, "computed from scores.parquet"
