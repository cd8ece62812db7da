"""Threshold certification across segments: global (pooled), per segment, or all segments at once.

* global: one LTT on all automatable rows; guarantees the pooled error rate only.
* all_segments: one threshold certified for every segment at once (max p-value across segments).
  Segments with fewer automatable cases than the zero-error minimum can never be certified;
  they are escalated, listed, and left out (a label-free choice) so they do not block the rest.
* per_segment: a threshold per segment at delta / S (Bonferroni over all S segments present),
  so all segment guarantees hold simultaneously with probability >= 1 - delta.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from evalkit.calibrate._bins import cp_upper, n_min_zero_errors, rate, segment_masks, to_ticks
from evalkit.calibrate._ltt import LTTResult, counts_at, ltt_all_segments, ltt_single
from evalkit.calibrate._planner import no_plan_reason, plan_segment


@dataclass(kw_only=True)
class Certification:
    mode: str
    overall: LTTResult | None  # the single threshold (global/all_segments); None in per_segment mode
    segments: dict[str, dict]
    segment_results: dict[str, LTTResult]
    uncertified: list[str]
    automated: np.ndarray  # bool per automatable row under the chosen threshold(s)
    notes: list[str] = field(default_factory=list)


def _seg_counts(conf: np.ndarray, err: np.ndarray, thr: float | None, n_total: int) -> dict:
    auto = to_ticks(conf) >= to_ticks(thr) if thr is not None else np.zeros(conf.size, bool)
    na, ke = int(auto.sum()), int(err[auto].sum())
    return {"n": n_total, "n_automatable": int(conf.size), "n_automated": na, "n_errors": ke,
            "coverage": rate(na, n_total), "error_rate": rate(ke, na)}


def _ltt_json(r: LTTResult) -> dict:
    return {"threshold": r.threshold, "certified": r.certified, "risk_upper_bound": r.risk_upper_bound,
            "delta_used": r.delta, "n_min_automated": r.n_min, "message": r.message,
            "p_value_path": [[p["threshold"], p["p_value"]] for p in r.path], "path": r.path,
            "cases_needed": r.cases_needed}


@dataclass(frozen=True, kw_only=True)
class _Rows:
    """The automatable rows of one configuration and the risk target."""

    conf: np.ndarray
    err: np.ndarray
    seg: np.ndarray
    seg_total: dict[str, int]
    grid: np.ndarray
    alpha: float
    delta: float
    min_segment_n: int | None

    @property
    def segments(self) -> list[str]:
        return sorted(self.seg_total)

    @property
    def n_total(self) -> int:
        return int(sum(self.seg_total.values()))


def certify(conf: np.ndarray, err: np.ndarray, seg: np.ndarray, seg_total: dict[str, int], grid: np.ndarray,
            *, mode: str, alpha: float, delta: float, min_segment_n: int | None,
            never_automate: tuple[str, ...] | list[str] = ()) -> Certification:
    """``conf``/``err``/``seg`` are automatable rows; ``seg_total`` counts all rows per segment.

    Segments in ``never_automate`` (declared in the suite) are not tested: always escalated
    (in ``global`` mode the pooled threshold still covers them: segments are not certified there)."""
    never = [s for s in sorted(seg_total) if s in set(never_automate)] if mode != "global" else []
    if never:
        return _without_never(conf, err, seg, seg_total, grid, never, mode=mode, alpha=alpha, delta=delta,
                              min_segment_n=min_segment_n)
    rows = _Rows(conf=conf, err=err, seg=seg, seg_total=seg_total, grid=grid, alpha=alpha, delta=delta,
                 min_segment_n=min_segment_n)
    if mode == "per_segment":
        return _per_segment(rows)
    if mode == "global":
        return _global(rows)
    return _all_segments(rows)


def _without_never(conf: np.ndarray, err: np.ndarray, seg: np.ndarray, seg_total: dict[str, int], grid: np.ndarray,
                   never: list[str], *, mode: str, alpha: float, delta: float,
                   min_segment_n: int | None) -> Certification:
    """Certify the other segments; the never-automate ones are listed as always reviewed."""
    keep = ~np.isin(seg, never)
    cert = certify(conf[keep], err[keep], seg[keep], {s: n for s, n in seg_total.items() if s not in never},
                   grid, mode=mode, alpha=alpha, delta=delta, min_segment_n=min_segment_n)
    full = np.zeros(conf.size, bool)
    full[keep] = cert.automated
    cert.automated = full
    for s in never:
        m = seg == s
        cert.segments[s] = {**_seg_counts(conf[m], err[m], None, seg_total[s]), "threshold": None,
                            "certified": False, "never_automate": True, "excluded": True,
                            "reason": "declared never-automate in the suite: always reviewed"}
    cert.segments = dict(sorted(cert.segments.items()))
    cert.notes.append(f"never automated (suite): {', '.join(never)}")
    return cert


def _per_segment(x: _Rows) -> Certification:
    """A threshold per segment at delta / S; segments too small even with zero errors are escalated."""
    segments = x.segments
    masks = segment_masks(x.seg, segments)
    out: dict[str, dict] = {}
    results: dict[str, LTTResult] = {}
    uncertified: list[str] = []
    d_s = x.delta / max(len(segments), 1)
    n_min = x.min_segment_n or n_min_zero_errors(x.alpha, d_s)
    automated = np.zeros(x.conf.size, bool)
    for s in segments:
        m = masks[s]
        conf, err = x.conf[m], x.err[m]
        if m.sum() < n_min:
            n_t, k_t = counts_at(conf, err, x.grid)
            # enough cases to be tested at all (automatable share held), then the same fixed sequence
            at_least = -(-n_min * x.seg_total[s] // int(m.sum())) if m.any() else 0
            plan = plan_segment(x.grid, n_t, k_t, n_total=x.seg_total[s], alpha=x.alpha, delta=d_s,
                                min_total=at_least)
            reason = (f"too small: {int(m.sum())} automatable cases < {n_min} needed even "
                      f"with zero errors at alpha={x.alpha:g}, delta/S={d_s:.4g}; escalated")
            if plan is None:
                reason += "; " + no_plan_reason(x.grid, [(n_t, k_t)], alpha=x.alpha)
            out[s] = {**_seg_counts(conf, err, None, x.seg_total[s]), "threshold": None,
                      "certified": False, "delta_used": d_s,
                      "cases_needed": plan.to_dict() if plan is not None else None, "reason": reason}
            uncertified.append(s)
            continue
        r = ltt_single(conf, err, x.grid, n_total=x.seg_total[s], alpha=x.alpha, delta=d_s,
                       what=f"segment {s}, Bonferroni delta/{len(segments)}")
        results[s] = r
        out[s] = {**_seg_counts(conf, err, r.threshold, x.seg_total[s]), **_ltt_json(r)}
        if not r.certified:
            uncertified.append(s)
        else:
            automated[m] = to_ticks(conf) >= to_ticks(r.threshold)
    return Certification(mode="per_segment", overall=None, segments=out, segment_results=results,
                         uncertified=uncertified, automated=automated, notes=[])


def _global(x: _Rows) -> Certification:
    """One LTT on all automatable rows: only the pooled error rate is certified."""
    masks = segment_masks(x.seg, x.segments)
    r = ltt_single(x.conf, x.err, x.grid, n_total=x.n_total, alpha=x.alpha, delta=x.delta)
    automated = to_ticks(x.conf) >= to_ticks(r.threshold) if r.threshold is not None \
        else np.zeros(x.conf.size, bool)
    out = {}
    for s in x.segments:
        m = masks[s]
        out[s] = {**_seg_counts(x.conf[m], x.err[m], r.threshold, x.seg_total[s]), "threshold": r.threshold,
                  "certified": None, "reason": "global mode: only the pooled error rate is certified"}
    return Certification(mode="global", overall=r, segments=out, segment_results={}, uncertified=[],
                         automated=automated, notes=[])


def _all_segments(x: _Rows) -> Certification:
    """One threshold certified for each sufficiently large segment at once."""
    segments = x.segments
    masks = segment_masks(x.seg, segments)
    n_min = x.min_segment_n or n_min_zero_errors(x.alpha, x.delta)
    included = [s for s in segments if int(masks[s].sum()) >= n_min]
    small = [s for s in segments if s not in included]
    if included:
        r, per = ltt_all_segments(x.conf, x.err, masks, included, x.grid, n_total=x.n_total, alpha=x.alpha,
                                  delta=x.delta)
    else:
        r = ltt_single(x.conf[:0], x.err[:0], x.grid, n_total=x.n_total, alpha=x.alpha, delta=x.delta,
                       what="no segment has enough automatable cases")
        per = {}
    thr = r.threshold
    in_mask = np.logical_or.reduce([masks[s] for s in included]) if included else np.zeros(x.conf.size, bool)
    automated = (to_ticks(x.conf) >= to_ticks(thr)) & in_mask if thr is not None else np.zeros(x.conf.size, bool)
    out: dict[str, dict] = {}
    uncertified: list[str] = []
    for s in segments:
        m = masks[s]
        if s in small:
            out[s] = {**_seg_counts(x.conf[m], x.err[m], None, x.seg_total[s]), "threshold": None,
                      "certified": False, "excluded": True,
                      "reason": f"too small: {int(m.sum())} automatable cases < {n_min} needed even with "
                                f"zero errors at alpha={x.alpha:g}, delta={x.delta:g}; escalated"}
            uncertified.append(s)
            continue
        c = _seg_counts(x.conf[m], x.err[m], thr, x.seg_total[s])
        c["risk_upper_bound"] = float(cp_upper(c["n_errors"], c["n_automated"], x.delta)) if thr is not None else None
        j = None if thr is None else int(np.flatnonzero(x.grid == thr)[0])
        out[s] = {**c, "threshold": thr, "certified": r.certified,
                  "p_value_at_threshold": None if j is None else float(per[s][2][j])}
        if not r.certified:
            out[s]["reason"] = "no global threshold could be certified"
            uncertified.append(s)
    notes = [f"segments escalated as too small to certify: {', '.join(small)}"] if small else []
    return Certification(mode="all_segments", overall=r, segments=out, segment_results={},
                         uncertified=uncertified, automated=automated, notes=notes)
