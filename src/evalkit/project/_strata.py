"""Post-stratification: from the dataset's segment mix to the production mix.

The dataset over-weights edge cases on purpose, so a raw dataset rate is not a production
rate. Each case in segment s gets weight w = pi_s / p_s (p_s = n_s / n its dataset share);
the weighted mean equals sum_s pi_s * mean_s. Kish n_eff = (sum w)^2 / sum w^2.

Segments with production share > 0 and no cases cannot be estimated: they are left out,
the remaining shares renormalised, and the omission reported (``unestimated_share``).
Segments with fewer than ``min_cases`` cases are kept but flagged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True, kw_only=True)
class Strata:
    """Segment structure of one configuration's rows under a production mix."""

    names: tuple[str, ...]
    """Estimable segments (share > 0 and at least one case), in code order."""
    codes: np.ndarray
    """Per row: index into ``names``, or -1 when the row's segment has production share 0."""
    counts: np.ndarray
    """Cases per estimable segment."""
    pi: np.ndarray
    """Production share per estimable segment, renormalised to sum to 1."""
    flagged: dict[str, str]
    """Segment -> why it does not support the projection (too few cases, or none)."""
    unestimated_share: float
    """Production share of segments with no cases (left out of every estimate)."""
    unmixed: tuple[str, ...]
    """Dataset segments absent from the production mix (share 0; check for typos)."""

    @property
    def n(self) -> int:
        return int(self.counts.sum())

    def row_weights(self) -> np.ndarray:
        """Self-normalised importance weight per row (0 for rows outside the mix)."""
        per_seg = self.pi / self.counts * self.n
        w = np.zeros(len(self.codes))
        inside = self.codes >= 0
        w[inside] = per_seg[self.codes[inside]]
        return w

    @property
    def ess(self) -> float:
        return kish_ess_from_strata(self.counts, self.pi)


def build_strata(segments: np.ndarray, mix: dict[str, float], *, min_cases: int) -> Strata:
    """Map each row's segment to a stratum; flag thin or empty segments."""
    # factorize hashes instead of sorting strings: matters at a million rows
    inverse, uniques = pd.factorize(pd.Series(segments, copy=False).astype(str), sort=True)
    seg_names = np.asarray(uniques, dtype=object)
    seg_counts = np.bincount(inverse, minlength=len(seg_names))
    present = dict(zip(seg_names.tolist(), seg_counts.tolist()))
    flagged: dict[str, str] = {}
    names: list[str] = []
    for seg, share in mix.items():
        if share <= 0:
            continue
        n_s = present.get(seg, 0)
        if n_s == 0:
            flagged[seg] = f"no cases in the dataset (production share {share:.3g} not estimated)"
            continue
        if n_s < min_cases:
            flagged[seg] = f"only {n_s} cases (< {min_cases}); its estimate is unreliable"
        names.append(seg)
    estimable_share = sum(mix[s] for s in names)
    unestimated = sum(v for k, v in mix.items() if v > 0 and k not in names)
    index = {s: i for i, s in enumerate(names)}
    seg_to_code = np.array([index.get(s, -1) for s in seg_names.tolist()], dtype=np.int64)
    codes = seg_to_code[inverse] if len(seg_names) else np.zeros(0, dtype=np.int64)
    counts = np.array([present[s] for s in names], dtype=np.int64)
    pi = np.array([mix[s] for s in names], dtype=float)
    pi = pi / estimable_share if estimable_share > 0 else pi
    unmixed = tuple(s for s in seg_names.tolist() if s not in mix)
    return Strata(names=tuple(names), codes=codes, counts=counts, pi=pi, flagged=flagged,
                  unestimated_share=float(unestimated), unmixed=unmixed)


def kish_ess(weights: np.ndarray) -> float:
    """Kish effective sample size (sum w)^2 / sum w^2."""
    w = np.asarray(weights, dtype=float)
    sq = float(np.sum(w * w))
    return float(np.sum(w) ** 2 / sq) if sq > 0 else 0.0


def kish_ess_from_strata(counts: np.ndarray, pi: np.ndarray) -> float:
    """n / sum_s (pi_s^2 / p_s): Kish ESS of post-stratification weights, without per-row arrays."""
    counts = np.asarray(counts, dtype=float)
    n = counts.sum()
    if n == 0:
        return 0.0
    return float(n / np.sum(np.asarray(pi) ** 2 / (counts / n)))


def post_stratified_mean(values: np.ndarray, strata: Strata) -> float:
    """sum_s pi_s * mean(values in s); rows outside the mix are ignored."""
    values = np.asarray(values, dtype=float)
    inside = strata.codes >= 0
    sums = np.bincount(strata.codes[inside], weights=values[inside], minlength=len(strata.names))
    return float(np.sum(strata.pi * sums / strata.counts))


def segment_counts(strata: Strata, category: np.ndarray, n_categories: int) -> np.ndarray:
    """(segments, categories) count table of an integer category per row."""
    inside = strata.codes >= 0
    flat = strata.codes[inside] * n_categories + category[inside]
    table = np.bincount(flat, minlength=len(strata.names) * n_categories)
    return table.reshape(len(strata.names), n_categories)
