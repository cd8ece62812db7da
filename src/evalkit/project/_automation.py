"""Automation, review load, automated errors and net value at a policy, with analytic 95% intervals.

Automation rule (contracts.md): automated at threshold t iff status == ok, not deferred and
confidence >= t. Rows with a missing confidence cannot clear any threshold (escalated).
All rates are post-stratified to the production mix. Every interval is analytic: Wilson (automation,
escalation and its breakdown) or Clopper-Pearson (errors) per segment, combined at the mix by the
stratified MOVER interval (``evalkit.stats.stratified``). A percentile bootstrap collapses on rare
events (review hours "0 [0, 0]" at n=1), so it is not used. Monthly loads are volume x those rates:
review hours and review cost take the escalation rate's interval, automated cases the automation
rate's, automated errors the (unconditional) error rate's. Net value per case is a positive
combination of automation and not-error rates plus a constant (``_net_value``), so it gets the same
MOVER interval (conservative: the two rates are negatively related within a segment). Segments the
policy escalates add exactly 0 automation, with no sampling uncertainty. The threshold is held fixed,
so intervals do not include the optimism of having chosen it on the same data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evalkit.economics import EconomicsSpec
from evalkit.project._strata import Strata, segment_counts
from evalkit.stats import Estimate, exact, stratified, wilson

# headline categories
AUTO_OK, AUTO_ERR, DEFERRED, LOW_CONF, INVALID = range(5)


@dataclass(frozen=True, kw_only=True)
class Decisions:
    """The per-row facts the automation rule needs, for one configuration."""

    ok: np.ndarray
    deferred: np.ndarray
    confidence: np.ndarray
    """float, NaN where unknown."""
    error: np.ndarray
    """True where the decision is not good (or not correct, by outcome) -- an error if automated."""


@dataclass(frozen=True, kw_only=True)
class Money:
    volume: float
    """Cases per month the figures cover: the estimable volume (segments with cases)."""
    economics: EconomicsSpec


def _segment_error_costs(strata: Strata, economics: EconomicsSpec) -> np.ndarray:
    return np.array([economics.error_cost_for(s) for s in strata.names], dtype=float)


def headline_categories(dec: Decisions, strata: Strata, seg_thresholds: np.ndarray) -> np.ndarray:
    """Category per row at a per-segment threshold (NaN threshold = escalate the whole segment)."""
    t = np.full(len(dec.ok), np.nan)
    inside = strata.codes >= 0
    t[inside] = seg_thresholds[strata.codes[inside]]
    with np.errstate(invalid="ignore"):
        clears = dec.confidence >= t  # NaN on either side -> False -> escalated
    cat = np.full(len(dec.ok), LOW_CONF, dtype=np.int64)
    cat[~dec.ok] = INVALID
    cat[dec.ok & dec.deferred] = DEFERRED
    auto = dec.ok & ~dec.deferred & clears
    cat[auto & ~dec.error] = AUTO_OK
    cat[auto & dec.error] = AUTO_ERR
    return cat


def _stratified(per_seg: np.ndarray, pi: np.ndarray) -> np.ndarray:
    """Combine per-segment rates (..., S) into the production-mix rate (...)."""
    return per_seg @ pi


def _mixed(k: np.ndarray, n_s: np.ndarray, pi: np.ndarray, escalated: np.ndarray, *,
           exact_limits: bool) -> Estimate:
    """sum_s pi_s k_s / n_s with its stratified MOVER interval (``evalkit.stats.stratified``). Segments the
    policy escalates add exactly 0 (no sampling uncertainty: every such case goes to review), so the interval
    comes from the others only, scaled by their production share."""
    n = int(n_s.sum())
    free = ~escalated & (pi > 0)
    if not free.any():
        return Estimate(value=0.0, lo=0.0, hi=0.0, n=n, k=0)
    part = stratified(k[free], n_s[free], pi[free], exact_limits=exact_limits)
    if part.value is None:
        return Estimate(value=None, n=n, k=int(k.sum()))
    share = float(pi[free].sum() / pi[pi > 0].sum())
    return Estimate(value=part.value * share, lo=part.lo * share, hi=part.hi * share, n=n, k=int(k.sum()))


def _net_value(auto_k: np.ndarray, err_k: np.ndarray, n_s: np.ndarray, pi: np.ndarray, escalated: np.ndarray,
               econ: EconomicsSpec, err_cost: np.ndarray) -> Estimate:
    """Net value per production case, sum_s pi_s (V a_s - R (1 - a_s) - C_s e_s), with an interval.

    Rewritten as -R - sum_free pi_s C_s + sum_free [pi_s (V + R) a_s + pi_s C_s (1 - e_s)]: a constant plus
    a positive combination of proportions, which ``evalkit.stats.stratified`` bounds (MOVER over the 2S
    proportions, Clopper-Pearson limits). Within a segment a_s and 1 - e_s are negatively related, so
    treating them as independent widens the interval: conservative, never a point where a rate is uncertain.
    """
    n = int(n_s.sum())
    pi = pi / pi.sum()
    free = ~escalated & (pi > 0)
    const = -econ.review_cost - float(np.sum(pi[free] * err_cost[free]))
    k = np.concatenate([auto_k[free], n_s[free] - err_k[free]])
    m = np.concatenate([n_s[free], n_s[free]])
    w = np.concatenate([pi[free] * (econ.value_per_automated_case + econ.review_cost), pi[free] * err_cost[free]])
    total = float(w.sum())
    if total <= 0:  # nothing depends on a rate: the value is known exactly
        return Estimate(value=const, lo=const, hi=const, n=n)
    part = stratified(k, m, w, exact_limits=True)
    if part.value is None:
        return Estimate(value=None, n=n)
    return Estimate(value=const + total * part.value, lo=const + total * part.lo, hi=const + total * part.hi, n=n)


def _scaled(est: Estimate, factor: float, n: int, *, complement: bool = False) -> dict:
    """``{"value","lo","hi","n"}`` of factor x the estimate (or of factor x (1 - it))."""
    if est.value is None:
        return {"value": None, "lo": None, "hi": None, "n": n}
    value, lo, hi = est.value, est.lo, est.hi
    if complement:
        value, lo, hi = 1 - value, None if hi is None else 1 - hi, None if lo is None else 1 - lo
    return {"value": factor * value, "lo": None if lo is None else factor * lo,
            "hi": None if hi is None else factor * hi, "n": n}


def at_policy(dec: Decisions, strata: Strata, seg_thresholds: np.ndarray, money: Money) -> dict:
    """Headline projection at a policy: rates, monthly loads and value, each with a 95% interval
    (analytic: module doc)."""
    cat = headline_categories(dec, strata, seg_thresholds)
    table = segment_counts(strata, cat, 5)
    n_s = strata.counts.astype(float)
    point_seg = table / n_s[:, None]  # (S, 5)
    pi, n = strata.pi, strata.n
    err_cost = _segment_error_costs(strata, money.economics)
    econ = money.economics
    vol = money.volume
    auto_k = table[:, AUTO_OK] + table[:, AUTO_ERR]
    err_k = table[:, AUTO_ERR]
    n_auto = int(auto_k.sum())
    auto_p = float((point_seg[:, AUTO_OK] + point_seg[:, AUTO_ERR]) @ pi)
    escalated = np.isnan(seg_thresholds)  # escalated by the policy: automation there is 0, not an estimate
    breakdown = {}
    for name, c in (("deferred", DEFERRED), ("low_confidence", LOW_CONF), ("invalid_or_failed", INVALID)):
        est = stratified(table[:, c], n_s, pi, exact_limits=False)
        breakdown[name] = {"value": est.value, "lo": est.lo, "hi": est.hi, "n": n}
    segments = {}
    for i, seg in enumerate(strata.names):
        auto = (Estimate(value=0.0, lo=0.0, hi=0.0, n=int(n_s[i]), k=0) if escalated[i]
                else wilson(int(auto_k[i]), int(n_s[i])))
        segments[seg] = {
            "threshold": None if escalated[i] else float(seg_thresholds[i]),
            "automation_rate": auto.to_dict(),
            "automated_error_rate": exact(int(err_k[i]), int(auto_k[i])).to_dict(),
        }
    automation = _mixed(auto_k, n_s, pi, escalated, exact_limits=False)
    errors = _mixed(err_k, n_s, pi, escalated, exact_limits=True)  # automated errors per production case
    net = _net_value(auto_k, err_k, n_s, pi, escalated, econ, err_cost)
    share = pi * np.where(n_s > 0, auto_k / np.where(n_s > 0, n_s, 1), 0.0)  # production share automated per segment
    err_mixed = stratified(err_k, auto_k, share) if share.sum() > 0 else None
    return {
        "automation_rate": {**automation.to_dict(), "value": auto_p, "n": n},
        "escalated_rate": {"value": 1 - auto_p, "lo": None if automation.hi is None else 1 - automation.hi,
                           "hi": None if automation.lo is None else 1 - automation.lo, "n": n},
        "escalation_breakdown": breakdown,
        "automated_error_rate": ({**err_mixed.to_dict(), "n": n_auto} if err_mixed is not None and
                                 err_mixed.value is not None else {"value": None, "lo": None, "hi": None,
                                                                   "n": n_auto}),
        "automated_errors_per_month": _scaled(errors, vol, n),
        "automated_per_month": _scaled(automation, vol, n),
        "review_hours_per_month": _scaled(automation, vol * econ.review_minutes / 60, n, complement=True),
        "review_cost_per_month": _scaled(automation, vol * econ.review_cost, n, complement=True),
        "net_value_per_month": _scaled(net, vol, n),
        "segments": segments,
    }


def curve(dec: Decisions, strata: Strata, grid: np.ndarray, money: Money) -> tuple[list[dict], float | None, dict]:
    """Automation vs error among automated over a global-threshold grid, with net value per threshold.

    Every point's intervals are the headline's (module doc).
    Returns (curve points, value-maximising threshold or None when escalating everything is best,
    net value of escalating everything).
    """
    grid = np.sort(np.asarray(grid, dtype=float))
    g = len(grid)
    candidate = dec.ok & ~dec.deferred & ~np.isnan(dec.confidence)
    b = np.searchsorted(grid, np.where(candidate, dec.confidence, 0.0), side="right")  # thresholds <= conf
    cat = np.where(candidate, 2 * b + dec.error.astype(np.int64), 2 * (g + 1))
    table = segment_counts(strata, cat, 2 * (g + 1) + 1)
    n_s = strata.counts.astype(float)
    # automated at grid[j] <=> b >= j + 1: reverse cumulative sum over bins 1..g
    pairs = table[:, : 2 * (g + 1)].reshape(len(n_s), g + 1, 2)
    rev = np.cumsum(pairs[:, ::-1, :], axis=1)[:, ::-1, :]  # rev[k] = sum over bins >= k
    auto_c, err_c = rev[:, 1:, 0] + rev[:, 1:, 1], rev[:, 1:, 1]  # (S, g)
    pi = strata.pi
    auto_p = np.einsum("sg,s->g", auto_c / n_s[:, None], pi)
    econ = money.economics
    err_cost = _segment_error_costs(strata, econ)
    per_case_err_p = np.einsum("sg,s->g", err_c / n_s[:, None], pi * err_cost)
    value = econ.value_per_automated_case + econ.review_cost  # automating swaps a review for a value
    net_p = money.volume * (value * auto_p - econ.review_cost - per_case_err_p)
    none_escalated = np.zeros(len(n_s), dtype=bool)
    n_auto = auto_c.sum(axis=0)
    points = []
    for j, t in enumerate(grid):
        a_k, e_k = auto_c[:, j], err_c[:, j]
        automation = _mixed(a_k, n_s, pi, none_escalated, exact_limits=False)
        share = pi * a_k / n_s
        cond = stratified(e_k, a_k, share) if share.sum() > 0 else Estimate(value=None)
        net = _net_value(a_k, e_k, n_s, pi, none_escalated, econ, err_cost)
        points.append({
            "threshold": float(t),
            "automation": float(auto_p[j]), "automation_lo": automation.lo, "automation_hi": automation.hi,
            "error": cond.value, "error_lo": cond.lo, "error_hi": cond.hi,
            "n_automated": int(n_auto[j]),
            "net_value_per_month": float(net_p[j]),
            "net_value_lo": None if net.lo is None else money.volume * net.lo,
            "net_value_hi": None if net.hi is None else money.volume * net.hi,
        })
    escalate_all = -float(money.volume * econ.review_cost)
    best = int(np.argmax(net_p))
    best_t = float(grid[best]) if net_p[best] > escalate_all else None
    return points, best_t, {"value": escalate_all, "lo": escalate_all, "hi": escalate_all, "n": strata.n}


def _f(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None
