"""How many more labelled cases would certify a segment that is escalated today.

Learn-then-Test certifies threshold t at (alpha, delta) when the exact binomial p-value
P(Bin(n_t, alpha) <= k_t) <= delta, with n_t automated cases and k_t errors among them.
If the error rate r_t = k_t / n_t and the share of cases automated at t (coverage c_t)
observed today held in more data, the smallest number of automated cases that passes is

    m* = min { m : P(Bin(m, alpha) <= ceil(m * r_t)) <= delta }

(``ceil``: the planned data has at least the observed error rate, never fewer errors), and
the labelled cases needed in the segment are ceil(m* / c_t). The planner evaluates every
grid threshold whose observed error rate is below alpha and reports the one needing the
fewest more cases. When no threshold has an observed error rate below alpha, no amount
of data would certify it at today's error rates: ``None`` (the segment needs a better
model, prompt or confidence signal, not more labels).

Assumes exchangeable future cases and that r_t and c_t are the true rates; both are
estimates, so the figure is a planning number, not a promise (the exact test on the new
data decides).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

MAX_CASES = 1_000_000  # beyond a million automated cases, "more labels" is no plan: None


@dataclass(frozen=True, kw_only=True)
class Plan:
    threshold: float
    observed_error_rate: float
    observed_coverage: float
    automated_needed: int
    """m*: automated cases at the threshold that the exact test needs."""
    total_needed: int
    """Labelled cases in the segment: ceil(m* / coverage)."""
    more_cases: int
    """total_needed minus the cases the segment has today (>= 0)."""

    def to_dict(self) -> dict:
        return {"threshold": self.threshold, "observed_error_rate": self.observed_error_rate,
                "observed_coverage": self.observed_coverage, "automated_needed": self.automated_needed,
                "total_needed": self.total_needed, "more_cases": self.more_cases,
                "cases": self.total_needed, "automated_cases": self.automated_needed,
                "assumes": "the error rate and coverage observed at that threshold hold in more data"}


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
                 delta: float) -> Plan | None:
    """The threshold of ``grid`` (with its automated counts ``n_t`` and errors ``k_t`` today)
    needing the fewest more labelled cases to certify; None when none can at today's rates."""
    best: Plan | None = None
    if n_total <= 0:
        return None
    for t, n, k in zip(np.asarray(grid, float), np.asarray(n_t), np.asarray(k_t)):
        if n <= 0 or k / n >= alpha:
            continue
        m = automated_needed(float(k / n), alpha, delta)
        if m is None:
            continue
        coverage = float(n / n_total)
        total = math.ceil(m / coverage - 1e-9)
        plan = Plan(threshold=float(t), observed_error_rate=float(k / n), observed_coverage=coverage,
                    automated_needed=m, total_needed=total, more_cases=max(0, total - int(n_total)))
        if best is None or (plan.more_cases, -plan.observed_coverage) < (best.more_cases, -best.observed_coverage):
            best = plan
    return best
