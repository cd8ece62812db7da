"""B against A, segment by segment: paired on the cases both evaluated, unpaired where there are none.

Both runs used the same dataset version (manifest name and version, and sha256 where both record it):
a segment is compared **paired** on the cases both runs evaluated in it, as ``evalkit compare`` and
the ``max_good_rate_drop`` gate compare them (inner join on case id): two samples of one dataset, e.g. 300
and 1500 cases drawn with different seeds, are paired on the cases they share. McNemar's exact test and
Newcombe's paired interval, via ``evalkit.gate``'s ``paired_segment_compare`` (the computation ``evalkit
compare`` and the gates use). When either run does not record its dataset, shared case ids alone could be
a coincidence of naming, so the segment is paired only when one side's case ids contain the other's (the
same cases, or a ``--limit``/``--fraction`` subset of them). Otherwise (another dataset, or no shared
case in the segment) the two sides are independent samples and the segment is compared **unpaired**:
Newcombe's hybrid score interval for a difference of independent proportions (method 10 of Newcombe 1998,
built from the two Wilson intervals) and the score test of ``statsmodels``' ``test_proportions_2indep``.
Holm's adjustment runs across the segments (the overall row, one pre-specified test, is never adjusted).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from evalkit.gate import paired_segment_compare
from evalkit.stats import ALL as OVERALL
from evalkit.stats import outcome_mask, wilson


@dataclass(frozen=True, kw_only=True)
class SegmentChange:
    segment: str
    diff: float
    lo: float
    hi: float
    n: int
    """Pairs when paired; candidate cases when unpaired (``n_ref``: the reference's)."""
    n_ref: int
    p_value: float
    paired: bool


def unpaired_diff(k1: int, n1: int, k0: int, n0: int) -> tuple[float, float, float, float]:
    """p1 - p0 for independent samples: (diff, lo, hi, two-sided score-test p). NaN without data."""
    if n1 <= 0 or n0 <= 0:
        return math.nan, math.nan, math.nan, math.nan
    from statsmodels.stats.proportion import test_proportions_2indep

    e1, e0 = wilson(k1, n1), wilson(k0, n0)
    p1, p0 = k1 / n1, k0 / n0
    d = p1 - p0
    lo = d - math.sqrt((p1 - e1.lo) ** 2 + (e0.hi - p0) ** 2)  # type: ignore[operator]
    hi = d + math.sqrt((e1.hi - p1) ** 2 + (p0 - e0.lo) ** 2)  # type: ignore[operator]
    if (k1 in (0, n1)) and (k0 in (0, n0)) and k1 / n1 == k0 / n0:
        p = 1.0
    else:
        p = float(test_proportions_2indep(k1, n1, k0, n0, method="score", compare="diff").pvalue)
    return d, max(-1.0, lo), min(1.0, hi), p


def dataset_match(a: Any, b: Any) -> str:
    """'same' (both record the same name and version, and the same sha256 where both have one), 'different'
    (a recorded field differs) or 'unknown' (a side does not record its dataset's name and version)."""
    if isinstance(a, dict) and isinstance(b, dict):
        if any(a.get(k) is not None and b.get(k) is not None and str(a[k]) != str(b[k])
               for k in ("name", "version", "sha256")):
            return "different"
        if all(a.get(k) is not None and b.get(k) is not None for k in ("name", "version")):
            return "same"
    return "unknown"


def segment_changes(ref: pd.DataFrame, cand: pd.DataFrame, *, ref_dataset: Any = None, cand_dataset: Any = None,
                    outcome: str = "good") -> list[SegmentChange]:
    """The overall row first, then one row per segment present on either side."""
    identity = dataset_match(ref_dataset, cand_dataset)
    rseg, cseg = ref["segment"].astype(str), cand["segment"].astype(str)
    rid, cid = ref["case_id"].astype(str), cand["case_id"].astype(str)
    ry, cy = outcome_mask(ref, outcome).to_numpy(), outcome_mask(cand, outcome).to_numpy()

    def matched(rmask: np.ndarray, cmask: np.ndarray) -> bool:
        # The same dataset version: paired on the cases both evaluated, as compare and the gates pair them.
        # Dataset unknown on a side: only when one side's case ids contain the other's.
        if identity == "different" or not cmask.any() or not rmask.any():
            return False
        a, b = set(rid[rmask]), set(cid[cmask])
        if identity == "same":
            return not a.isdisjoint(b)
        return a <= b or b <= a

    paired_rows: dict[str, Any] = {}
    segments = sorted(set(rseg) | set(cseg))
    if any(matched((rseg == s).to_numpy(), (cseg == s).to_numpy()) for s in segments) or \
            matched(np.ones(len(ref), bool), np.ones(len(cand), bool)):
        shared = set(rid) & set(cid)
        t = paired_segment_compare(ref[rid.isin(shared)], cand[cid.isin(shared)], outcome=outcome,
                                   correction="none", include_overall=True)
        paired_rows = {r["segment"]: r for r in t.to_dict("records")}
    out = []
    for s in [OVERALL, *segments]:
        rm = np.ones(len(ref), bool) if s == OVERALL else (rseg == s).to_numpy()
        cm = np.ones(len(cand), bool) if s == OVERALL else (cseg == s).to_numpy()
        if matched(rm, cm) and s in paired_rows:
            r = paired_rows[s]
            out.append(SegmentChange(segment=s, diff=float(r["diff"]), lo=float(r["diff_lo"]), hi=float(r["diff_hi"]),
                                     n=int(r["n"]), n_ref=int(r["n"]), p_value=float(r["p_value"]), paired=True))
        else:
            d, lo, hi, p = unpaired_diff(int(cy[cm].sum()), int(cm.sum()), int(ry[rm].sum()), int(rm.sum()))
            if math.isnan(d):
                continue
            out.append(SegmentChange(segment=s, diff=d, lo=lo, hi=hi, n=int(cm.sum()), n_ref=int(rm.sum()),
                                     p_value=p, paired=False))
    return out
