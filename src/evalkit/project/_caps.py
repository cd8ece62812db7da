"""Context-cap what-ifs: cost saved and good-rate lost if history were capped at N turns / T tokens.

Estimated from the run, not re-run:
- tokens removed: a turn cap of N removes history_tokens * (included - N) / included (turns
  assumed equal in size); a token cap of T removes max(history_tokens - T, 0). With both, the
  larger removal applies. Turns kept under a token cap: floor(included * T / history_tokens).
- cost saved per case = tokens removed * input price per token * max(attempts, 1) (each attempt
  resends the prompt); cache discounts and tiered prices are ignored. No input price -> unknown.
- good-rate lost (conservative): a case currently good whose deciding fact is in the prompt now
  (deciding_turn_from_end <= included) but would be cut (deciding_turn_from_end > turns kept)
  counts as lost. Cases not cut are assumed unchanged.

Intervals: no case gains from a cap, so the paired difference good-now - good-capped is the share of
cases lost: with no pair discordant the other way, that difference is a single binomial proportion,
bounded directly (rather than through a paired-difference interval such as Newcombe's). Wilson per segment; at the production mix the stratified MOVER interval
(``evalkit.stats.stratified``), as for the truncated share: a percentile bootstrap collapses to
[0.0%, 0.0%] when no case in the run is lost, which would claim a cap costs nothing for certain.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evalkit.project._strata import Strata, segment_counts
from evalkit.stats import stratified, wilson
from evalkit.suite import ContextCap


@dataclass(frozen=True, kw_only=True)
class History:
    tokens: np.ndarray
    turns_included: np.ndarray
    deciding_from_end: np.ndarray
    """float, NaN where the deciding fact is not in the history."""
    good: np.ndarray
    attempts: np.ndarray


def _apply(cap: ContextCap, h: History) -> tuple[np.ndarray, np.ndarray]:
    """(tokens removed per row, turns kept per row)."""
    inc = h.turns_included.astype(float)
    tok = h.tokens.astype(float)
    removed = np.zeros_like(tok)
    kept = inc.copy()
    with np.errstate(invalid="ignore", divide="ignore"):
        if cap.turns is not None:
            over = inc > cap.turns
            removed = np.where(over, tok * (inc - cap.turns) / np.where(inc > 0, inc, 1), removed)
            kept = np.minimum(kept, cap.turns)
        if cap.tokens is not None:
            over = tok > cap.tokens
            removed = np.maximum(removed, np.where(over, tok - cap.tokens, 0.0))
            kept_tok = np.where(over, np.floor(inc * cap.tokens / np.where(tok > 0, tok, 1)), inc)
            kept = np.minimum(kept, kept_tok)
    return removed, kept


def cap_whatif(cap: ContextCap, h: History, strata: Strata, *, input_price: float | None,
               mean_cost: float | None, volume: float) -> dict:
    """One cap's effect: per segment and reweighted overall, with intervals on the good-rate lost
    (analytic: see the module doc)."""
    removed, kept = _apply(cap, h)
    truncated = removed > 0
    d = h.deciding_from_end
    with np.errstate(invalid="ignore"):
        cut = ~np.isnan(d) & (d <= h.turns_included) & (d > kept)
    lost = truncated & cut & h.good
    cat = np.where(lost, 2, np.where(truncated, 1, 0)).astype(np.int64)
    table = segment_counts(strata, cat, 3)
    n_s = strata.counts.astype(float)
    lost_mix = stratified(table[:, 2], n_s, strata.pi, exact_limits=False)
    trunc_mix = stratified(table[:, 1] + table[:, 2], n_s, strata.pi, exact_limits=False)
    inside = strata.codes >= 0
    segments = {}
    for i, seg in enumerate(strata.names):
        rows = strata.codes == i
        segments[seg] = {
            "truncated_rate": wilson(int(truncated[rows].sum()), int(rows.sum())).to_dict(),
            "good_rate_now": wilson(int(h.good[rows].sum()), int(rows.sum())).to_dict(),
            "good_rate_lost": wilson(int(lost[rows].sum()), int(rows.sum())).to_dict(),
        }
    out = {
        "cap": cap.model_dump(),
        "label": cap.label,
        "truncated_rate": {**trunc_mix.to_dict(), "n": strata.n},
        "good_rate_lost": {**lost_mix.to_dict(), "n": strata.n},
        "segments": segments,
        "saved_per_case": None, "saved_per_month": None, "saved_share": None,
        "tokens_removed_per_case": float(np.sum(strata.row_weights()[inside] * removed[inside]) / strata.n),
    }
    if input_price is not None:
        saved = removed * input_price * np.maximum(h.attempts, 1)
        saved_mean = float(np.sum(strata.row_weights()[inside] * saved[inside]) / strata.n)
        out["saved_per_case"] = saved_mean
        out["saved_per_month"] = saved_mean * volume
        if mean_cost:
            out["saved_share"] = saved_mean / mean_cost
    return out
