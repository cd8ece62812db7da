"""Sequential gate verdicts: after each batch of a sequential run, which gates are settled.

Each gate becomes anytime-valid tests (evalkit.gate._anytime) on the cases answered so
far, in the order they were sent:

- ``max_good_rate_drop``: per segment, the paired difference d = baseline good - candidate
  good (in {-1, 0, 1}, mapped to [0, 1]). FAIL is settled when Holm (or no correction, as
  the gate says) over the segments' anytime p-values for H0: E[d] <= max_drop rejects at
  the gate's alpha. PASS is settled early only with a ``pass_margin``: when every segment
  rejects H0: E[d] >= max_drop + pass_margin (an intersection-union test: no correction
  needed). Otherwise the gate stays open, and at the end of the data an open drop gate
  passes (no anytime-valid evidence of a drop).
- ``min_good_rate``, ``max_invalid_share``: a confidence sequence per segment (Bonferroni
  across the segments involved), combined with the dataset's segment weights for an
  overall rate; FAIL/PASS is settled when the whole interval is on one side of the limit.
- ``max_cost_p95_increase``: the share of cases costing more than the limit (baseline p95
  x (1 + max_increase), or + USD) must stay <= 5%; settled like the rates. A case of
  unknown cost settles FAIL (or skip) at once, as the full gate would.
- ``max_calibration_error``, ``min_automation_rate`` need the full data: never settled
  early (the full gate decides at the end).

A FAIL settles the run's verdict: the run stops, and open gates are reported as not
settled. The verdicts of settled gates replace the fixed-sample ones in gates.json.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from evalkit.gate._anytime import anytime_p, confidence_sequence, holm_reject
from evalkit.stats import Estimate, outcome_mask
from evalkit.suite import MaxCostP95Increase, MaxGoodRateDrop, MaxInvalidShare, MinGoodRate

State = Literal["fail", "pass", "open"]
P95_SHARE = 0.05
DEFAULT_ALPHA = 0.05


@dataclass(frozen=True, kw_only=True)
class SeqVerdict:
    gate_index: int
    name: str
    kind: str
    config: str
    state: State
    message: str
    segments: tuple[str, ...] = ()
    observed: Estimate | None = None
    details: tuple[dict[str, Any], ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return {"gate": self.gate_index, "name": self.name, "kind": self.kind, "config": self.config,
                "state": self.state, "message": self.message, "segments": list(self.segments),
                "observed": self.observed.to_dict() if self.observed else None, "details": list(self.details)}


def _ordered(df: pd.DataFrame, order: Mapping[str, int]) -> pd.DataFrame:
    out = df.assign(_pos=df["case_id"].astype(str).map(order))
    return out.sort_values("_pos", kind="stable")


def drop_rejections(diffs: Sequence[np.ndarray], *, max_drop: float, alpha: float, correction: str,
                    ) -> tuple[np.ndarray, np.ndarray]:
    """The drop gate's decision. ``diffs[k]`` holds segment k's paired differences
    (baseline good - candidate good, in {-1, 0, 1}) in the order sent, with any leading
    axes for replications. Returns the anytime p-values for H0: mean difference <=
    max_drop (shape (..., K)) and which segments are rejected (Holm, or none, at alpha)."""
    p = np.stack([anytime_p((np.asarray(d, dtype=float) + 1.0) / 2.0, (max_drop + 1.0) / 2.0, side="greater")
                  for d in diffs], axis=-1)
    rejected = holm_reject(p, alpha) if correction == "holm" else p <= alpha
    return p, rejected


def drop_verdict(base: pd.DataFrame, cand: pd.DataFrame, gate: MaxGoodRateDrop, order: Mapping[str, int], *,
                 pass_margin: float | None) -> tuple[State, str, tuple[str, ...], Estimate | None, list[dict[str, Any]]]:
    """The paired per-segment drop test on the cases both runs answered, in sent order."""
    b = base.assign(_b=outcome_mask(base, gate.outcome).to_numpy())[["case_id", "_b"]]
    c = cand.assign(_c=outcome_mask(cand, gate.outcome).to_numpy())
    paired = _ordered(c.merge(b, on="case_id", how="inner"), order)
    if gate.segments is not None:
        paired = paired[paired["segment"].astype(str).isin(gate.segments)]
    segs = sorted(paired["segment"].astype(str).unique())
    if not segs:
        return "open", "no paired cases yet", (), None, []
    diffs, p_pass, rows = [], [], []
    for seg in segs:
        sub = paired[paired["segment"].astype(str) == seg]
        d = sub["_b"].to_numpy(dtype=float) - sub["_c"].to_numpy(dtype=float)
        diffs.append(d)
        y = (d + 1.0) / 2.0
        if pass_margin is not None:
            p_pass.append(float(anytime_p(y, (gate.max_drop + pass_margin + 1.0) / 2.0, side="less")))
        lo, hi = confidence_sequence(y, gate.alpha)
        rows.append({"segment": seg, "n": int(d.size), "drop": float(d.mean()), "drop_lo": 2 * lo - 1,
                     "drop_hi": 2 * hi - 1, "worse": int((d > 0).sum()), "better": int((d < 0).sum())})
    pf, rejected = drop_rejections(diffs, max_drop=gate.max_drop, alpha=gate.alpha, correction=gate.correction)
    for row, p in zip(rows, pf, strict=True):
        row["p_anytime"] = float(p)
    from evalkit.score import holm

    adjusted = holm(pf, gate.alpha)[0] if gate.correction == "holm" else pf
    for row, adj in zip(rows, adjusted, strict=True):
        row["p_adjusted"] = float(adj)
    worst = max(rows, key=lambda r: r["drop"])
    observed = Estimate(value=worst["drop"], lo=worst["drop_lo"], hi=worst["drop_hi"], n=worst["n"])
    adj_word = "Holm-adjusted " if gate.correction == "holm" else ""
    if rejected.any():
        bad = [r for r, rej in zip(rows, rejected, strict=True) if rej]
        parts = [f"segment '{r['segment']}': good rate dropped {100 * r['drop']:.1f} points "
                 f"(n={r['n']} paired cases so far, {r['worse']} worse / {r['better']} better, "
                 f"{100 * (1 - gate.alpha):.0f}% confidence sequence of the drop {100 * r['drop_lo']:.1f} to "
                 f"{100 * r['drop_hi']:.1f} points), {adj_word}anytime p={r['p_adjusted']:.2g} below "
                 f"α={gate.alpha}; allowed {100 * gate.max_drop:.1f} points" for r in bad]
        return "fail", "; ".join(parts), tuple(r["segment"] for r in bad), observed, rows
    if pass_margin is not None and p_pass and max(p_pass) <= gate.alpha:
        return ("pass", (f"every segment's drop is below {100 * (gate.max_drop + pass_margin):.1f} points "
                f"(anytime p <= {max(p_pass):.2g}); largest so far '{worst['segment']}' {100 * worst['drop']:.1f} "
                "points"), (), observed, rows)
    return ("open", (f"no segment has dropped significantly so far (largest: '{worst['segment']}' "
            f"{100 * worst['drop']:.1f} points, {adj_word}anytime p={worst['p_adjusted']:.2g})"), (), observed, rows)


def _rate_cs(x_by_seg: dict[str, np.ndarray], weights: Mapping[str, float], alpha: float,
             ) -> tuple[float, float, float, int]:
    """A stratified CS for the weighted rate: each segment at alpha / K (Bonferroni),
    unseen segments contribute [0, 1]. Returns (estimate, lo, hi, n)."""
    k = max(1, len(weights))
    lo = hi = est = 0.0
    total = sum(weights.values()) or 1.0
    n = 0
    for seg, w in weights.items():
        x = x_by_seg.get(seg, np.zeros(0))
        s_lo, s_hi = confidence_sequence(x, alpha / k)
        w = w / total
        lo += w * s_lo
        hi += w * s_hi
        est += w * (float(x.mean()) if x.size else 0.5)
        n += int(x.size)
    return est, lo, hi, n


def _by_segment(df: pd.DataFrame, values: np.ndarray) -> dict[str, np.ndarray]:
    segs = df["segment"].astype(str).to_numpy()
    return {s: values[segs == s] for s in np.unique(segs)}


def threshold_verdict(x_by_seg: dict[str, np.ndarray], weights: Mapping[str, float], *, limit: float,
                      higher_is_better: bool, alpha: float, per_segment: bool, what: str,
                      ) -> tuple[State, str, tuple[str, ...], Estimate | None, list[dict[str, Any]]]:
    """Settle 'rate >= limit' (higher_is_better) or 'rate <= limit' from confidence sequences."""
    groups = {s: {s: wt} for s, wt in weights.items()} if per_segment else {"overall": dict(weights)}
    k = len(groups)
    rows, failing, all_pass = [], [], True
    for label, w in groups.items():
        est, lo, hi, n = _rate_cs({s: x_by_seg.get(s, np.zeros(0)) for s in w}, w, alpha / k)
        rows.append({"segment": label, "value": est, "lo": lo, "hi": hi, "n": n})
        bad = hi < limit if higher_is_better else lo > limit
        good = lo >= limit if higher_is_better else hi <= limit
        if bad:
            failing.append(label)
        all_pass &= good
    worst = (min if higher_is_better else max)(rows, key=lambda r: r["value"])
    observed = Estimate(value=worst["value"], lo=worst["lo"], hi=worst["hi"], n=worst["n"])
    cs = f"{100 * (1 - alpha):.0f}% confidence sequence"
    if failing:
        parts = [f"{'segment ' + repr(r['segment']) if per_segment else 'overall'}: {what} "
                 f"{100 * r['value']:.1f}% ({cs} {100 * r['lo']:.1f}-{100 * r['hi']:.1f}%, n={r['n']}) is "
                 f"{'below' if higher_is_better else 'above'} the limit {100 * limit:.1f}%"
                 for r in rows if r["segment"] in failing]
        return "fail", "; ".join(parts), tuple(failing) if per_segment else (), observed, rows
    if all_pass:
        return ("pass", (f"{what} is {'at least' if higher_is_better else 'at most'} {100 * limit:.1f}% "
                f"({cs}; worst {100 * worst['lo']:.1f}-{100 * worst['hi']:.1f}%, n={worst['n']})"), (), observed, rows)
    return ("open", (f"{what} not settled yet ({cs} of the worst: {100 * worst['lo']:.1f}-{100 * worst['hi']:.1f}%, "
            f"limit {100 * limit:.1f}%)"), (), observed, rows)


def _baseline_p95(base: pd.DataFrame) -> float | None:
    if "cost_usd" not in base or base["cost_usd"].isna().any() or base.empty:
        return None
    return float(np.quantile(base["cost_usd"].to_numpy(dtype=float), 0.95))


def sequential_verdicts(gates: Sequence[Any], cand: pd.DataFrame, baseline: Mapping[str, pd.DataFrame] | None,
                        order: Sequence[str], weights: Mapping[str, float], *,
                        pass_margin: float | None = None, alpha: float = DEFAULT_ALPHA) -> list[SeqVerdict]:
    """Verdicts of every gate x configuration on the candidate rows answered so far.

    ``order`` is the order cases were sent; ``weights`` each segment's share of the full
    dataset; ``baseline`` each candidate configuration's paired baseline scores (paired as
    ``evalkit compare`` pairs runs; a configuration absent has no baseline), or None."""
    pos = {c: i for i, c in enumerate(order)}
    cand = cand[cand["case_id"].astype(str).isin(pos)]
    out: list[SeqVerdict] = []
    for gi, gate in enumerate(gates):
        for config in sorted(cand["config"].astype(str).unique()):
            if gate.configs is not None and config not in gate.configs:
                continue
            df = _ordered(cand[cand["config"].astype(str) == config], pos)
            base = baseline.get(config) if baseline is not None else None
            state: State = "open"
            msg, segs, observed, rows = "needs the full data (settled at the end)", (), None, []
            if isinstance(gate, MaxGoodRateDrop):
                if base is None:
                    msg = ("no baseline: skipped" if baseline is None
                           else f"no configuration {config!r} in the baseline run: skipped")
                else:
                    state, msg, segs, observed, rows = drop_verdict(base, df, gate, pos, pass_margin=pass_margin)
            elif isinstance(gate, MinGoodRate):
                good = outcome_mask(df, gate.outcome).to_numpy(dtype=float)
                w = {gate.segment: 1.0} if gate.segment else weights
                state, msg, segs, observed, rows = threshold_verdict(
                    _by_segment(df, good), w, limit=gate.min, higher_is_better=True, alpha=alpha,
                    per_segment=gate.per_segment, what=f"{gate.outcome} rate")
            elif isinstance(gate, MaxInvalidShare):
                bad_status = {"invalid", "failed"} if gate.include_failed else {"invalid"}
                inv = df["status"].astype(str).isin(bad_status).to_numpy(dtype=float)
                state, msg, segs, observed, rows = threshold_verdict(
                    _by_segment(df, inv), weights, limit=gate.max, higher_is_better=False, alpha=alpha,
                    per_segment=False, what="invalid share")
            elif isinstance(gate, MaxCostP95Increase) and base is not None:
                state, msg, segs, observed, rows = _cost_verdict(gate, df, base, weights, alpha)
            out.append(SeqVerdict(gate_index=gi, name=gate.display_name(), kind=gate.kind, config=config,
                                  state=state, message=msg, segments=segs, observed=observed, details=tuple(rows)))
    return out


def _cost_verdict(gate: MaxCostP95Increase, df: pd.DataFrame, base: pd.DataFrame, weights: Mapping[str, float],
                  alpha: float) -> tuple[State, str, tuple[str, ...], Estimate | None, list[dict[str, Any]]]:
    unknown = int(df["cost_usd"].isna().sum()) if "cost_usd" in df else len(df)
    p95 = _baseline_p95(base)
    if unknown or p95 is None:
        if gate.on_unknown == "skip":
            return "open", "cost unknown for some cases: the gate is skipped at the end", (), None, []
        return "fail", (f"p95 cost/case unknown: {unknown} case(s) of unknown cost so far "
                        "(or an unknown baseline cost)"), (), None, []
    limit = p95 * (1 + gate.max_increase) if gate.mode == "relative" else p95 + gate.max_increase
    over = (df["cost_usd"].to_numpy(dtype=float) > limit).astype(float)
    state, msg, segs, observed, rows = threshold_verdict(
        _by_segment(df, over), weights, limit=P95_SHARE, higher_is_better=False, alpha=alpha, per_segment=False,
        what=f"share of cases costing more than ${limit:.6f} (baseline p95 ${p95:.6f} + allowed increase)")
    return state, msg, segs, observed, rows


def overall_state(verdicts: Sequence[SeqVerdict]) -> State:
    """The run's verdict so far: a settled failure settles it; else pass only when all passed."""
    if any(v.state == "fail" for v in verdicts):
        return "fail"
    if verdicts and all(v.state == "pass" for v in verdicts):
        return "pass"
    return "open"


