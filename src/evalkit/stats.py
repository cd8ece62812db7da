"""The statistics every stage shares, implemented once (see docs/statistics.md).

* ``Estimate``: a value with its 95% interval and the n (and k) it rests on.
* Wilson score interval (statsmodels' ``proportion_confint`` formula, without importing it), vectorised
  (``wilson_interval``)
  and as an ``Estimate`` (``wilson``, ``rate``).
* The confidence-bin convention (``to_ticks``, ``width_bins``): left-closed ``[m/M, (m+1)/M)``,
  last bin closed, confidences snapped to 1e-9 ticks so a value on an edge lands in the bin
  starting there - exactly the cases automated at that threshold.
* Reliability bins and ECE (equal-width bins), with a bootstrap interval.
* The automation rule: a case is automated at threshold t iff its call succeeded, the model did
  not defer, and ``confidence >= t`` (on 1e-9 ticks); a ``None`` threshold escalates everything.
* Number formatting for consoles and reports lives in ``evalkit.formatting``.

Low layer: imports only numpy (pandas/statsmodels lazily), never another evalkit package.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

Z_LEVEL = 0.05
"""95% intervals everywhere."""
ALL = "ALL"
"""The overall (all segments) row's segment label, everywhere."""
TICKS = 1_000_000_000
"""Confidence resolution: 1e-9, far below any meaningful confidence difference."""


@dataclass(frozen=True, kw_only=True)
class Estimate:
    """A value with its 95% interval and the n it rests on (``None`` = unknown, never 0)."""

    value: float | None
    lo: float | None = None
    hi: float | None = None
    n: int = 0
    k: int | None = None
    """Successes behind a proportion (None for estimates that are not counts)."""

    def to_dict(self) -> dict[str, Any]:
        out = {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in asdict(self).items()}
        if out["k"] is None:
            del out["k"]
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> Estimate | None:
        if not d:
            return None
        return cls(value=d.get("value"), lo=d.get("lo"), hi=d.get("hi"), n=int(d.get("n") or 0), k=d.get("k"))


_Z_TWO_SIDED = {0.05: 1.9599639845400545, 0.1: 1.6448536269514729, 0.01: 2.575829303548901}
"""``scipy.stats.norm.isf(alpha / 2)`` exactly, for the usual levels (no scipy import on the hot path)."""


def _wilson_limits(k: np.ndarray, n: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    # statsmodels' proportion_confint(method="wilson"), operation for operation: identical floats.
    crit = _Z_TWO_SIDED.get(alpha)
    if crit is None:
        from statsmodels.stats.proportion import proportion_confint

        lo, hi = proportion_confint(k, n, alpha=alpha, method="wilson")
        return np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)
    q = k / n
    crit2 = crit**2
    denom = 1 + crit2 / n
    center = (q + crit2 / (2 * n)) / denom
    dist = crit * np.sqrt(q * (1.0 - q) / n + crit2 / (4.0 * n**2))
    dist /= denom
    return center - dist, center + dist


