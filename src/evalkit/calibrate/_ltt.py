"""Learn-then-Test threshold selection (Angelopoulos et al. 2021) with exact binomial p-values.

For each threshold t of a grid fixed before outcomes are seen, H_t: "error rate among automated
cases > alpha". With n_t automated cases and k_t errors among them (integers), the exact p-value is
P(Bin(n_t, alpha) <= k_t). Hypotheses are tested in a fixed sequence from the highest threshold
down at level delta, stopping at the first failure (Bauer 1991); every passing threshold then has
P(error rate <= alpha) >= 1 - delta, so the lowest passing one (most automation) is reported.

Label-free start rule: thresholds automating fewer than n_min = ceil(ln delta / ln(1 - alpha))
cases can never pass (even with zero errors), so the sequence starts at the first threshold with
at least n_min automated cases instead of failing immediately at a sparse top.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from evalkit.calibrate._bins import TICKS, binom_pvalue, cp_upper, n_min_zero_errors, rate, to_ticks
from evalkit.calibrate._planner import no_plan_reason, plan_sequence

MAX_PATH = 500  # keep thresholds.json readable with a "distinct" grid of 1M values


@dataclass(kw_only=True)
class LTTResult:
    threshold: float | None
    certified: bool
    alpha: float
    delta: float
    n: int
    n_automatable: int
    n_automated: int
    n_errors: int
    coverage: dict
    error_rate: dict
    risk_upper_bound: float | None
    n_min: int
    certified_thresholds: list[float]
    path: list[dict]
    message: str
    cases_needed: dict | None = None
    notes: list[str] = field(default_factory=list)


def make_grid(grid: str | list[float], step: float, conf: np.ndarray) -> np.ndarray:
    """Descending grid of thresholds. ``conf`` is used only for grid="distinct" (label-free)."""
    if isinstance(grid, list):
        g = np.asarray(grid, dtype=float)
    elif grid == "distinct":
        g = np.unique(to_ticks(conf[np.isfinite(conf)])) / TICKS
    else:
        g = np.round(np.arange(0.0, 1.0 + step / 2, step), 9)
        g = g[g <= 1.0]
    return np.unique(np.clip(g, 0.0, 1.0))[::-1]


def counts_at(conf: np.ndarray, err: np.ndarray, grid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(n_t, k_t) for each grid threshold: automated = conf >= t on 1e-9 ticks; one sort, cumsums."""
    ticks = to_ticks(conf)
    order = np.argsort(ticks, kind="stable")
    st = ticks[order]
    cum_err = np.r_[0, np.cumsum(err[order].astype(np.int64))]
    pos = np.searchsorted(st, to_ticks(grid), side="left")
    n_t = st.size - pos
    k_t = cum_err[-1] - cum_err[pos]
    return n_t.astype(np.int64), k_t.astype(np.int64)


def fixed_sequence(p: np.ndarray, testable: np.ndarray, delta: float) -> tuple[int, int]:
    """Indices [start, stop) of passing hypotheses along the (descending) grid."""
    if not testable.any():
        return p.size, p.size
    start = int(np.argmax(testable))
    fails = np.flatnonzero(p[start:] > delta)
    stop = start + (int(fails[0]) if fails.size else p.size - start)
    return start, stop


def _path(grid: np.ndarray, n_t: np.ndarray, k_t: np.ndarray, p: np.ndarray, start: int, stop: int) -> list[dict]:
    end = min(stop + 1, grid.size)  # include the first failure
    idx = np.arange(start, end)
    if idx.size > MAX_PATH:
        idx = np.unique(np.r_[idx[np.linspace(0, idx.size - 1, MAX_PATH).round().astype(int)], end - 1])
    return [{"threshold": float(grid[j]), "n_automated": int(n_t[j]), "n_errors": int(k_t[j]),
             "p_value": float(p[j]), "passed": bool(j < stop)} for j in idx]


