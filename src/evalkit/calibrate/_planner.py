"""How many more labelled cases would certify a segment (or a pooled population) escalated today.

Learn-then-Test certifies by fixed-sequence testing: thresholds are tested from the highest
down, starting at the first one automating at least n_min = ceil(ln delta / ln(1 - alpha))
cases, with the exact p-value P(Bin(n_t, alpha) <= k_t) at the same delta the certification
used (delta / S per segment in ``per_segment`` mode), stopping at the first failure. A plan
must run that same procedure: a threshold whose own p-value would pass is not certified
when a threshold above it fails first, and more data can make a higher, worse threshold
testable (the start rule) and stop the sequence there.

The planner therefore scales today's data: with N labelled cases in all, threshold t
automates floor(n_t * N / n) cases (today's coverage n_t / n holds) with ceil(m * k_t / n_t)
errors among them (today's error rate holds, never fewer errors), and the planned counts
go through the start rule and the fixed sequence. The plan is the smallest N > n that
certifies anything, with the lowest threshold certified at that N. At N = n the planned
counts are exactly today's, so a population escalated today always needs more cases.
Several populations (``all_segments``: one threshold for every segment at once) are scaled
together at today's mix, with the largest p-value across them at each threshold.

Assumes exchangeable future cases and that today's error rate and coverage at every
threshold of the sequence are the true ones; both are estimates, so the figure is a planning
number, not a promise (the exact test on the new data decides). None when no N up to
MAX_CASES certifies: at today's rates more labels alone would not (the population needs a
better model, prompt or confidence signal).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

MAX_CASES = 1_000_000  # beyond a million cases, "more labels" is no plan: None
ASSUMES = ("the error rate and coverage observed today at every threshold of the fixed sequence hold in more "
           "data (same mix, exchangeable cases); a planning figure, not a promise: the exact test on the new data "
           "decides")


@dataclass(frozen=True, kw_only=True)
class Plan:
    threshold: float
    """The lowest threshold the fixed sequence certifies with ``total_needed`` cases."""
    observed_error_rate: float
    observed_coverage: float
    automated_needed: int
    """Automated cases at the threshold with ``total_needed`` cases (today's coverage)."""
    total_needed: int
    """Labelled cases in all (segment, or the pooled population): the smallest N > today's n that certifies."""
    more_cases: int
    """total_needed minus the cases there are today (>= 1: today's data does not certify)."""
    first_tested: float
    """Where the sequence starts with ``total_needed`` cases (start rule: >= n_min automated)."""
    alpha: float
    delta: float
    """The level of the fixed sequence: the certification's own (delta / S per segment)."""
    n_min: int

    def to_dict(self) -> dict:
        return {"threshold": self.threshold, "observed_error_rate": self.observed_error_rate,
                "observed_coverage": self.observed_coverage, "automated_needed": self.automated_needed,
                "total_needed": self.total_needed, "more_cases": self.more_cases,
                "cases": self.total_needed, "automated_cases": self.automated_needed,
                "first_tested_threshold": self.first_tested, "alpha": self.alpha, "delta": self.delta,
                "n_min_automated": self.n_min,
                "procedure": (f"the certification's own: fixed-sequence test from threshold {self.first_tested:g} "
                              f"down at delta={self.delta:.4g}, exact binomial p-values, start rule >= "
                              f"{self.n_min} automated cases"),
                "assumes": ASSUMES}


@lru_cache(maxsize=4096)  # pure; adjacent thresholds of one segment often share (n, k), so the same rate
def automated_needed(rate: float, alpha: float, delta: float) -> int | None:
    """m*: the fewest automated cases at error rate ``rate`` that certify ``alpha`` at ``delta``.

    Exact, without scanning every m: the m sharing one error count k = ceil(m * rate) form a
    run, and within a run the test gets easier as m grows (P(Bin(m, alpha) <= k) falls), so
    only each run's last m needs checking. The first run whose last m passes holds m*, which
    is then found by checking that run's m one by one (about 1/rate of them)."""
    from scipy.special import bdtr  # the binomial CDF as a plain ufunc

    if not (0 <= rate < alpha):
        return None

    def passes(m: np.ndarray) -> np.ndarray:
        return bdtr(np.ceil(m * rate - 1e-12), m, alpha) <= delta

    floor_m = max(1, math.ceil(math.log(delta) / math.log1p(-alpha) - 1e-12))  # zero errors: no fewer pass
    if rate == 0:
        near = np.arange(max(1, floor_m - 2), floor_m + 3)
        return int(near[np.argmax(passes(near))])
    run_length = 1.0 / rate
    biggest = _run_ends(np.arange(max(0, math.floor(MAX_CASES * rate) - 4), math.floor(MAX_CASES * rate) + 1), rate,
                        floor_m)
    if not passes(biggest).any():  # the runs' last m get easier as m grows: none passes below the cap
        return None
    k, look = math.ceil(floor_m * rate - 1e-12), _FIRST_LOOK
    while True:
        candidates = _run_ends(np.arange(k, k + look), rate, floor_m)
        ok = passes(candidates) if candidates.size else np.zeros(0, bool)
        if ok.any():
            first = int(candidates[np.argmax(ok)])
            window = np.arange(max(floor_m, first - math.ceil(2 * run_length) - 4), first + 1)
            return int(window[np.argmax(passes(window))])
        if candidates.size == 0 or candidates[-1] >= MAX_CASES:
            return None
        k, look = k + look, min(look * 2, _LAST_LOOK)  # most answers need few runs: look a little, then more


_FIRST_LOOK, _LAST_LOOK = 32, 65536  # runs checked per look


def _run_ends(ks: np.ndarray, rate: float, floor_m: int) -> np.ndarray:
    """The last m of each run of m with error count k in ``ks``, give or take the rounding of k / rate."""
    last = np.floor((ks.astype(float) + 1e-12) / rate).astype(np.int64)
    ends = np.unique((last[:, None] + np.arange(-1, 3)).ravel())
    return ends[(ends >= floor_m) & (ends <= MAX_CASES)]


def plan_segment(grid: np.ndarray, n_t: np.ndarray, k_t: np.ndarray, *, n_total: int, alpha: float,
                 delta: float, min_total: int = 0) -> Plan | None:
    """The plan for one population with today's automated counts ``n_t`` and errors ``k_t`` at each
    threshold of the descending ``grid``; ``delta`` is the level the certification tests it at."""
    return plan_sequence(grid, [(np.asarray(n_t), np.asarray(k_t))], n_total=n_total, alpha=alpha, delta=delta,
                         min_total=min_total)


def plan_sequence(grid: np.ndarray, parts: list[tuple[np.ndarray, np.ndarray]], *, n_total: int, alpha: float,
                  delta: float, min_total: int = 0) -> Plan | None:
    """Smallest N > ``n_total`` (and >= ``min_total``) at which the fixed sequence on today's rates,
    scaled to N cases, certifies a threshold; ``parts``: (n_t, k_t) of each population tested at
    once (p-value: the largest). None when no N up to MAX_CASES does."""
    from evalkit.calibrate._bins import binom_pvalue, n_min_zero_errors
    from evalkit.calibrate._ltt import fixed_sequence

    grid = np.asarray(grid, float)
    if n_total <= 0 or grid.size == 0 or not parts:
        return None
    ns = np.vstack([np.asarray(n, np.int64) for n, _ in parts])  # populations x thresholds, n non-decreasing
    ks = np.vstack([np.asarray(k, np.int64) for _, k in parts])
    n_min = n_min_zero_errors(alpha, delta)

    def planned(big_n: np.ndarray, j: np.ndarray | slice) -> tuple[np.ndarray, np.ndarray]:
        """Automated cases and errors at thresholds j with big_n cases in all (integers, exact)."""
        n_j, k_j = ns[:, j], ks[:, j]
        m = n_j * big_n // n_total
        return m, np.where(n_j > 0, (m * k_j + n_j - 1) // np.maximum(n_j, 1), 0)

    def passes(big_n: np.ndarray) -> np.ndarray:
        """Does the sequence certify anything at each N? Only its first tested threshold decides that."""
        need = -(-n_min * n_total // big_n)  # m >= n_min  <=>  n_t >= ceil(n_min * n / N)
        start = np.max([np.searchsorted(row, need, side="left") for row in ns], axis=0)
        ok = start < grid.size
        m, k = planned(big_n[ok], np.minimum(start[ok], grid.size - 1))
        out = np.zeros(big_n.size, bool)
        out[ok] = np.max(binom_pvalue(k, m, alpha), axis=0) <= delta
        return out

    # Once N makes the highest threshold with cases in every population testable, the sequence always
    # starts there: if its error rate is at or above alpha somewhere, no larger N can pass.
    top = int(np.argmax((ns > 0).all(axis=0))) if (ns > 0).all(axis=0).any() else None
    if top is None:
        return None
    cap = MAX_CASES
    if delta < 0.5 and (ks[:, top] >= alpha * ns[:, top]).any():  # k >= ceil(m alpha): p >= 1/2 > delta
        cap = min(cap, int(np.max(-(-n_min * n_total // ns[:, top]))) - 1)
    lo, chunk, found = max(n_total + 1, min_total), 4096, None
    while lo <= cap and found is None:
        big_n = np.arange(lo, min(lo + chunk, cap + 1), dtype=np.int64)
        ok = passes(big_n)
        if ok.any():
            found = int(big_n[np.argmax(ok)])
        lo, chunk = lo + chunk, min(chunk * 2, 1 << 18)
    if found is None:
        return None
    m, k = planned(np.int64(found), slice(None))
    p = np.max(binom_pvalue(k, m, alpha), axis=0)
    start, stop = fixed_sequence(p, (m >= n_min).all(axis=0), delta)
    j = stop - 1
    return Plan(threshold=float(grid[j]), observed_error_rate=float(ks[:, j].sum() / ns[:, j].sum()),
                observed_coverage=float(ns[:, j].sum() / n_total), automated_needed=int(m[:, j].sum()),
                total_needed=found, more_cases=found - int(n_total), first_tested=float(grid[start]),
                alpha=alpha, delta=delta, n_min=n_min)


def no_plan_reason(grid: np.ndarray, parts: list[tuple[np.ndarray, np.ndarray]], *, alpha: float) -> str:
    """Why no amount of labels certifies at today's rates (plan_sequence returned None), in words."""
    ns = np.vstack([np.asarray(n, np.int64) for n, _ in parts]) if parts else np.zeros((1, 0), np.int64)
    ks = np.vstack([np.asarray(k, np.int64) for _, k in parts]) if parts else np.zeros((1, 0), np.int64)
    seen = (ns > 0).all(axis=0)
    if not seen.any():
        return "no case is automated at any threshold today: there is no error rate to plan from"
    if not (seen & (ks < alpha * ns).all(axis=0)).any():
        return "no threshold has an observed error rate below alpha: more labels alone would not certify"
    top = int(np.argmax(seen))
    if (ks[:, top] >= alpha * ns[:, top]).any():
        return (f"more labels alone would not certify: with more cases the fixed sequence starts at threshold "
                f"{float(grid[top]):g}, whose observed error rate is at or above alpha, and stops there")
    return f"no threshold would be certified with up to {MAX_CASES:,} cases at today's error rates"
