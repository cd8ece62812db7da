"""Bin assignment and proportion intervals shared by the calibration metrics.

Bin-edge convention (documented in docs/statistics.md): bins are **left-closed**,
``[m/M, (m+1)/M)``, and the last bin is closed ``[(M-1)/M, 1]``. A case in the bin
starting at t is exactly a case automated at threshold t (``confidence >= t``), so a
verbalised 0.7 lands in ``[0.7, 0.8)``. Confidences are snapped to integer ticks of
1e-9 before binning, so ``0.7 * 10 == 7.000000000000001`` cannot move it across an edge.
"""

from __future__ import annotations

import numpy as np

from evalkit.stats import TICKS, to_ticks, width_bins, wilson_interval  # noqa: F401  (re-exported)

wilson = wilson_interval
"""The Wilson interval (evalkit.stats), vectorised; NaN where n == 0."""


def mass_bins(conf: np.ndarray, n_bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Equal-mass bins: (bin index per case, lower edges).

    Lower edges are the sorted confidences at ranks ceil(j*n/M), j = 1..M-1 (bins are
    left-closed on them). Tied confidences always share a bin, so with heavy ties (verbalised
    levels) there are fewer than M bins; duplicate edges are dropped.
    """
    n = conf.size
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    ticks = to_ticks(conf)
    sorted_ticks = np.sort(ticks)
    ranks = -(-np.arange(1, n_bins) * n // n_bins)  # ceil(j*n/M)
    ranks = ranks[(ranks > 0) & (ranks < n)]
    edges = np.unique(sorted_ticks[ranks])
    edges = edges[edges > sorted_ticks[0]]  # a first edge at the minimum would leave bin 0 empty
    idx = np.searchsorted(edges, ticks, side="right")
    return idx.astype(np.int64), np.concatenate([[sorted_ticks[0]], edges]) / TICKS


def rate(k: int, n: int) -> dict:
    """A rate as the project-wide ``{"value", "lo", "hi", "n", "k"}`` dict (95% Wilson, evalkit.stats)."""
    from evalkit.stats import wilson as wilson_estimate

    return wilson_estimate(k, n).to_dict()


def cp_upper(k: np.ndarray | int, n: np.ndarray | int, delta: float) -> np.ndarray:
    """One-sided Clopper-Pearson upper bound at confidence 1 - delta (1 where k == n or n == 0)."""
    from scipy.stats import beta

    k_arr = np.asarray(k, dtype=float)
    n_arr = np.asarray(n, dtype=float)
    full = (k_arr >= n_arr) | (n_arr <= 0)
    b = np.where(full, 1.0, n_arr - k_arr)
    u = beta.ppf(1 - delta, k_arr + 1, b)
    return np.where(full, 1.0, u)


def binom_pvalue(k: np.ndarray | int, n: np.ndarray | int, alpha: float) -> np.ndarray:
    """Exact p-value of H0: risk > alpha given k errors in n, P(Bin(n, alpha) <= k); 1 where n == 0."""
    from scipy.stats import binom

    n_arr = np.asarray(n)
    return np.where(n_arr > 0, binom.cdf(np.asarray(k), n_arr, alpha), 1.0)


def n_min_zero_errors(alpha: float, delta: float) -> int:
    """Fewest automated cases for which zero errors certifies alpha at delta: ceil(ln d / ln(1-a))."""
    return int(np.ceil(np.log(delta) / np.log1p(-alpha) - 1e-12))


def segment_masks(seg: np.ndarray, names: list[str] | None = None) -> dict[str, np.ndarray]:
    """Boolean mask per segment label, via one hash factorisation (no per-segment string compares)."""
    import pandas as pd

    codes, uniq = pd.factorize(np.asarray(seg, dtype=object))
    out = {str(u): codes == i for i, u in enumerate(uniq)}
    for name in names or []:
        out.setdefault(name, np.zeros(codes.size, dtype=bool))
    return out