def wilson_interval(k: Any, n: Any, alpha: float = Z_LEVEL) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval, vectorised; NaN where n == 0 (no data is not a rate of 0)."""
    k_arr = np.asarray(k, dtype=float)
    n_arr = np.asarray(n, dtype=float)
    safe_n = np.where(n_arr > 0, n_arr, 1.0)
    lo, hi = _wilson_limits(k_arr, safe_n, alpha)
    lo = np.where(n_arr > 0, np.clip(lo, 0.0, 1.0), np.nan)
    hi = np.where(n_arr > 0, np.clip(hi, 0.0, 1.0), np.nan)
    return np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)


def wilson(k: int, n: int) -> Estimate:
    """k/n with its 95% Wilson interval; n == 0 is an unknown rate, not 0."""
    k, n = int(k), int(n)
    if n <= 0:
        return Estimate(value=None, lo=None, hi=None, n=0, k=0)
    lo, hi = wilson_interval(k, n)
    # statsmodels leaves ~1e-19 at k == 0 (and 1 - 1e-16 at k == n): the exact limits are 0 and 1
    return Estimate(value=k / n, lo=0.0 if k == 0 else float(lo), hi=1.0 if k == n else float(hi), n=n, k=k)


def exact_interval(k: Any, n: Any, alpha: float = Z_LEVEL) -> tuple[np.ndarray, np.ndarray]:
    """Clopper-Pearson (exact) interval, vectorised; NaN where n == 0. Never below nominal coverage,
    so it is the interval for rare-event rates (errors among automated cases), where the
    percentile bootstrap collapses to [0, 0] and Wilson undercovers near k = 1, 2."""
    from scipy.stats import beta

    k_arr = np.asarray(k, dtype=float)
    n_arr = np.asarray(n, dtype=float)
    has = n_arr > 0
    safe_n = np.where(has, n_arr, 1.0)
    with np.errstate(invalid="ignore"):
        lo = np.where(k_arr > 0, beta.ppf(alpha / 2, np.maximum(k_arr, 1e-300), safe_n - k_arr + 1), 0.0)
        hi = np.where(k_arr < safe_n, beta.ppf(1 - alpha / 2, k_arr + 1, np.maximum(safe_n - k_arr, 1e-300)), 1.0)
    return np.where(has, lo, np.nan), np.where(has, hi, np.nan)


def exact(k: int, n: int) -> Estimate:
    """k/n with its 95% Clopper-Pearson interval (n == 0: unknown)."""
    k, n = int(k), int(n)
    if n <= 0:
        return Estimate(value=None, lo=None, hi=None, n=0, k=0)
    lo, hi = exact_interval(k, n)
    return Estimate(value=k / n, lo=float(lo), hi=float(hi), n=n, k=k)


def stratified(k: Any, n: Any, weights: Any, *, alpha: float = Z_LEVEL, exact_limits: bool = True) -> Estimate:
    """sum_s w_s * k_s / n_s (weights normalised) with a MOVER interval (Zou & Donner 2008):
    the stratum limits (Clopper-Pearson, or Wilson) recovered into limits for the weighted sum.
    Unknown when a stratum with positive weight has no cases. Used for rates mixed to a
    production mix, where a percentile bootstrap of rare events collapses."""
    k_arr, n_arr, w = (np.asarray(v, dtype=float) for v in (k, n, weights))
    use = w > 0
    if not use.any() or (n_arr[use] <= 0).any():
        return Estimate(value=None, n=int(n_arr.sum()), k=int(k_arr.sum()))
    k_arr, n_arr, w = k_arr[use], n_arr[use], w[use] / w[use].sum()
    p = k_arr / n_arr
    lo_s, hi_s = (exact_interval if exact_limits else wilson_interval)(k_arr, n_arr, alpha)
    est = float(w @ p)
    lo = est - float(np.sqrt(np.sum((w * (p - lo_s)) ** 2)))
    hi = est + float(np.sqrt(np.sum((w * (hi_s - p)) ** 2)))
    return Estimate(value=est, lo=max(0.0, lo), hi=min(1.0, hi), n=int(n_arr.sum()), k=int(k_arr.sum()))


def rate(mask: Any) -> Estimate:
    """The share of true values of a boolean array, with its Wilson interval."""
    arr = np.asarray(mask, dtype=bool)
    return wilson(int(arr.sum()), int(arr.size))


def outcome_mask(df: Any, outcome: str) -> Any:
    """``good``/``correct`` as plain bools; missing values count as not good (an invalid row is not good)."""
    return df[outcome].astype("boolean").fillna(False).astype(bool)


def to_ticks(x: Any) -> np.ndarray:
    """Confidence (or threshold) as an int64 count of 1e-9 ticks."""
    return np.rint(np.asarray(x, dtype=float) * TICKS).astype(np.int64)


def width_bins(conf: Any, n_bins: int) -> np.ndarray:
    """Equal-width bin index in 0..n_bins-1, left-closed, last bin closed, exact on edges."""
    ticks = to_ticks(conf)
    idx = (ticks * n_bins) // TICKS  # integer floor; products stay < 2**63 for n_bins <= 100
    return np.clip(idx, 0, n_bins - 1).astype(np.int64)


def automated(*, ok: Any, deferred: Any, confidence: Any, threshold: Any) -> np.ndarray:
    """The automation rule: ok, not deferred, and ``confidence >= threshold`` (1e-9 ticks).

    ``threshold``: one value, or one per row (per-segment thresholds); ``None``/NaN escalates
    (everything, or that row). A missing (NaN) confidence is never automated.
    """
    conf = np.asarray(confidence, dtype=float)
    if threshold is None:
        return np.zeros(conf.shape, dtype=bool)
    thr = np.asarray(threshold, dtype=float)
    usable = np.isfinite(conf) & np.isfinite(thr)
    above = to_ticks(np.where(np.isfinite(conf), conf, 0.0)) >= to_ticks(np.where(np.isfinite(thr), thr, 0.0))
    return np.asarray(ok, dtype=bool) & ~np.asarray(deferred, dtype=bool) & usable & above


def check_confidence_range(confidence: Any, ok: Any, case_ids: Any, where: str) -> None:
    """A valid decision's confidence is a probability: outside [0, 1] it is a data error (exit 2), said
    alike by every stage that applies thresholds (calibrate, project), never silently automated."""
    from evalkit.errors import DataError

    conf = np.asarray(confidence, dtype=float)
    bad = np.asarray(ok, dtype=bool) & np.isfinite(conf) & ((conf < 0) | (conf > 1))
    if bad.any():
        ids = np.asarray(case_ids, dtype=object)[bad][:5].tolist() if case_ids is not None \
            else np.flatnonzero(bad)[:5].tolist()
        raise DataError(f"{where}: confidence outside [0, 1] in {int(bad.sum())} row(s)",
                        problems=[f"case {i}" for i in ids])


def automatable(df: Any) -> Any:
    """Rows the automation rule can automate (and calibration is about): ok, not deferred, with a confidence."""
    import pandas as pd

    deferred = df["deferred"].astype("boolean").fillna(False).astype(bool) if "deferred" in df else False
    conf = df["confidence"] if "confidence" in df else pd.Series(np.nan, index=df.index)
    return (df["status"].astype(str) == "ok") & ~deferred & conf.notna()


def bin_sums(idx: Any, confidence: Any, outcome: Any, m: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per bin (``idx``: each case's bin, 0..m-1): case count, confidence sum, outcome sum."""
    count = np.bincount(idx, minlength=m).astype(float)
    return count, np.bincount(idx, weights=confidence, minlength=m), np.bincount(idx, weights=outcome, minlength=m)


