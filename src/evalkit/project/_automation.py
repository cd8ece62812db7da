"""Automation, review load, automated errors and net value at a policy, with stratified-bootstrap intervals.

Automation rule (contracts.md): automated at threshold t iff status == ok, not deferred and
confidence >= t. Rows with a missing confidence cannot clear any threshold (escalated).
All rates are post-stratified to the production mix. Automation and errors-among-automated get
exact intervals (Wilson / Clopper-Pearson per segment, stratified MOVER at the mix: the bootstrap
collapses on rare events); loads and value get 95% percentile intervals of a stratified bootstrap
done as per-segment multinomial draws of category counts (exact, see ``bootstrap_counts``). The threshold is held fixed inside the bootstrap, so intervals do not
include the optimism of having chosen it on the same data.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from evalkit.economics import EconomicsSpec
from evalkit.project._strata import Strata, bootstrap_counts, rate, segment_counts
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
    volume: int
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


def _automation(auto_k: np.ndarray, n_s: np.ndarray, pi: np.ndarray, escalated: np.ndarray) -> Estimate:
    """The production automation rate with its interval. Segments the policy escalates add exactly 0 (no
    sampling uncertainty: every such case goes to review), so the interval comes from the others only,
    scaled by their production share; the review load's interval (a bootstrap) agrees with it then."""
    n = int(n_s.sum())
    free = ~escalated & (pi > 0)
    if not free.any():
        return Estimate(value=0.0, lo=0.0, hi=0.0, n=n, k=0)
    part = stratified(auto_k[free], n_s[free], pi[free], exact_limits=False)
    if part.value is None:
        return Estimate(value=None, n=n, k=int(auto_k.sum()))
    share = float(pi[free].sum() / pi[pi > 0].sum())
    return Estimate(value=part.value * share, lo=part.lo * share, hi=part.hi * share, n=n, k=int(auto_k.sum()))


def at_policy(dec: Decisions, strata: Strata, seg_thresholds: np.ndarray, money: Money, *,
              resamples: int, rng: np.random.Generator) -> dict:
    """Headline projection at a policy: rates, monthly loads and value, each with a 95% interval."""
    cat = headline_categories(dec, strata, seg_thresholds)
    table = segment_counts(strata, cat, 5)
    draws = bootstrap_counts(table, resamples, rng)
    n_s = strata.counts.astype(float)
    point_seg = table / n_s[:, None]  # (S, 5)
    boot_seg = draws / n_s[None, :, None]  # (B, S, 5)
    pi, n = strata.pi, strata.n
    err_cost = _segment_error_costs(strata, money.economics)
    econ = money.economics

    def combine(seg_rates_point: np.ndarray, seg_rates_boot: np.ndarray) -> tuple[float, np.ndarray]:
        return float(_stratified(seg_rates_point, pi)), _stratified(seg_rates_boot, pi)

    auto_p, auto_b = combine(point_seg[:, AUTO_OK] + point_seg[:, AUTO_ERR], boot_seg[..., AUTO_OK] + boot_seg[..., AUTO_ERR])
    err_p, err_b = combine(point_seg[:, AUTO_ERR], boot_seg[..., AUTO_ERR])
    esc_p, esc_b = 1 - auto_p, 1 - auto_b
    net_seg_p = econ.value_per_automated_case * (point_seg[:, AUTO_OK] + point_seg[:, AUTO_ERR]) \
        - econ.review_cost * (1 - point_seg[:, AUTO_OK] - point_seg[:, AUTO_ERR]) - err_cost * point_seg[:, AUTO_ERR]
    net_seg_b = econ.value_per_automated_case * (boot_seg[..., AUTO_OK] + boot_seg[..., AUTO_ERR]) \
        - econ.review_cost * (1 - boot_seg[..., AUTO_OK] - boot_seg[..., AUTO_ERR]) - err_cost * boot_seg[..., AUTO_ERR]
    net_p, net_b = combine(net_seg_p, net_seg_b)
    vol = money.volume
    n_auto = int(table[:, AUTO_OK].sum() + table[:, AUTO_ERR].sum())
    breakdown = {}
    for name, c in (("deferred", DEFERRED), ("low_confidence", LOW_CONF), ("invalid_or_failed", INVALID)):
        p, b = combine(point_seg[:, c], boot_seg[..., c])
        breakdown[name] = rate(p, b, n)
    # Rates of automation and of errors among automated cases: exact per segment (Clopper-Pearson;
    # Wilson for automation) and, mixed to production, a stratified MOVER interval from those
    # limits. A percentile bootstrap of a rare event collapses ([0%, 0%] with ~20 automated cases).
    auto_k = table[:, AUTO_OK] + table[:, AUTO_ERR]
    err_k = table[:, AUTO_ERR]
    escalated = np.isnan(seg_thresholds)  # escalated by the policy: automation there is 0, not an estimate
    segments = {}
    for i, seg in enumerate(strata.names):
        auto = (Estimate(value=0.0, lo=0.0, hi=0.0, n=int(n_s[i]), k=0) if escalated[i]
                else wilson(int(auto_k[i]), int(n_s[i])))
        segments[seg] = {
            "threshold": None if escalated[i] else float(seg_thresholds[i]),
            "automation_rate": auto.to_dict(),
            "automated_error_rate": exact(int(err_k[i]), int(auto_k[i])).to_dict(),
        }
    automation = _automation(auto_k, n_s, pi, escalated)
    share = pi * np.where(n_s > 0, auto_k / np.where(n_s > 0, n_s, 1), 0.0)  # production share automated per segment
    err_mixed = stratified(err_k, auto_k, share) if share.sum() > 0 else None
    return {
        "automation_rate": {**automation.to_dict(), "value": auto_p, "n": n},
        "escalated_rate": {"value": esc_p, "lo": None if automation.hi is None else 1 - automation.hi,
                           "hi": None if automation.lo is None else 1 - automation.lo, "n": n},
        "escalation_breakdown": breakdown,
        "automated_error_rate": ({**err_mixed.to_dict(), "n": n_auto} if err_mixed is not None and
                                 err_mixed.value is not None else rate(None, None, n_auto)),
        "automated_errors_per_month": rate(vol * err_p, vol * err_b, n),
        "automated_per_month": rate(vol * auto_p, vol * auto_b, n),
        "review_hours_per_month": rate(vol * esc_p * econ.review_minutes / 60, vol * esc_b * econ.review_minutes / 60, n),
        "review_cost_per_month": rate(vol * esc_p * econ.review_cost, vol * esc_b * econ.review_cost, n),
        "net_value_per_month": rate(vol * net_p, vol * net_b, n),
        "segments": segments,
    }


