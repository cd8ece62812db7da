"""Cost-optimal threshold, honest about its cost: chosen on K-1 folds, costed on the held-out fold.

Expected cost per case at threshold t:
``C(t) = [review_cost * #escalated(t) + sum_{automated i} error_cost_i * error_i] / n``,
where non-automatable rows (invalid, failed, deferred) are always escalated. Candidates are the
certified thresholds when a risk target is set (so the choice inherits the LTT guarantee), else the
whole grid; "escalate everything" is always a candidate.

The decision compares procedures on held-out folds: "automate above the cheapest candidate"
(chosen on K-1 folds, costed on the held-out one) against "escalate everything", whose cost
(review_cost per case) involves no choice. A threshold whose saving shows only on the data that
chose it is not a saving: when the held-out cost is not below escalate-all's, the decision is to
escalate everything, and the cheapest candidate is kept beside it (``cheapest_candidate``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from evalkit.calibrate._bins import rate, to_ticks
from evalkit.calibrate._recal import apply_map


def _cost_curve(conf: np.ndarray, werr: np.ndarray, cand: np.ndarray, review: float) -> np.ndarray:
    """Total cost over the given automatable rows for each candidate (last = escalate all)."""
    ticks = to_ticks(conf)
    order = np.argsort(ticks, kind="stable")
    st = ticks[order]
    cum = np.r_[0.0, np.cumsum(werr[order])]
    pos = np.searchsorted(st, to_ticks(cand), side="left")
    n_auto = st.size - pos
    cost = review * (st.size - n_auto) + (cum[-1] - cum[pos])
    return np.r_[cost, review * st.size]


def cost_optimal(conf: np.ndarray, err: np.ndarray, err_cost: np.ndarray, fold: np.ndarray, k: int, *,
                 candidates: np.ndarray, review_cost: float, n_total: int, p_oof: np.ndarray,
                 final_map: Mapping | None, certified: bool = True) -> dict:
    """Cost-optimal threshold over ``candidates`` (descending) for automatable rows ``conf``.

    ``n_total`` counts every row (the non-automatable ones add review_cost each). ``p_oof`` are
    out-of-fold recalibrated probabilities for the Bayes rule, automate iff p >= 1 - review/error.
    """
    werr = err_cost * err.astype(float)
    fixed = review_cost * (n_total - conf.size)
    cand = np.asarray(candidates, dtype=float)
    labels = [float(t) for t in cand] + [None]
    total = _cost_curve(conf, werr, cand, review_cost)
    best = int(np.argmin(total))  # ties -> the higher threshold (earlier in the descending list)
    # held-out estimate: choose on the other folds, cost on this one
    oof_cost = 0.0
    fold_choice = []
    for f in range(max(k, 1)):
        test = fold == f if k > 1 else np.ones(conf.size, bool)
        train = ~test if k > 1 else test
        j = int(np.argmin(_cost_curve(conf[train], werr[train], cand, review_cost)))
        fold_choice.append(labels[j])
        oof_cost += _cost_curve(conf[test], werr[test], cand, review_cost)[j]
    n = max(n_total, 1)
    in_sample, held_out = float((total[best] + fixed) / n), float((oof_cost + fixed) / n)
    escalate_all = float(review_cost)  # every row reviewed: known exactly, nothing chosen
    tuned = {"threshold": labels[best], "expected_cost_per_case_in_sample": in_sample,
             "expected_cost_per_case_held_out": held_out}
    # ties go to escalate-all: the same cost without automating anything
    keep = labels[best] is not None and automating_pays(held_out, escalate_all)
    thr = labels[best] if keep else None
    if not keep:
        in_sample = held_out = escalate_all
    auto = (to_ticks(conf) >= to_ticks(thr)) if thr is not None else np.zeros(conf.size, bool)
    # error_cost 0 or below review_cost: automating is always cheaper, cut clipped to 0
    safe = np.where(err_cost > 0, err_cost, 1.0)
    cut = np.where(err_cost > 0, np.clip(1.0 - review_cost / safe, 0.0, 1.0), 0.0)
    bayes_auto = p_oof >= cut
    # escalated = every row not automated by the rule, including the non-automatable ones
    bayes_cost = review_cost * (n_total - bayes_auto.sum()) + float((werr * bayes_auto).sum())
    out = {
        "threshold": thr,
        "threshold_calibrated": (float(apply_map(final_map, np.array([thr]))[0])
                                 if thr is not None and final_map is not None else None),
        "candidates": ("all grid thresholds (no risk target set)" if not certified
                       else "certified thresholds" if len(cand) else "none certified: escalate everything"),
        "decision": "threshold" if keep else "escalate_all",
        "cheaper": cheaper_sentence(tuned, escalate_all, keep, n_candidates=len(cand)),
        "expected_cost_per_case_in_sample": in_sample,
        "expected_cost_per_case_held_out": held_out,
        "held_out": f"chosen on {k - 1} folds, costed on the held-out fold (K={k})" if k > 1 else "no folds",
        "fold_thresholds": fold_choice,
        "cheapest_candidate": tuned,
        "escalate_all_cost_per_case": escalate_all,
        "automation": rate(int(auto.sum()), n_total),
        "errors_automated": int(err[auto].sum()),
        "bayes_rule": {
            "rule": "automate iff calibrated P(outcome) >= 1 - review_cost / error_cost",
            "cut": sorted({float(c) for c in np.unique(cut)}),
            "scores": "out-of-fold recalibrated",
            "automation": rate(int(bayes_auto.sum()), n_total),
            "expected_cost_per_case_held_out": float(bayes_cost / n),
            "errors_automated": int(err[bayes_auto].sum()),
        },
    }
    if final_map is not None and np.unique(cut).size == 1:
        grid = np.round(np.arange(0, 1.0 + 1e-9, 0.001), 9)
        ok = apply_map(final_map, grid) >= cut[0] if cut.size else np.zeros(grid.size, bool)
        out["bayes_rule"]["raw_threshold_equivalent"] = float(grid[ok].min()) if ok.any() else None
    return out


def automating_pays(held_out: float, escalate_all: float) -> bool:
    """The decision rule: automate above the cheapest candidate only when it costs less per case on
    held-out folds than reviewing everything (a tie goes to escalate-all: the same cost, nothing automated)."""
    return held_out < escalate_all - 1e-9


def escalates_all(cost_optimal: Mapping[str, Any]) -> bool:
    """Whether a stored cost-optimal block decided to escalate everything: its ``decision``, or, in a
    thresholds file written before the decision was stored, the same rule on its two costs."""
    if cost_optimal.get("decision") is not None:
        return cost_optimal["decision"] == "escalate_all"
    held, escalate = cost_optimal.get("expected_cost_per_case_held_out"), cost_optimal.get("escalate_all_cost_per_case")
    return cost_optimal.get("threshold") is not None and None not in (held, escalate) and \
        not automating_pays(held, escalate)


def cheaper_sentence(tuned: Mapping, escalate_all: float, keep: bool, *, n_candidates: int) -> str:
    """Which decision is cheaper per case, in dollars (review and error costs are USD)."""
    t, held_out = tuned["threshold"], tuned["expected_cost_per_case_held_out"]
    if not n_candidates:
        return f"escalate everything (${escalate_all:.2f} per case): no threshold to automate above"
    if t is None:
        return (f"escalating everything (${escalate_all:.2f} per case) is cheaper than automating above any "
                "candidate threshold, even on the data that would choose one")
    compared = (f"automating above {t:.2f} (the cheapest candidate: ${held_out:.2f} per case held out, "
                f"${tuned['expected_cost_per_case_in_sample']:.2f} on the data that chose it)")
    if keep:
        return f"{compared[0].upper()}{compared[1:]} is cheaper than escalating everything (${escalate_all:.2f} per case)"
    return f"escalating everything (${escalate_all:.2f} per case) is cheaper than {compared}"
