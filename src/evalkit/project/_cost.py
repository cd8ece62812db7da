"""Token and cost tails per case, monthly spend by Monte Carlo, and the naive projection beside them.

Unknown costs stay unknown: if any row in the projected segments has ``cost_usd`` null, the
tail statistics are null (``known: false``) with the count of unknown rows; statistics over the
known rows only are given separately, labelled as such. The naive monthly figure is then null too
(``naive_known_rows_only`` holds it over the known-cost rows). A ratio to a naive spend of $0 is
null with ``naive == 0``: not applicable, not unknown.
"""

from __future__ import annotations

import numpy as np

from evalkit.project._strata import Strata

MC_BINS = 256
"""Equal-count cost bins per segment for the monthly Monte Carlo (exact when a segment has fewer rows)."""


def weighted_quantile(x: np.ndarray, q: np.ndarray | float, w: np.ndarray | None = None, *,
                      presorted: bool = False) -> np.ndarray:
    """Quantiles of weighted data; with equal weights identical to numpy's default ('linear').

    Plotting positions p_i = (S_i - w_i) / (S_n - w_n), S the cumulative weight of the sorted data,
    reduce to (i-1)/(n-1) for equal weights.
    """
    x = np.asarray(x, dtype=float)
    w = np.ones_like(x) if w is None else np.asarray(w, dtype=float)
    if not presorted:
        order = np.argsort(x, kind="stable")
        x, w = x[order], w[order]
    if x.size == 1:
        return np.full(np.shape(q), x[0]) if np.ndim(q) else np.asarray(x[0])
    cum = np.cumsum(w)
    pos = (cum - w) / (cum[-1] - w[-1])
    return np.interp(q, pos, x)


def weighted_cvar(x: np.ndarray, w: np.ndarray | None = None, *, tail: float = 0.05,
                  presorted: bool = False) -> float:
    """Mean of the worst ``tail`` share of the (weighted) distribution; the boundary row counts fractionally."""
    x = np.asarray(x, dtype=float)
    w = np.ones_like(x) if w is None else np.asarray(w, dtype=float)
    if not presorted:
        order = np.argsort(x, kind="stable")
        x, w = x[order], w[order]
    xd, wd = x[::-1], w[::-1]
    mass = tail * wd.sum()
    before = np.cumsum(wd) - wd
    take = np.clip(mass - before, 0.0, wd)
    return float(np.sum(take * xd) / mass)


def tail_stats(x: np.ndarray, w: np.ndarray) -> dict[str, float]:
    """Weighted mean, p50, p90, p95, p99, max and CVaR95 of a per-case quantity."""
    order = np.argsort(x, kind="stable")
    xs, ws = x[order], w[order]
    p50, p90, p95, p99 = weighted_quantile(xs, [0.5, 0.9, 0.95, 0.99], ws, presorted=True)
    return {
        "mean": float(np.sum(xs * ws) / ws.sum()),
        "p50": float(p50), "p90": float(p90), "p95": float(p95), "p99": float(p99),
        "max": float(xs[-1]) if xs.size else float("nan"),
        "cvar95": weighted_cvar(xs, ws, presorted=True),
    }


def _null_stats() -> dict[str, None]:
    return dict.fromkeys(("mean", "p50", "p90", "p95", "p99", "max", "cvar95"))


def distribution(values: np.ndarray, strata: Strata) -> dict:
    """Reweighted tail statistics of a per-row quantity with NaN = unknown."""
    inside = strata.codes >= 0
    vals = np.asarray(values, dtype=float)[inside]
    w = strata.row_weights()[inside]
    known = ~np.isnan(vals)
    n_unknown = int((~known).sum())
    out: dict = {}
    if n_unknown == 0 and vals.size:
        out.update(tail_stats(vals, w))
    else:
        out.update(_null_stats())
    out.update({"known": n_unknown == 0 and vals.size > 0, "n": int(vals.size), "n_unknown": n_unknown})
    if n_unknown and known.any():
        # Only the known rows, still reweighted by segment -- a lower-confidence figure, labelled as such.
        out["known_rows_only"] = tail_stats(vals[known], w[known]) | {"n": int(known.sum())}
    return out