def curve(dec: Decisions, strata: Strata, grid: np.ndarray, money: Money, *,
          resamples: int, rng: np.random.Generator) -> tuple[list[dict], float | None, dict]:
    """Automation vs error among automated over a global-threshold grid, with net value per threshold.

    Returns (curve points, value-maximising threshold or None when escalating everything is best,
    net value of escalating everything).
    """
    grid = np.sort(np.asarray(grid, dtype=float))
    g = len(grid)
    candidate = dec.ok & ~dec.deferred & ~np.isnan(dec.confidence)
    b = np.searchsorted(grid, np.where(candidate, dec.confidence, 0.0), side="right")  # thresholds <= conf
    cat = np.where(candidate, 2 * b + dec.error.astype(np.int64), 2 * (g + 1))
    table = segment_counts(strata, cat, 2 * (g + 1) + 1)
    draws = bootstrap_counts(table, resamples, rng)
    n_s = strata.counts.astype(float)

    def by_threshold(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # automated at grid[j] <=> b >= j + 1: reverse cumulative sum over bins 1..g
        pairs = t[..., : 2 * (g + 1)].reshape(*t.shape[:-1], g + 1, 2)
        rev = np.cumsum(pairs[..., ::-1, :], axis=-2)[..., ::-1, :]  # rev[k] = sum over bins >= k
        auto = rev[..., 1:, 0] + rev[..., 1:, 1]
        return auto, rev[..., 1:, 1]  # (..., S, g)

    auto_c, err_c = by_threshold(table)
    auto_bc, err_bc = by_threshold(draws)
    pi = strata.pi
    auto_p = np.einsum("sg,s->g", auto_c / n_s[:, None], pi)
    err_p = np.einsum("sg,s->g", err_c / n_s[:, None], pi)
    auto_b = np.einsum("bsg,s->bg", auto_bc / n_s[None, :, None], pi)
    err_b = np.einsum("bsg,s->bg", err_bc / n_s[None, :, None], pi)
    econ = money.economics
    err_cost = _segment_error_costs(strata, econ)
    per_case_err_p = np.einsum("sg,s->g", err_c / n_s[:, None], pi * err_cost)
    per_case_err_b = np.einsum("bsg,s->bg", err_bc / n_s[None, :, None], pi * err_cost)
    value = econ.value_per_automated_case + econ.review_cost  # automating swaps a review for a value
    net_p = money.volume * (value * auto_p - econ.review_cost - per_case_err_p)
    net_b = money.volume * (value * auto_b - econ.review_cost - per_case_err_b)
    with np.errstate(invalid="ignore", divide="ignore"):
        cond_p = np.where(auto_p > 0, err_p / auto_p, np.nan)
        cond_b = err_b / auto_b
    lo = lambda a: np.nanquantile(a, 0.025, axis=0) if np.isfinite(a).any() else np.full(g, np.nan)
    hi = lambda a: np.nanquantile(a, 0.975, axis=0) if np.isfinite(a).any() else np.full(g, np.nan)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns: thresholds nobody clears
        a_lo, a_hi, e_lo, e_hi, v_lo, v_hi = lo(auto_b), hi(auto_b), lo(cond_b), hi(cond_b), lo(net_b), hi(net_b)
    n_auto = auto_c.sum(axis=0)
    points = []
    for j, t in enumerate(grid):
        points.append({
            "threshold": float(t),
            "automation": float(auto_p[j]), "automation_lo": _f(a_lo[j]), "automation_hi": _f(a_hi[j]),
            "error": _f(cond_p[j]), "error_lo": _f(e_lo[j]), "error_hi": _f(e_hi[j]),
            "n_automated": int(n_auto[j]),
            "net_value_per_month": float(net_p[j]), "net_value_lo": _f(v_lo[j]), "net_value_hi": _f(v_hi[j]),
        })
    escalate_all = -float(money.volume * econ.review_cost)
    best = int(np.argmax(net_p))
    best_t = float(grid[best]) if net_p[best] > escalate_all else None
    return points, best_t, {"value": escalate_all, "lo": escalate_all, "hi": escalate_all, "n": strata.n}


def _f(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None
