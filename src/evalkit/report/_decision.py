"""One threshold decision per configuration: what to do with each segment, and why.

Per segment the recommendation is one of

* **automate at confidence >= t** - the segment is certified. t reconciles the three thresholds
  the pipeline computes: the *certified* ones (every threshold from the lowest passing Learn-then-Test at
  (alpha, delta/S) up), the *cost-optimal* one (chosen among the certified thresholds, costed on held-out
  folds) and the *value-optimal* one (the projection's single threshold that maximises net value; said
  certified or not in each segment from the stored path). The recommendation is the cost-optimal
  certified threshold when there is one, else the lowest certified one - unless escalating every case
  costs less than the cost-optimal one: then **always review** (certified is safe, not cheap).
  Automation is shown at the recommended threshold and, labelled, at the one the projection applied.
* **always review** - no threshold could be certified (or none pays, above); with the sample-size planner's
  figure: how many more labelled cases would certify it if today's rates held.
* **never hand off** - the suite declares the segment never-automate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from evalkit.formatting import money
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
    """Projected automation rate of the segment (a Rate dict) when projected with this set, at
    ``projected_threshold`` (the threshold the projection applied: the lowest certified one)."""
    projected_threshold: float | None = None
    recommended_automation: Any = None
    """Automation rate of the segment's cases at the recommended threshold (a Rate dict), when known."""
    certified_from: float | None = None
    """The lowest certified threshold (every threshold from it up is certified)."""
    error_rate: Any = None

    @property
    def projected_elsewhere(self) -> bool:
        """The projection applied another threshold than the recommended one (its figure is labelled so)."""
        return not _same_threshold(self.threshold if self.action == "automate" else None, self.projected_threshold)


@dataclass(kw_only=True)
class Decision:
    column: Column
    guarantee: str
    assumptions: str
    segments: list[SegmentDecision] = field(default_factory=list)
    automation: Any = None
    review_hours: Any = None
    projection_note: str = ""
    projected_at: str = ""
    """Which thresholds the production-mix figures are at, and where they differ from the recommendations."""


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


def _certified_at(entry: Any, t: float, t_cert: float) -> bool:
    """Whether threshold ``t`` is certified for this segment (or configuration): its entry on the stored
    Learn-then-Test path, else - thresholds are tested from the top down - whether it is at or above the
    lowest certified one."""
    for step in entry.path or []:
        if step.get("threshold") is not None and abs(float(step["threshold"]) - t) < 1e-9:
            return bool(step.get("passed"))
    return t >= t_cert - 1e-9


def _certified_segment(seg: str, entry: Any, t_cert: float, co: dict[str, Any], value_t: float | None,
                       common: dict[str, Any]) -> SegmentDecision:
    """A certified segment's recommendation: the cost-optimal certified threshold, else the lowest
    certified one; escalate everything when escalating costs less than the cheapest certified threshold."""
    t_cost, held, escalate = co.get("threshold"), co.get("expected_cost_per_case_held_out"), \
        co.get("escalate_all_cost_per_case")
    cheapest = co.get("cheapest_candidate") or {"threshold": t_cost, "expected_cost_per_case_held_out": held}
    from evalkit.calibrate import escalates_all

    if escalates_all(co):  # calibrate's rule (older thresholds files: the same rule on their two costs)
        # Certified is safe, not cheap: reviewing every case costs less here.
        t_c, held_c = cheapest.get("threshold"), cheapest.get("expected_cost_per_case_held_out")
        why = f"certified from {_t(t_cert)} up, but escalating every case costs less: " + (
            f"the cheapest certified threshold, {_t(t_c)}, costs {money(held_c, 2)} per case on held-out folds vs "
            f"escalate-all {money(escalate, 2)}." if t_c is not None and held_c is not None else
            f"escalate-all costs {money(escalate, 2)} per case, less than automating at any certified threshold.")
        return SegmentDecision(segment=seg, action="review", threshold=None, why=why, recommended_automation=None,
                               certified_from=t_cert, **common)
    costs = f"{money(held, 2)} per case on held-out folds vs escalate-all {money(escalate, 2)}"
    rec = t_cost if t_cost is not None else t_cert
    if t_cost is None:
        why = f"certified from {_t(t_cert)} up (the lowest threshold passing the test); no cost model to refine it."
    elif abs(t_cost - t_cert) < 1e-9:
        why = f"certified from {_t(t_cert)} up; {_t(t_cost)} is also the certified threshold that costs least ({costs})."
    else:
        why = (f"certified from {_t(t_cert)} up; {_t(t_cost)} is the certified threshold with the lowest held-out "
               f"cost ({costs}): it keeps the guarantee and costs least.")
    if value_t is not None and abs(value_t - rec) > 1e-9:
        what = ("one threshold for all segments, maximising projected net value")
        if _certified_at(entry, value_t, t_cert):
            why += (f" The value-optimal threshold {_t(value_t)} ({what}) is certified in this segment too, "
                    + ("but automates less." if value_t > rec else "but costs more per case here."))
        else:
            why += (f" The value-optimal threshold {_t(value_t)} ({what}) is not certified in this segment "
                    f"(certified from {_t(t_cert)} up); not recommended.")
    # Automation at the recommended threshold on this run's cases: the cost model's (at t_cost), else the
    # projection's when it applied the same threshold.
    at_rec = co.get("automation") if t_cost is not None and abs(rec - t_cost) < 1e-9 else None
    projected_t = common.get("projected_threshold")
    if at_rec is None and projected_t is not None and abs(projected_t - rec) < 1e-9:
        at_rec = common.get("automation")
    return SegmentDecision(segment=seg, action="automate", threshold=rec, why=why, recommended_automation=at_rec,
                           certified_from=t_cert, **common)


def _same_threshold(a: float | None, b: float | None) -> bool:
    return a is None and b is None or a is not None and b is not None and abs(a - b) < 1e-9


def _projected_at(d: Decision, proj: Any) -> str:
    """The thresholds the projection applied (each certified segment's lowest certified threshold, or the
    one threshold), and the segments whose recommendation differs from them."""
    applied = [f"{s.segment} >= {_t(s.projected_threshold)}" for s in d.segments if s.projected_threshold is not None]
    if applied:
        where = f"per segment: {', '.join(applied)}; every other segment escalated"
    elif proj.threshold is not None:
        where = f"confidence >= {_t(proj.threshold)}"
    else:
        where = "no threshold: every case escalated"
    differ = [s.segment for s in d.segments if s.projected_elsewhere]
    tail = (f"; not at the recommended thresholds for {', '.join(differ)} (their automation at the recommended "
            "threshold is in the table)" if differ else "; these are the recommended thresholds")
    return f"at the thresholds the projection applied ({where}){tail}"


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
                      "projected_threshold": pseg.get("threshold"), "error_rate": s.error_rate}
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
            # one cost-optimal threshold for the configuration: its automation is over all segments, not this one
            co = (cost_seg or {}).get(seg) or {} if cost_seg is not None else \
                {k: v for k, v in cost.items() if k != "automation"}
            d.segments.append(_certified_segment(seg, s if per_segment else entry, t_cert, co, value_t, common))
        if not entry.segments and doc.mode == "global":
            t = entry.threshold
            d.segments.append(SegmentDecision(
                segment=ALL, action="automate" if entry.certified and t is not None else "review",
                threshold=t, why=entry.message or "", needed="" if entry.certified else
                _needed(entry, doc.alpha, doc.delta)[0]))
        if d.automation is not None:
            d.projected_at = _projected_at(d, proj)
        out.append(d)
    return out
