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
from evalkit.calibrate._planner import plan_segment


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


def certify(conf: np.ndarray, err: np.ndarray, seg: np.ndarray, seg_total: dict[str, int], grid: np.ndarray,
            *, mode: str, alpha: float, delta: float, min_segment_n: int | None,
            never_automate: tuple[str, ...] | list[str] = ()) -> Certification:
    """``conf``/``err``/``seg`` are automatable rows; ``seg_total`` counts all rows per segment.

    Segments in ``never_automate`` (declared in the suite) are not tested: always escalated
    (in ``global`` mode the pooled threshold still covers them: segments are not certified there)."""
    never = [s for s in sorted(seg_total) if s in set(never_automate)] if mode != "global" else []
    if never:
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
    segments = sorted(seg_total)
    masks = segment_masks(seg, segments)
    n_total = int(sum(seg_total.values()))
    notes: list[str] = []
    out: dict[str, dict] = {}
    results: dict[str, LTTResult] = {}
    uncertified: list[str] = []
    if mode == "per_segment":
        d_s = delta / max(len(segments), 1)
        n_min = min_segment_n or n_min_zero_errors(alpha, d_s)
        automated = np.zeros(conf.size, bool)
        for s in segments:
            m = masks[s]
            if m.sum() < n_min:
                n_t, k_t = counts_at(conf[m], err[m], grid)
                plan = plan_segment(grid, n_t, k_t, n_total=seg_total[s], alpha=alpha, delta=d_s)
                out[s] = {**_seg_counts(conf[m], err[m], None, seg_total[s]), "threshold": None,
                          "certified": False, "delta_used": d_s,
                          "cases_needed": plan.to_dict() if plan is not None else None,
                          "reason": f"too small: {int(m.sum())} automatable cases < {n_min} needed even "
                                    f"with zero errors at alpha={alpha:g}, delta/S={d_s:.4g}; escalated"}
                uncertified.append(s)
                continue
            r = ltt_single(conf[m], err[m], grid, n_total=seg_total[s], alpha=alpha, delta=d_s,
                           what=f"segment {s}, Bonferroni delta/{len(segments)}")
            results[s] = r
            out[s] = {**_seg_counts(conf[m], err[m], r.threshold, seg_total[s]), **_ltt_json(r)}
            if not r.certified:
                uncertified.append(s)
            else:
                automated[m] = to_ticks(conf[m]) >= to_ticks(r.threshold)
        return Certification(mode=mode, overall=None, segments=out, segment_results=results,
                             uncertified=uncertified, automated=automated, notes=notes)
    if mode == "global":
        r = ltt_single(conf, err, grid, n_total=n_total, alpha=alpha, delta=delta)
        automated = to_ticks(conf) >= to_ticks(r.threshold) if r.threshold is not None else np.zeros(conf.size, bool)
        for s in segments:
            m = masks[s]
            out[s] = {**_seg_counts(conf[m], err[m], r.threshold, seg_total[s]), "threshold": r.threshold,
                      "certified": None, "reason": "global mode: only the pooled error rate is certified"}
        return Certification(mode=mode, overall=r, segments=out, segment_results={}, uncertified=[],
                             automated=automated, notes=notes)
    # all_segments: one threshold certified for each sufficiently large segment
    n_min = min_segment_n or n_min_zero_errors(alpha, delta)
    included = [s for s in segments if int(masks[s].sum()) >= n_min]
    small = [s for s in segments if s not in included]
    if included:
        r, per = ltt_all_segments(conf, err, masks, included, grid, n_total=n_total, alpha=alpha, delta=delta)
    else:
        r = ltt_single(conf[:0], err[:0], grid, n_total=n_total, alpha=alpha, delta=delta,
                       what="no segment has enough automatable cases")
        per = {}
    thr = r.threshold
    in_mask = np.logical_or.reduce([masks[s] for s in included]) if included else np.zeros(conf.size, bool)
    automated = (to_ticks(conf) >= to_ticks(thr)) & in_mask if thr is not None else np.zeros(conf.size, bool)
    for s in segments:
        m = masks[s]
        if s in small:
            out[s] = {**_seg_counts(conf[m], err[m], None, seg_total[s]), "threshold": None, "certified": False,
                      "excluded": True, "reason": f"too small: {int(m.sum())} automatable cases < {n_min} needed even with "
                                f"zero errors at alpha={alpha:g}, delta={delta:g}; escalated"}
            uncertified.append(s)
            continue
        c = _seg_counts(conf[m], err[m], thr, seg_total[s])
        c["risk_upper_bound"] = float(cp_upper(c["n_errors"], c["n_automated"], delta)) if thr is not None else None
        j = None if thr is None else int(np.flatnonzero(grid == thr)[0])
        out[s] = {**c, "threshold": thr, "certified": r.certified,
                  "p_value_at_threshold": None if j is None else float(per[s][2][j])}
        if not r.certified:
            out[s]["reason"] = "no global threshold could be certified"
            uncertified.append(s)
    if small:
        notes.append(f"segments escalated as too small to certify: {', '.join(small)}")
    return Certification(mode=mode, overall=r, segments=out, segment_results={}, uncertified=uncertified,
                         automated=automated, notes=notes)