def ece_from_sums(confidence_sums: Any, outcome_sums: Any, n: float) -> Any:
    """ECE from per-bin sums: sum_b (n_b/n)|observed_b - confidence_b| = sum_b |outcome_b - confidence_b| / n.
    Works on (..., M) arrays (one ECE per bootstrap draw)."""
    return np.abs(np.asarray(outcome_sums) - np.asarray(confidence_sums)).sum(axis=-1) / n


def reliability_bins(confidence: Any, outcome: Any, bins: int = 10) -> Any:
    """Equal-width reliability bins (non-empty ones): edges, n, mean confidence, observed rate + Wilson."""
    import pandas as pd

    confidence = np.asarray(confidence, dtype=float)
    outcome = np.asarray(outcome, dtype=float)
    cnt, conf_sum, out_sum = bin_sums(width_bins(confidence, bins), confidence, outcome, bins)
    lo, hi = wilson_interval(out_sum, cnt)
    rows = [{"lo_edge": i / bins, "hi_edge": (i + 1) / bins, "n": int(cnt[i]),
             "confidence": float(conf_sum[i] / cnt[i]), "observed": float(out_sum[i] / cnt[i]),
             "obs_lo": float(lo[i]), "obs_hi": float(hi[i])}
            for i in np.flatnonzero(cnt > 0)]
    return pd.DataFrame(rows, columns=["lo_edge", "hi_edge", "n", "confidence", "observed", "obs_lo", "obs_hi"])


def ece(confidence: Any, outcome: Any, *, bins: int = 10) -> float:
    """Expected calibration error: n-weighted |observed - confidence| over equal-width bins."""
    confidence = np.asarray(confidence, dtype=float)
    outcome = np.asarray(outcome, dtype=float)
    if confidence.size == 0:
        return math.nan
    _, conf_sum, out_sum = bin_sums(width_bins(confidence, bins), confidence, outcome, bins)
    return float(ece_from_sums(conf_sum, out_sum, confidence.size))


