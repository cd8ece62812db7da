"""One threshold decision per configuration: what to do with each segment, and why.

Per segment the recommendation is one of

* **automate above t** - the segment is certified. t reconciles the three thresholds the
  pipeline computes: the *certified* one (lowest threshold passing Learn-then-Test at
  (alpha, delta/S)), the *cost-optimal* one (chosen among the certified thresholds, costed
  on held-out folds) and the *value-optimal* one (the projection's single threshold that
  maximises net value, not certified per segment). The recommendation is the cost-optimal
  certified threshold when there is one (it keeps the guarantee and costs least), else the
  certified one; the value-optimal threshold is mentioned when it differs.
* **always review** - no threshold could be certified; with the sample-size planner's
  figure: how many more labelled cases would certify it if today's rates held.
* **never hand off** - the suite declares the segment never-automate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from evalkit.report._assemble import Column, projection_entry
from evalkit.stats import ALL


@dataclass(frozen=True, kw_only=True)
class SegmentDecision:
    segment: str
    action: str  # automate | review | never
    threshold: float | None
    why: str
    needed: str = ""
    """For escalated segments: the planner's figure, in words."""
    more_cases: int | None = None
    production_share: float | None = None
    automation: Any = None
    """Projected automation rate of the segment (a Rate dict) when projected with this set."""
    error_rate: Any = None


@dataclass(kw_only=True)
class Decision:
    column: Column
    guarantee: str
    assumptions: str
    segments: list[SegmentDecision] = field(default_factory=list)
    automation: Any = None
    review_hours: Any = None
    projection_note: str = ""


def _t(x: float | None) -> str:
    return "none" if x is None else f"{x:.2f}"


def _needed(entry: Any, alpha: float | None, delta: float | None) -> tuple[str, int | None]:
    """The sample-size planner's figure (``cases_needed``, evalkit.calibrate's block) for a configuration
    or segment of thresholds.json, in words."""
    plan = entry.cases_needed or {}
    at = f"(α={alpha:g}, δ/S={delta:.4g})" if alpha is not None and delta is not None else ""
    if plan.get("more_cases") is not None:
        text = (f"{plan['more_cases']:,} more labelled cases ({plan['total_needed']:,} in all) would certify "
                f"threshold {plan['threshold']:.2f} {at} if its observed error rate "
                f"{100 * plan['observed_error_rate']:.1f}% and automation share "
                f"{100 * plan['observed_coverage']:.0f}% held.")
        return text, int(plan["more_cases"])
    if plan.get("cases") is not None:
        return f"about {plan['cases']:,} labelled cases in all would certify it {at} at today's rates.", None
    if alpha is None:
        return "no risk target (α) set.", None
    text = (f"no threshold has an observed error rate below α={alpha:g}: more labels alone would not certify "
            "this segment (it needs a better model, prompt or confidence signal).")
    return text, None


def _guarantee(doc: Any) -> tuple[str, str]:
    if doc is None or doc.alpha is None:
        return "No risk target: thresholds are not certified.", ""
    scope = {"per_segment": f"each automated segment's error rate among automated cases is at most "
                            f"{100 * doc.alpha:g}%, for all segments at once (δ split over the S segments: "
                            "Bonferroni δ/S)",
             "all_segments": f"the error rate among automated cases of every automated segment is at most "
                             f"{100 * doc.alpha:g}% (one threshold certified for each segment at once)",
             "global": f"the pooled error rate among automated cases (all segments together, at the dataset's mix) "
                       f"is at most {100 * doc.alpha:g}%; single segments are not guaranteed"}.get(doc.mode or "", "")
    sentence = f"With probability at least {100 * (1 - doc.delta):g}%, {scope}."
    assumptions = (doc.guarantee or {}).get("assumptions") or (
        "future cases are exchangeable with these (same segment mix within a segment, same model, prompt and "
        "confidence signal) and the labels are right")
    return sentence, assumptions