def select(grid: np.ndarray, n_t: np.ndarray, k_t: np.ndarray, p: np.ndarray, testable: np.ndarray, *,
           n_total: int, n_automatable: int, alpha: float, delta: float, n_min: int, what: str,
           parts: list[tuple[np.ndarray, np.ndarray]] | None = None) -> LTTResult:
    """Run the fixed sequence on prepared counts/p-values and describe the outcome."""
    start, stop = fixed_sequence(p, testable, delta)
    path = _path(grid, n_t, k_t, p, start, stop)
    if stop > start:
        j = stop - 1
        thr, na, ke = float(grid[j]), int(n_t[j]), int(k_t[j])
        msg = (f"threshold {thr:g} certified: error rate among automated <= {alpha:g} "
               f"with probability >= {1 - delta:g} ({what})")
        return LTTResult(threshold=thr, certified=True, alpha=alpha, delta=delta, n=n_total,
                         n_automatable=n_automatable, n_automated=na, n_errors=ke,
                         coverage=rate(na, n_total), error_rate=rate(ke, na),
                         risk_upper_bound=float(cp_upper(ke, na, delta)), n_min=n_min,
                         certified_thresholds=[float(t) for t in grid[start:stop]], path=path, message=msg)
    msg = (f"escalate everything: no threshold can be certified at alpha={alpha:g}, delta={delta:g} "
           f"with n={n_total} cases ({what})")
    # the plan runs this same fixed sequence (start rule, delta) on today's rates scaled to more cases
    populations = parts if parts is not None else [(n_t, k_t)]
    plan = plan_sequence(grid, populations, n_total=n_total, alpha=alpha, delta=delta)
    need = plan.to_dict() if plan is not None else None
    if plan is not None:
        msg += (f"; about {plan.more_cases} more labelled cases ({plan.total_needed} in all) would certify "
                f"threshold {plan.threshold:g} if the error rates and coverages observed at each threshold held "
                f"(at {plan.threshold:g}: {plan.observed_error_rate:.2%}, {plan.observed_coverage:.0%})")
    elif grid.size:
        msg += "; " + no_plan_reason(grid, populations, alpha=alpha)
    msg += f"; at zero errors at least {n_min} automated cases are needed"
    return LTTResult(threshold=None, certified=False, alpha=alpha, delta=delta, n=n_total,
                     n_automatable=n_automatable, n_automated=0, n_errors=0, coverage=rate(0, n_total),
                     error_rate=rate(0, 0), risk_upper_bound=None, n_min=n_min, certified_thresholds=[],
                     path=path, message=msg, cases_needed=need)


def ltt_single(conf: np.ndarray, err: np.ndarray, grid: np.ndarray, *, n_total: int, alpha: float,
               delta: float, what: str = "pooled") -> LTTResult:
    """LTT on one population. ``conf``/``err`` hold the automatable rows only; n_total counts all rows."""
    n_t, k_t = counts_at(conf, err, grid)
    n_min = n_min_zero_errors(alpha, delta)
    p = binom_pvalue(k_t, n_t, alpha)
    return select(grid, n_t, k_t, p, n_t >= n_min, n_total=n_total, n_automatable=int(conf.size),
                  alpha=alpha, delta=delta, n_min=n_min, what=what)


def ltt_all_segments(conf: np.ndarray, err: np.ndarray, masks: dict[str, np.ndarray], segments: list[str],
                     grid: np.ndarray, *, n_total: int, alpha: float, delta: float) -> tuple[LTTResult, dict]:
    """One threshold certified for every listed segment at once: p_t = max_s p_{s,t}
    (intersection-union test, valid at delta without correction). ``masks``: rows of each segment.
    Returns the result and the
    per-segment (n_t, k_t, p) arrays."""
    n_min = n_min_zero_errors(alpha, delta)
    per: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    for s in segments:
        m = masks[s]
        n_t, k_t = counts_at(conf[m], err[m], grid)
        per[s] = (n_t, k_t, binom_pvalue(k_t, n_t, alpha))
    mask = np.logical_or.reduce([masks[s] for s in segments])
    n_all, k_all = counts_at(conf[mask], err[mask], grid)
    p_max = np.max(np.vstack([v[2] for v in per.values()]), axis=0)
    testable = np.all(np.vstack([v[0] for v in per.values()]) >= n_min, axis=0)
    res = select(grid, n_all, k_all, p_max, testable, n_total=n_total, n_automatable=int(mask.sum()),
                 alpha=alpha, delta=delta, n_min=n_min,
                 what=f"for each of {len(segments)} segments at once; max p-value across segments",
                 parts=[(v[0], v[1]) for v in per.values()])
    if res.threshold is not None:
        res.risk_upper_bound = float(cp_upper(res.n_errors, res.n_automated, delta))
    return res, per