def ece_interval(confidence: Any, outcome: Any, *, bins: int = 10, resamples: int = 200, seed: int = 7) -> Estimate:
    """ECE with a bootstrap percentile interval."""
    confidence = np.asarray(confidence, dtype=float)
    outcome = np.asarray(outcome, dtype=float)
    n = confidence.size
    if n == 0:
        return Estimate(value=None, n=0)
    idx = width_bins(confidence, bins)

    def ece_of(sample: np.ndarray) -> float:
        _, conf_sum, out_sum = bin_sums(idx[sample], confidence[sample], outcome[sample], bins)
        return float(ece_from_sums(conf_sum, out_sum, sample.size))

    value = ece_of(np.arange(n))
    rng = np.random.default_rng(seed)
    boots = [ece_of(rng.integers(0, n, n)) for _ in range(resamples)]
    lo, hi = np.quantile(boots, [0.025, 0.975])
    return Estimate(value=value, lo=float(lo), hi=float(hi), n=int(n))


def _resample_chunks(resamples: int, n: int) -> Iterator[int]:
    """Sizes of bootstrap chunks: about two million draws each, so memory stays bounded."""
    chunk, done = max(1, 2_000_000 // max(n, 1)), 0
    while done < resamples:
        k = min(chunk, resamples - done)
        yield k
        done += k


def _resampled_quantiles(rng: np.random.Generator, values: np.ndarray, q: float, k: int) -> np.ndarray:
    """The q-quantile of each of k resamples (with replacement) of ``values``."""
    return np.quantile(values[rng.integers(0, values.size, (k, values.size))], q, axis=1)


def quantile_interval(values: Any, q: float, *, resamples: int = 200, seed: int = 7) -> Estimate:
    """Quantile with a bootstrap percentile interval (resampled in chunks to bound memory)."""
    values = np.asarray(values, dtype=float)
    n = values.size
    if n == 0:
        return Estimate(value=None, n=0)
    value = float(np.quantile(values, q))
    rng = np.random.default_rng(seed)
    boots = [_resampled_quantiles(rng, values, q, k) for k in _resample_chunks(resamples, n)]
    lo, hi = np.quantile(np.concatenate(boots), [0.025, 0.975])
    return Estimate(value=value, lo=float(lo), hi=float(hi), n=int(n))


def quantile_change_interval(cand: Any, base: Any, q: float, *, relative: bool, resamples: int = 200,
                             seed: int = 7) -> Estimate:
    """The change of the q-quantile from ``base`` to ``cand`` (relative: cand / base - 1; else the
    difference), with a 95% bootstrap percentile interval resampling both samples; n is the
    candidate's. A bound that is not finite (a resampled base quantile of 0) is unknown."""
    cand, base = np.asarray(cand, dtype=float), np.asarray(base, dtype=float)

    def change(c: Any, b: Any) -> Any:
        with np.errstate(divide="ignore", invalid="ignore"):
            return c / b - 1.0 if relative else c - b

    value = float(change(np.quantile(cand, q), np.quantile(base, q)))
    rng = np.random.default_rng(seed)
    boots = [change(_resampled_quantiles(rng, cand, q, k), _resampled_quantiles(rng, base, q, k))
             for k in _resample_chunks(resamples, max(cand.size, base.size))]
    with np.errstate(invalid="ignore"):  # infinite changes (a $0 base) make the bounds unknown below
        lo, hi = np.quantile(np.concatenate(boots), [0.025, 0.975])
    return Estimate(value=value, lo=float(lo) if np.isfinite(lo) else None,
                    hi=float(hi) if np.isfinite(hi) else None, n=int(cand.size))


__all__ = [
    "ALL",
    "TICKS",
    "Z_LEVEL",
    "Estimate",
    "automatable",
    "automated",
    "bin_sums",
    "ece",
    "ece_from_sums",
    "ece_interval",
    "exact",
    "exact_interval",
    "outcome_mask",
    "quantile_change_interval",
    "quantile_interval",
    "rate",
    "reliability_bins",
    "stratified",
    "to_ticks",
    "width_bins",
    "wilson",
    "wilson_interval",
]