def decisions(cols: Sequence[Column]) -> list[Decision]:
    """Per configuration with thresholds: each segment's recommendation, read from the typed
    thresholds.json and projection.json (evalkit.runs)."""
    out = []
    for c in cols:
        doc = c.thresholds
        entry = doc.configs.get(c.config) if doc is not None else None
        if entry is None:
            continue
        sentence, assumptions = _guarantee(doc)
        d = Decision(column=c, guarantee=sentence, assumptions=assumptions)
        proj = projection_entry(c)
        used = ((c.run.projection.threshold_set or {}).get("name") if c.run.projection is not None else None) \
            or "suite"
        same_set = used == c.threshold_set
        if proj is not None and same_set:
            d.automation, d.review_hours = proj.automation_rate, proj.review_hours_per_month
        elif proj is not None:
            d.projection_note = (f"The projection applied threshold set {used!r}, not {c.threshold_set!r}: "
                                 f"run `evalkit project {c.run.run_id} --threshold-set {c.threshold_set}`.")
        else:
            d.projection_note = f"Not projected: `evalkit project {c.run.run_id}`."
        cost = entry.cost_optimal or {}  # evalkit.calibrate's block: per segment, or one for the config
        cost_seg = cost.get("segments")
        value_t = proj.value_optimal_threshold if proj is not None else None
        per_segment = doc.mode == "per_segment"
        for seg, s in entry.segments.items():
            pseg = (proj.segments.get(seg) or {}) if proj is not None and same_set else {}
            common = {"production_share": pseg.get("production_share"), "automation": pseg.get("automation_rate"),
                      "error_rate": s.error_rate}
            if s.never_automate:
                d.segments.append(SegmentDecision(segment=seg, action="never", threshold=None,
                                                  why="declared never-automate in the suite: every case goes to a "
                                                      "reviewer, whatever the confidence.", **common))
                continue
            t_cert = s.threshold if per_segment else entry.threshold
            certified = s.certified if per_segment else entry.certified
            if not certified or t_cert is None:
                text, more = _needed(s if per_segment else entry, doc.alpha, s.delta_used or doc.delta)
                why = s.reason or "no threshold passed the exact binomial test at this sample size."
                d.segments.append(SegmentDecision(segment=seg, action="review", threshold=None, why=why, needed=text,
                                                  more_cases=more, **common))
                continue
            co = (cost_seg or {}).get(seg) if cost_seg is not None else (cost or None)
            t_cost = (co or {}).get("threshold")
            rec = t_cost if t_cost is not None else t_cert
            if t_cost is None:
                why = f"certified at {_t(t_cert)} (lowest threshold passing the test); no cost model to refine it."
            elif abs(t_cost - t_cert) < 1e-9:
                why = f"certified at {_t(t_cert)}, which is also the cost-optimal certified threshold."
            else:
                why = (f"certified from {_t(t_cert)} up; {_t(t_cost)} is the certified threshold with the lowest "
                       f"held-out cost per case ({(co or {}).get('expected_cost_per_case_held_out', float('nan')):.2f}"
                       f" vs escalate-all {(co or {}).get('escalate_all_cost_per_case', float('nan')):.2f}): it "
                       "keeps the guarantee and costs least.")
            if value_t is not None and abs(value_t - rec) > 1e-9:
                why += (f" The value-optimal threshold {_t(value_t)} (one threshold for all segments, maximising "
                        "projected net value) is not certified per segment"
                        + (" and automates less." if value_t > rec else "; not recommended."))
            d.segments.append(SegmentDecision(segment=seg, action="automate", threshold=rec, why=why, **common))
        if not entry.segments and doc.mode == "global":
            t = entry.threshold
            d.segments.append(SegmentDecision(
                segment=ALL, action="automate" if entry.certified and t is not None else "review",
                threshold=t, why=entry.message or "", needed="" if entry.certified else
                _needed(entry, doc.alpha, doc.delta)[0]))
        out.append(d)
    return out
