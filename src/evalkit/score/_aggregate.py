"""Aggregates of the tidy scores table: one row per config x segment (+ segment "ALL").

Denominators: every rate is over *all* cases of the group (n). Invalid and failed
rows count as not correct and not good (a missing answer is not a right answer),
and as not deferred (the model did not ask for a human; the harness fails over).

Costs and tokens: a null is unknown, never 0. ``cost_mean``/``cost_p95`` are NaN as
soon as one row of the group has an unknown cost (an honest per-case cost cannot be
computed); ``cost_known_mean``/``cost_known_p95`` are explicitly over the rows with a
known cost, next to ``cost_known_n`` and ``cost_unknown_n``. Same for tokens.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from typing import Any

import numpy as np
import pandas as pd

from evalkit.errors import DataError
from evalkit.score._stats import paired_diff_newcombe, wilson
from evalkit.stats import ALL  # one overall label everywhere

RATES = ("correct", "good", "invalid", "deferred")
REQUIRED = ("status", "correct", "good", "deferred")

AGG_COLUMNS: tuple[str, ...] = (
    "n",
    *(f"{m}_{s}" for m in RATES for s in ("k", "rate", "lo", "hi", "n")),
    "failed_k",
    "gap", "gap_lo", "gap_hi", "gap_k", "gap_n",
    *(f"{q}_{s}" for q in ("tokens", "cost")
      for s in ("mean", "p95", "known_mean", "known_p95", "known_n", "unknown_n")),
)


def _bool(col: pd.Series) -> np.ndarray:
    # Null booleans (invalid rows written without a verdict) are "not true".
    return col.fillna(False).to_numpy(dtype=bool)


def _indicators(scores: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    missing = [c for c in (*by, *REQUIRED) if c not in scores.columns]
    if missing:
        raise DataError(f"scores table lacks column(s) {missing}; have {list(scores.columns)}")
    ok = (scores["status"] == "ok").fillna(False).to_numpy(dtype=bool)
    # A row without a status never got an answer: count it as a failed call.
    failed = ((scores["status"] == "failed").fillna(False) | scores["status"].isna()).to_numpy(dtype=bool)
    correct = _bool(scores["correct"]) & ok
    good = _bool(scores["good"]) & ok
    if "total_tokens" in scores.columns:
        tokens = pd.to_numeric(scores["total_tokens"], errors="coerce").to_numpy(dtype=float)
    elif {"input_tokens", "output_tokens"} <= set(scores.columns):
        tokens = (pd.to_numeric(scores["input_tokens"], errors="coerce")
                  + pd.to_numeric(scores["output_tokens"], errors="coerce")).to_numpy(dtype=float)
    else:
        tokens = np.full(len(scores), np.nan)
    cost = (pd.to_numeric(scores["cost_usd"], errors="coerce").to_numpy(dtype=float)
            if "cost_usd" in scores.columns else np.full(len(scores), np.nan))
    # Group on integer codes (factorize once), not on 1M Python strings; labels are
    # mapped back after the reduction.
    frame: dict[str, Any] = {}
    labels: dict[str, np.ndarray] = {}
    for k in by:
        codes, uniques = pd.factorize(scores[k], use_na_sentinel=False)
        frame[k] = codes
        labels[k] = np.array(["<null>" if pd.isna(u) else str(u) for u in uniques], dtype=object)
    frame.update(
        correct_k=correct.astype(np.int64), good_k=good.astype(np.int64),
        invalid_k=(~ok).astype(np.int64), failed_k=failed.astype(np.int64),
        deferred_k=(_bool(scores["deferred"]) & ok).astype(np.int64),
        # 2x2 of (correct, good) on the same case, for the paired gap interval.
        cg11=(correct & good).astype(np.int64), cg10=(correct & ~good).astype(np.int64),
        cg01=(~correct & good).astype(np.int64),
        tokens_known_n=(~np.isnan(tokens)).astype(np.int64), tokens=tokens,
        cost_known_n=(~np.isnan(cost)).astype(np.int64), cost=cost,
    )
    return pd.DataFrame(frame), labels


def _group(ind: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    g = ind.groupby(keys, sort=True, observed=True)
    counts = g[["correct_k", "good_k", "invalid_k", "failed_k", "deferred_k", "cg11", "cg10", "cg01",
                "tokens_known_n", "cost_known_n"]].sum()
    counts["n"] = g.size()
    means = g[["tokens", "cost"]].mean()  # NaN-skipping: over known rows only
    p95 = g[["tokens", "cost"]].quantile(0.95)
    out = counts
    for q in ("tokens", "cost"):
        out[f"{q}_known_mean"] = means[q]
        out[f"{q}_known_p95"] = p95[q]
    return out.reset_index()


def aggregate(scores: pd.DataFrame, *, by: Sequence[str] = ("config", "segment")) -> pd.DataFrame:
    """Tidy aggregates: one row per ``by`` group, plus ``by[1:] == "ALL"`` per ``by[0]``.

    Columns: the ``by`` keys then ``AGG_COLUMNS`` (see module docstring and docs/scoring.md).
    """
    by = list(by)
    if not by:
        raise DataError("aggregate needs at least one grouping column (e.g. 'config')")
    ind, labels = _indicators(scores, by)
    for key in by[1:]:
        if (labels[key] == ALL).any():
            raise DataError(f"column {key!r} contains the reserved value {ALL!r}")
    parts = [_group(ind, by)]
    if len(by) > 1:
        parts.insert(0, _group(ind, by[:1]))
    for part in parts:
        for key in by:
            part[key] = labels[key][part[key].to_numpy()] if key in part.columns else ALL
    agg = pd.concat(parts, ignore_index=True) if len(scores) else parts[-1]
    return _finish(agg, by)


def _finish(agg: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    n = agg["n"].to_numpy(dtype=float)
    safe_n = np.where(n > 0, n, 1.0)
    for m in RATES:
        k = agg[f"{m}_k"].to_numpy(dtype=float)
        lo, hi = wilson(k, n)
        agg[f"{m}_rate"] = np.where(n > 0, k / safe_n, np.nan)
        agg[f"{m}_lo"], agg[f"{m}_hi"], agg[f"{m}_n"] = lo, hi, agg["n"]
    n00 = agg["n"] - agg["cg11"] - agg["cg10"] - agg["cg01"]
    gap, gap_lo, gap_hi = paired_diff_newcombe(agg["cg11"], agg["cg10"], agg["cg01"], n00)
    agg["gap"], agg["gap_lo"], agg["gap_hi"] = gap, gap_lo, gap_hi
    agg["gap_k"], agg["gap_n"] = agg["cg10"], agg["n"]
    for q in ("tokens", "cost"):
        agg[f"{q}_unknown_n"] = agg["n"] - agg[f"{q}_known_n"]
        complete = agg[f"{q}_unknown_n"] == 0
        agg[f"{q}_mean"] = agg[f"{q}_known_mean"].where(complete, np.nan)
        agg[f"{q}_p95"] = agg[f"{q}_known_p95"].where(complete, np.nan)
    # "ALL" first within each config, then segments in name order.
    if len(by) > 1:
        agg["_all"] = (agg[by[1]] != ALL).astype(int)
        agg = agg.sort_values([by[0], "_all", *by[1:]], kind="stable").drop(columns="_all")
    return agg[[*by, *AGG_COLUMNS]].reset_index(drop=True)


def _num(x: Any) -> float | int | None:
    if x is None:
        return None
    if isinstance(x, (np.integer, int)) and not isinstance(x, bool):
        return int(x)
    f = float(x)
    return None if math.isnan(f) else f


def _row_dict(row: pd.Series) -> dict[str, Any]:
    out: dict[str, Any] = {"n": _num(row["n"])}
    for m in RATES:
        out[m] = {"value": _num(row[f"{m}_rate"]), "lo": _num(row[f"{m}_lo"]), "hi": _num(row[f"{m}_hi"]),
                  "n": _num(row[f"{m}_n"]), "k": _num(row[f"{m}_k"])}
    out["gap"] = {"value": _num(row["gap"]), "lo": _num(row["gap_lo"]), "hi": _num(row["gap_hi"]),
                  "n": _num(row["gap_n"]), "k": _num(row["gap_k"])}
    out["failed_n"] = _num(row["failed_k"])
    for q, name in (("tokens", "tokens_per_case"), ("cost", "cost_per_case")):
        out[name] = {
            "mean": _num(row[f"{q}_mean"]), "p95": _num(row[f"{q}_p95"]),
            "known_mean": _num(row[f"{q}_known_mean"]), "known_p95": _num(row[f"{q}_known_p95"]),
            "known_n": _num(row[f"{q}_known_n"]), "unknown_n": _num(row[f"{q}_unknown_n"]),
            "known": bool(row[f"{q}_unknown_n"] == 0),
        }
    return out


def summary_dict(agg: pd.DataFrame, *, by: Sequence[str] = ("config", "segment"),
                 simulated: Collection[str] = ()) -> dict[str, Any]:
    """JSON-ready form of ``aggregate()`` output for ``summary.json`` (NaN -> null). ``simulated``: the
    configurations whose numbers come from a simulated provider (each says so, and the summary says
    whether any does)."""
    config_key, seg_key = by[0], (by[1] if len(by) > 1 else None)
    configs: dict[str, Any] = {}
    for _, row in agg.iterrows():
        name = str(row[config_key])
        entry = configs.setdefault(name, {"overall": None, "segments": {}, "simulated": name in simulated})
        if seg_key is None or row[seg_key] == ALL:
            entry["overall"] = _row_dict(row)
        else:
            entry["segments"][str(row[seg_key])] = _row_dict(row)
    return {
        "schema": 1,
        "interval": "wilson_95",
        "gap_interval": "newcombe_paired_method10_95",
        "denominator": "all cases; invalid/failed count as not correct, not good, not deferred",
        "cost_policy": "mean/p95 are null when any case cost is unknown; known_* are over known rows only",
        "simulated": any(c["simulated"] for c in configs.values()),
        "configs": configs,
    }
