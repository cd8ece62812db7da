"""The "Context and cost" section: what each configuration's context policy costs and buys.

Per configuration: good rate (with its interval) against mean input tokens per case, the
frontier of configurations no other beats on both, and each case's tokens and cost split
into fixed prompt (instructions, policy, facts, message), history, retrieved context and
output. The tail rows show what the most expensive 10% of cases are made of, and the
monthly spend at the tail beside the naive figure comes from the projection (one
implementation: evalkit.project). Costs split by the configuration's recorded price per
token; with no recorded price the split is shown in tokens only ("unknown" in USD).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from evalkit.formatting import signed_parts
from evalkit.report import _charts
from evalkit.report._assemble import Change, Column, Matrix, projection_entry
from evalkit.stats import ALL, Estimate, outcome_mask, rate

PARTS = ("fixed", "history", "retrieved", "output")
TAIL_SHARE = 0.10


@dataclass(frozen=True, kw_only=True)
class ContextRow:
    column: Column
    policy: str
    good: Estimate
    input_tokens: float
    tokens: dict[str, float]
    """Mean tokens per case by part."""
    usd: dict[str, float] | None
    """Mean USD per case by part (None: no recorded price)."""
    tail_tokens: dict[str, float]
    """Mean tokens by part over the most expensive 10% of cases."""
    tail_share_of_spend: float | None
    on_frontier: bool
    monthly: dict[str, Any]
    delta_good: Change | None = None
    """The good-rate change against the column's reference: the segment matrix's overall change (the same
    pairing, ``evalkit.score.config_pairs``, and the same computation: paired on the shared cases), with its
    95% interval; None for a reference itself or a column without one."""
    reference: str | None = None
    """The label of the column the row's differences are against (its ``Column.ref``), '(simulated)' when
    that configuration is and the row's is not (``Column.other_label``): the row's differences rest on
    simulated numbers its own label does not mark."""
    reference_simulated: bool = False
    delta_monthly: float | None = None

    @property
    def delta_good_pts(self) -> float | None:
        return None if self.delta_good is None else 100 * self.delta_good.diff

    @property
    def delta_good_text(self) -> str:
        """'-13.0 [-15.1, -10.9]' in points (the interval grows decimals rather than collapse)."""
        ch = self.delta_good
        if ch is None:
            return ""
        d, lo, hi = signed_parts(100 * ch.diff, 100 * ch.lo, 100 * ch.hi)
        return f"{d} [{lo}, {hi}]"


@dataclass(kw_only=True)
class ContextSection:
    rows: list[ContextRow]
    frontier_svg: str | None
    references: list[str]
    """The reference labels the rows' differences are against (each row's ``Column.ref``)."""


def describe_policy(context: dict[str, Any] | None) -> str:
    """A short human label of a recorded context policy."""
    c = context or {}
    parts = []
    if c.get("memory") == "summary":
        parts.append(f"summary memory (last {c.get('recent_turns') or 5} verbatim"
                     + (f", {c['summary_tokens']} tok" if c.get("summary_tokens") else "") + ")")
    elif c.get("max_history_turns") is not None or c.get("max_history_tokens") is not None:
        caps = []
        if c.get("max_history_turns") is not None:
            caps.append(f"{c['max_history_turns']} turns")
        if c.get("max_history_tokens") is not None:
            caps.append(f"{c['max_history_tokens']} tokens")
        parts.append("history ≤ " + ", ".join(caps))
    else:
        parts.append("full history")
    r = c.get("retrieval")
    if r:
        parts.append(f"retrieval top-{r.get('k')} ({'+'.join(r.get('sources') or [])})")
    return "; ".join(parts)


def _parts(df: Any) -> dict[str, np.ndarray] | None:
    if "input_tokens" not in df or df["input_tokens"].isna().any() or df["output_tokens"].isna().any():
        return None
    inp = df["input_tokens"].to_numpy(dtype=float)
    hist = df["history_tokens"].to_numpy(dtype=float) if "history_tokens" in df else np.zeros_like(inp)
    ret = (df["retrieved_tokens"].fillna(0).to_numpy(dtype=float) if "retrieved_tokens" in df
           else np.zeros_like(inp))
    # history/retrieved are counted on their own text; what is left of the input is the fixed prompt.
    hist, ret = np.minimum(hist, inp), np.minimum(ret, inp)
    fixed = np.maximum(inp - hist - ret, 0.0)
    return {"fixed": fixed, "history": hist, "retrieved": ret, "output": df["output_tokens"].to_numpy(dtype=float)}


def _frontier(points: list[tuple[float, float]]) -> list[bool]:
    """True where no other point has fewer-or-equal tokens and a higher-or-equal good rate (one strictly)."""
    out = []
    for i, (t, g) in enumerate(points):
        dominated = any((t2 <= t and g2 >= g and (t2 < t or g2 > g)) for j, (t2, g2) in enumerate(points) if j != i)
        out.append(not dominated)
    return out


def context_section(cols: Sequence[Column], *, matrix: Matrix | None = None,
                    salt: str = "ctx") -> ContextSection | None:
    staged = []
    for c in cols:
        df = c.df
        parts = _parts(df)
        if parts is None or not len(df):
            continue
        price = c.meta.price
        per_token = {"input": price.input if price else None, "output": price.output if price else None}
        usd = None
        if per_token["input"] is not None and per_token["output"] is not None:
            usd = {k: float(np.mean(v)) * (per_token["output"] if k == "output" else per_token["input"])
                   for k, v in parts.items()}
        cost = df["cost_usd"].to_numpy(dtype=float) if "cost_usd" in df and not df["cost_usd"].isna().any() \
            else None
        total = sum(parts.values())
        key = cost if cost is not None else total
        cut = np.quantile(key, 1 - TAIL_SHARE)
        tail = key >= cut
        tail_share = float(key[tail].sum() / key.sum()) if key.sum() > 0 else None
        staged.append({"column": c, "policy": describe_policy(c.meta.context), "good": rate(outcome_mask(df, "good")),
                       "input_tokens": float(np.mean(parts["fixed"] + parts["history"] + parts["retrieved"])),
                       "tokens": {k: float(np.mean(v)) for k, v in parts.items()}, "usd": usd,
                       "tail_tokens": {k: float(np.mean(v[tail])) for k, v in parts.items()},
                       "tail_share_of_spend": tail_share, "monthly": _monthly(projection_entry(c))})
    if not staged:
        return None
    flags = _frontier([(s["input_tokens"], s["good"].value) for s in staged])
    by_column = {id(s["column"]): s for s in staged}
    rows = []
    for s, on in zip(staged, flags):
        # Against the column's own reference, as the segment matrix compares it (evalkit.score.config_pairs;
        # else the suite's baseline_config), never against another "reference" of this section's own.
        ref_col = s["column"].ref
        ref = by_column.get(id(ref_col)) if ref_col is not None else None
        change = matrix.changes.get((ALL, s["column"].key)) if matrix is not None and ref_col is not None else None
        ref_month, month = (ref or {}).get("monthly", {}).get("p50"), s["monthly"].get("p50")
        rows.append(ContextRow(**s, on_frontier=on, delta_good=change,
                               reference=s["column"].other_label(ref_col) if ref_col is not None else None,
                               reference_simulated=ref_col is not None and ref_col.simulated
                               and not s["column"].simulated,
                               delta_monthly=(month - ref_month) if ref is not None and None not in (month, ref_month)
                               else None))
    svg = _charts.draw(_charts.frontier_chart, [(r.column.sim_label, r.input_tokens, r.good.value, r.good.lo,
                                                 r.good.hi, r.on_frontier) for r in rows], salt=f"{salt}-frontier")
    return ContextSection(rows=rows, frontier_svg=svg,
                          references=list(dict.fromkeys(r.reference for r in rows if r.reference is not None)))


def _monthly(entry: Any) -> dict[str, Any]:
    """The projection's monthly spend (naive, p50, p95, ratio) as a plain dict; {} when not projected."""
    cost = getattr(entry, "monthly_cost", None) if entry is not None else None
    if cost is None:
        return {}
    return cost.model_dump() if hasattr(cost, "model_dump") else dict(cost)
