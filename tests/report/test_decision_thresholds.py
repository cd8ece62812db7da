"""The threshold decision never contradicts its own numbers: a certified threshold that costs more than
escalating everything is not recommended, each automation figure names the threshold it is at, and the
value-optimal threshold is called certified or not per segment from the stored Learn-then-Test path."""

from __future__ import annotations

import re
from html import unescape
from types import SimpleNamespace

import pandas as pd

from evalkit.report._assemble import Column
from evalkit.report._decision import decisions
from evalkit.runs import Projection, Thresholds


def _rate(k: int, n: int) -> dict:
    return {"value": k / n, "lo": max(0.0, k / n - 0.05), "hi": min(1.0, k / n + 0.05), "n": n, "k": k}


def _path(t_cert: float) -> list[dict]:
    grid = [round(0.95 - 0.01 * i, 2) for i in range(96)]
    return [{"threshold": t, "passed": t >= t_cert - 1e-9, "n_automated": 50, "n_errors": 1, "p_value": 0.001}
            for t in grid]


SEGMENTS = {  # segment: (lowest certified threshold, cost-optimal threshold, held-out cost, projected automation)
    "adversarial": (0.0, 0.90, 7.43, _rate(122, 136)),  # certified, but escalating all ($6.00) is cheaper
    "custom_contract": (0.71, 0.80, 3.32, _rate(83, 139)),  # the value-optimal 0.91 is certified here
    "routine": (0.93, 0.95, 5.98, _rate(210, 298)),  # ... and not here
    "long_context": (0.86, 0.90, 6.40, _rate(60, 124)),  # calibrate decided escalate-all itself (below)
}


def _column() -> Column:
    thresholds = Thresholds.model_validate({
        "alpha": 0.1, "delta": 0.05, "mode": "per_segment", "outcome": "correct", "name": "set",
        "configs": {"large-v1": {
            "certified": True, "threshold": 0.0,
            "segments": {seg: {"certified": True, "threshold": t, "n": a["n"], "path": _path(t)}
                         for seg, (t, _, _, a) in SEGMENTS.items()},
            "cost_optimal": {"segments": {seg: {
                "threshold": tc, "expected_cost_per_case_held_out": cost, "escalate_all_cost_per_case": 6.0,
                "automation": _rate(int(a["k"] * 0.8), a["n"])} for seg, (_, tc, cost, a) in SEGMENTS.items()}}}}})
    # evalkit.calibrate's own escalate-all decision: no threshold, the cheapest candidate kept beside it
    thresholds.configs["large-v1"].cost_optimal["segments"]["long_context"].update(
        threshold=None, decision="escalate_all", expected_cost_per_case_held_out=6.0,
        cheapest_candidate={"threshold": 0.90, "expected_cost_per_case_held_out": 6.40})
    projection = Projection.model_validate({
        "volume_per_month": 50000, "mix": {}, "outcome": "correct", "bootstrap": {}, "monte_carlo": {},
        "threshold_set": {"name": "set"},
        "configs": {"large-v1": {
            "n": 573, "outcome": "correct", "threshold_source": "thresholds.json", "threshold_mode": "per_segment",
            "value_optimal_threshold": 0.91, "automation_rate": _rate(300, 573),
            "review_hours_per_month": {"value": 2405.0, "lo": 2246.0, "hi": 2563.0, "n": 573},
            "segments": {seg: {"threshold": t, "automation_rate": a, "production_share": 0.3, "n": a["n"]}
                         for seg, (t, _, _, a) in SEGMENTS.items()}}}})
    run = SimpleNamespace(run_id="20261130-195201-upgrades-demo-1b97dc", projection=projection)
    return Column(key="c0", label="large-v1", run=run, config="large-v1", meta=None, is_baseline=False,
                  simulated=True, df=pd.DataFrame(), thresholds=thresholds, threshold_set="set")


def _html(column: Column) -> str:
    from evalkit.report._render import _environment

    env = _environment()
    page = env.from_string('{% include "_calibration.j2" %}').render(
        decisions=decisions([column]), runs=[column.run], calibration=SimpleNamespace(
            thresholds_missing=[], mode=None, segment_min_n=0, rows=[], reliability_svg="", risk_coverage_svg=""))
    section = re.search(r'<section id="thresholds">.*?</table></div>', page, re.DOTALL).group(0)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", section)))


def test_escalate_all_is_recommended_when_it_costs_less_than_every_certified_threshold():
    (d,) = decisions([_column()])
    adversarial = next(s for s in d.segments if s.segment == "adversarial")
    assert adversarial.action == "review" and adversarial.threshold is None
    assert "costs least" not in adversarial.why
    assert "escalating every case costs less" in adversarial.why and "$7.43" in adversarial.why \
        and "escalate-all $6.00" in adversarial.why
    decided = next(s for s in d.segments if s.segment == "long_context")
    assert decided.action == "review" and "no cost model" not in decided.why
    assert "the cheapest certified threshold, 0.90, costs $6.40 per case on held-out folds vs escalate-all $6.00" \
        in decided.why
    custom = next(s for s in d.segments if s.segment == "custom_contract")
    assert custom.action == "automate" and custom.threshold == 0.80
    assert "($3.32 per case on held-out folds vs escalate-all $6.00)" in custom.why


def test_value_optimal_threshold_is_called_certified_per_segment():
    (d,) = decisions([_column()])
    why = {s.segment: s.why for s in d.segments}
    assert "The value-optimal threshold 0.91" in why["custom_contract"]
    assert "is certified in this segment too" in why["custom_contract"]  # 0.91 >= 0.71 passed on the path
    assert "is not certified in this segment (certified from 0.93 up)" in why["routine"]


def test_every_automation_figure_says_which_threshold_it_is_at():
    text = _html(_column())
    assert "automate at confidence >= 0.80" in text and "automate above" not in text
    # the segment at its recommended threshold (the cost model's figure) and, apart, as projected
    assert "47.5% [42.5%–52.5%] n=139 at >= 0.80 (recommended)" in text
    assert "projected: 59.7% [54.7%–64.7%] n=139 at >= 0.71 (the lowest certified threshold, as projected)" in text
    # the production-mix line names the thresholds it is at and where they are not the recommended ones
    assert "At the production mix, at the thresholds the projection applied (per segment: adversarial >= 0.00, " \
           "custom_contract >= 0.71, routine >= 0.93, long_context >= 0.86" in text
    assert "not at the recommended thresholds for adversarial, custom_contract, routine, long_context" in text
    assert "automation 52.4% [47.4%–57.4%] n=573" in text
