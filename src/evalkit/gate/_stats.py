"""Gate statistics the report shows too: the paired per-segment comparison and a config's ECE.

The paired test comes from ``evalkit.score.compare`` (McNemar exact, Holm across segments,
Newcombe paired interval) and every interval from ``evalkit.stats``, so the gate, the report
and ``evalkit compare`` always agree.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from evalkit.runs import ConfigThresholds
from evalkit.stats import ALL, Estimate, automatable, ece_interval, outcome_mask, quantile_change_interval

OVERALL = ALL


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
    from evalkit.score import compare

    cmp = compare(base, cand, outcome=outcome, alpha=alpha, base_dataset=base_dataset,
                  cand_dataset=cand_dataset)
    t = cmp.rows(outcome)
    if not include_overall:
        t = t[t["segment"] != ALL]
    out = pd.DataFrame({
        "segment": t["segment"].astype(str).to_numpy(),
        "n": t["n"].to_numpy(), "base": t["base_rate"].to_numpy(), "cand": t["cand_rate"].to_numpy(),
        "diff": t["diff"].to_numpy(), "diff_lo": t["diff_lo"].to_numpy(), "diff_hi": t["diff_hi"].to_numpy(),
        "b": t["b"].to_numpy(), "c": t["c"].to_numpy(), "p_value": t["p_value"].to_numpy(),
        "p_adjusted": (t["p_value"] if correction == "none" else t["p_adjusted"]).to_numpy(),
    })
    out["significant"] = out["p_adjusted"] < alpha
    return out


def ece_estimate(df: pd.DataFrame, *, outcome: str = "good", bins: int = 10,
                 thresholds_entry: ConfigThresholds | None = None) -> tuple[Estimate | None, str]:
    """ECE of one config: from thresholds.json (evalkit.calibrate's equal-width ECE and its
    bootstrap interval) when present for this bin count, else computed here. Returns (estimate, source)."""
    raw = ((thresholds_entry.metrics if thresholds_entry is not None else None) or {}).get("raw") or {}
    if bins == 10 and raw.get("ece_width") is not None:
        ci = raw.get("ece_width_ci") or [None, None]
        return Estimate(value=float(raw["ece_width"]), lo=ci[0], hi=ci[1], n=int(raw.get("n") or 0)), \
            "thresholds.json"
    sel = automatable(df)
    if not sel.any():
        return None, "no valid, non-deferred rows with a confidence"
    sub = df[sel]
    est = ece_interval(sub["confidence"].to_numpy(dtype=float), outcome_mask(sub, outcome).to_numpy(),
                       bins=bins, resamples=100)
    return est, "computed from scores.parquet"


def p95_change(cand: np.ndarray, base: np.ndarray, *, mode: str = "relative", q: float = 0.95,
               resamples: int = 200, seed: int = 7) -> Estimate:
    """The change of the q-quantile of cost per case, candidate against baseline (``mode``: relative,
    cand / base - 1, the baseline's quantile must be > 0; or absolute, USD), with its 95% interval
    (``evalkit.stats.quantile_change_interval``)."""
    return quantile_change_interval(cand, base, q, relative=mode == "relative", resamples=resamples, seed=seed)