def _segment_bins(sorted_vals: np.ndarray, bins: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Equal-count bins of a sorted array: (size, mean, variance) per bin."""
    k = min(bins, sorted_vals.size)
    edges = np.linspace(0, sorted_vals.size, k + 1).round().astype(np.int64)
    sizes = np.diff(edges)
    sums = np.add.reduceat(sorted_vals, edges[:-1])
    sq = np.add.reduceat(sorted_vals * sorted_vals, edges[:-1])
    means = sums / sizes
    var = np.maximum(sq / sizes - means * means, 0.0)
    return sizes, means, var


def monthly_spend(cost: np.ndarray, strata: Strata, *, volume: float, months: int,
                  rng: np.random.Generator) -> np.ndarray:
    """Simulated monthly totals: each month draws ``volume`` cases from the production mix.

    Within a segment, costs are compressed into equal-count bins; a month's total is
    sum(count_b * mean_b) plus a normal term with the within-bin variance, so the mean and the
    variance of the total are exact and only the within-bin skew is approximated.
    """
    probs, means, varis = [], [], []
    for s, name in enumerate(strata.names):
        vals = np.sort(cost[strata.codes == s])
        sizes, m, v = _segment_bins(vals, MC_BINS)
        probs.append(strata.pi[s] * sizes / sizes.sum())
        means.append(m)
        varis.append(v)
    p = np.concatenate(probs)
    counts = rng.multinomial(round(volume), p / p.sum(), size=months).astype(float)
    total = counts @ np.concatenate(means)
    spread = np.sqrt(counts @ np.concatenate(varis))
    return total + spread * rng.standard_normal(months)


def naive_cost(cost: np.ndarray, segments: np.ndarray, *, segment: str | None, k: int) -> dict:
    """What a pilot would budget: the mean cost of ``k`` typical cases (nearest the segment's median cost).

    Typical cases come from ``segment`` (by default the most common one: a pilot's everyday
    cases); if it has no known-cost rows, from all rows.
    """
    if segment is None:
        labels, counts = np.unique(segments.astype(str), return_counts=True)
        segment = str(labels[np.argmax(counts)]) if labels.size else ""
    pool = cost[(segments == segment) & ~np.isnan(cost)]
    source = segment
    if pool.size == 0:
        pool, source = cost[~np.isnan(cost)], "all segments"
    if pool.size == 0:
        return {"per_case": None, "cases": 0, "source": source}
    med = np.median(pool)
    nearest = pool[np.argsort(np.abs(pool - med), kind="stable")[:k]]
    return {"per_case": float(nearest.mean()), "cases": int(nearest.size), "source": source}


def cost_section(cost: np.ndarray, segments: np.ndarray, strata: Strata, *, volume: float, months: int,
                 naive_segment: str | None, naive_k: int, rng: np.random.Generator) -> tuple[dict, dict]:
    """(cost_per_case, monthly_cost) blocks for projection.json."""
    per_case = distribution(cost, strata)
    naive = naive_cost(cost, segments, segment=naive_segment, k=naive_k)
    naive_month = None if naive["per_case"] is None else naive["per_case"] * volume
    # Unknown costs stay unknown, the naive figure too: a known "$7" beside an unknown tail reads as a
    # budget. The figure over the known-cost rows is kept apart, labelled, with the count it leaves out.
    monthly: dict = {"mean": None, "p50": None, "p95": None,
                     "naive": naive_month if per_case["known"] else None,
                     "tail_to_naive_ratio": None, "p95_to_naive_ratio": None,
                     "naive_cases": naive["cases"], "naive_source": naive["source"],
                     "months_simulated": months, "known": per_case["known"]}
    if not per_case["known"]:
        monthly["naive_known_rows_only"] = naive_month
        monthly["n_unknown"] = per_case["n_unknown"]
    if per_case["known"]:
        sims = monthly_spend(cost, strata, volume=volume, months=months, rng=rng)
        monthly["mean"] = float(per_case["mean"] * volume)
        monthly["p50"], monthly["p95"] = (float(v) for v in np.quantile(sims, [0.5, 0.95]))
        if naive_month:
            monthly["tail_to_naive_ratio"] = monthly["p50"] / naive_month
            monthly["p95_to_naive_ratio"] = monthly["p95"] / naive_month
    return per_case, monthly