def apply_sequential(report: Any, verdicts: Sequence[SeqVerdict], *, exhausted: bool,
                     info: dict[str, Any]) -> Any:
    """The gate report of a sequential run: settled verdicts replace the fixed-sample ones.

    Open gates: at the end of the data, a drop gate passes (its anytime-valid test found no
    drop) and the other gates keep their full-data result; when the run stopped early on a
    failure, they are reported as skipped (not settled)."""
    from dataclasses import replace

    pending: dict[tuple[str, str, str], list[SeqVerdict]] = {}
    for v in verdicts:
        pending.setdefault((v.name, v.kind, v.config), []).append(v)
    results = []
    for r in report.results:
        queue = pending.get((r.name, r.kind, r.config))
        v = queue.pop(0) if queue else None
        if v is None or r.status == "skip" and v.state == "open":
            results.append(r)
            continue
        extra: dict[str, Any] = {"segments": v.segments, "details": v.details}
        if v.observed is not None and r.unit in ("rate", "points"):  # same unit as the full gate's
            extra["observed"] = v.observed
        if v.state == "fail":
            results.append(replace(r, status="fail", message=f"sequential: {v.message}", **extra))
        elif v.state == "pass":
            results.append(replace(r, status="pass", message=f"sequential: {v.message}", **extra))
        elif exhausted and isinstance(v, SeqVerdict) and v.kind == "max_good_rate_drop":
            results.append(replace(r, status="pass", message=f"sequential, all cases: {v.message}", **extra))
        elif exhausted:
            results.append(r)
        else:
            results.append(replace(r, status="skip", settled=False, message=f"not settled: the run stopped early "
                                                                            f"on another gate's failure; {v.message}",
                                   **extra))
    return replace(report, results=tuple(results), sequential=info)
