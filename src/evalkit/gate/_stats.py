"""Small statistics shared by the gate and the report: Wilson intervals, paired
McNemar tests with Holm correction, ECE, bootstrap quantile intervals.

Kept here (not in the report) because the gate is the lower layer: the report shows
gate results and the same per-segment significance marks, so both must agree.
When ``evalkit.score`` grows ``compare()`` the report/gate call it instead (see
``paired_segment_compare``) and this stays only as the fallback.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

Z95 = 1.959963984540054


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
    """Wilson score interval: behaves at 0% / 100% where Wald collapses to a point."""
    if n <= 0:
        return Estimate(value=None, lo=None, hi=None, n=0)
    p = k / n
    z2 = Z95 * Z95
    denom = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = Z95 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denom
    return Estimate(value=p, lo=max(0.0, centre - half), hi=min(1.0, centre + half), n=int(n))


def rate(mask: pd.Series | np.ndarray) -> Estimate:
    arr = np.asarray(mask, dtype=bool)
    return wilson(int(arr.sum()), int(arr.size))


def mcnemar_exact(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value from the discordant counts (binomial on b+c)."""
    # Exact binomial tail in log space; avoids importing scipy.stats (seconds of import
    # time) for one formula. Symmetric at p=0.5, so two-sided = 2 x lower tail.
    n = b + c
    if n == 0:
        return 1.0
    k = min(b, c)
    i = np.arange(k + 1)
    logs = (math.lgamma(n + 1) - np.vectorize(math.lgamma)(i + 1) - np.vectorize(math.lgamma)(n - i + 1)
            - n * math.log(2.0))
    top = logs.max()
    tail = math.exp(top) * float(np.exp(logs - top).sum())
    return min(1.0, 2.0 * tail)


def holm(pvalues: list[float]) -> list[float]:
    """Holm step-down adjusted p-values (monotone, capped at 1)."""
    m = len(pvalues)
    order = sorted(range(m), key=lambda i: pvalues[i])
    adjusted = [1.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * pvalues[i]))
        adjusted[i] = running
    return adjusted


def outcome_mask(df: pd.DataFrame, outcome: str) -> pd.Series:
    """`good`/`correct` as plain bools; missing values count as not good (an invalid row is not good)."""
    return df[outcome].astype("boolean").fillna(False).astype(bool)


def paired_segment_compare(base: pd.DataFrame, cand: pd.DataFrame, *, outcome: str = "good",
                           alpha: float = 0.05, correction: str = "holm") -> pd.DataFrame:
    """Per-segment paired comparison of one candidate config against one baseline config.

    Cases are paired on ``case_id`` (only cases present in both count). Returns one row
    per segment with columns: segment, n, base, cand, diff, diff_lo, diff_hi, b (base
    good -> cand not), c (base not -> cand good), p_value, p_adjusted, significant.
    """
    left = base[["case_id", "segment"]].assign(_b=outcome_mask(base, outcome).to_numpy())
    right = cand[["case_id"]].assign(_c=outcome_mask(cand, outcome).to_numpy())
    merged = left.merge(right, on="case_id", how="inner")
    rows = []
    for segment, grp in merged.groupby("segment", sort=True):
        bb, cc = grp["_b"].to_numpy(), grp["_c"].to_numpy()
        n = int(bb.size)
        b = int((bb & ~cc).sum())
        c = int((~bb & cc).sum())
        diff = (c - b) / n
        # Paired (Wald) variance of a difference of correlated proportions; good enough
        # for display, the decision itself rests on the exact test.
        var = max((b + c) / n - diff * diff, 0.0) / n
        half = Z95 * math.sqrt(var)
        rows.append({"segment": str(segment), "n": n, "base": float(bb.mean()), "cand": float(cc.mean()),
                     "diff": diff, "diff_lo": diff - half, "diff_hi": diff + half, "b": b, "c": c,
                     "p_value": mcnemar_exact(b, c)})
    out = pd.DataFrame(rows, columns=["segment", "n", "base", "cand", "diff", "diff_lo", "diff_hi",
                                      "b", "c", "p_value"])
    pvals = out["p_value"].tolist()
    out["p_adjusted"] = holm(pvals) if correction == "holm" else pvals
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
    edges = np.linspace(0.0, 1.0, bins + 1)
    idx = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)

    def ece_of(sample: np.ndarray) -> float:
        b = idx[sample]
        counts = np.bincount(b, minlength=bins)
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
