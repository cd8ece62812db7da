"""Automation at a policy, thresholds.json handling, curve, economics, project_run output."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pandas as pd
import pytest
from project_synth import MIX, make_scores, write_run

from evalkit.economics import EconomicsSpec
from evalkit.errors import ConfigError, DataError, NotFound
from evalkit.project import ProjectionSpec, project_frame, project_run
from evalkit.project._policy import Policy

SPEC = ProjectionSpec(volume_per_month=50000, mix=MIX, seed=5)


def _by_hand(df: pd.DataFrame, t: float, econ: EconomicsSpec, volume: int) -> dict[str, float]:
    """Direct pandas arithmetic of the contracts.md automation rule, post-stratified."""
    auto = (df.status == "ok") & ~df.deferred & (df.confidence >= t)
    err = auto & ~df.good
    g = pd.DataFrame({"seg": df.segment, "auto": auto, "err": err, "invalid": df.status != "ok",
                      "deferred": (df.status == "ok") & df.deferred}).groupby("seg").mean()
    pi = pd.Series(MIX)
    a, e = (g["auto"] * pi).sum(), (g["err"] * pi).sum()
    cost_e = pd.Series({s: econ.error_cost_for(s) for s in MIX})
    net = volume * (econ.value_per_automated_case * a - econ.review_cost * (1 - a) - (g["err"] * pi * cost_e).sum())
    return {"auto": a, "err_cond": e / a, "net": net, "invalid": (g["invalid"] * pi).sum(),
            "deferred": (g["deferred"] * pi).sum(), "hours": volume * (1 - a) * econ.review_minutes / 60}


def test_headline_matches_direct_arithmetic(scores: pd.DataFrame) -> None:
    econ = EconomicsSpec(review_cost=4.0, review_minutes=9.0, error_cost=80.0,
                         error_cost_by_segment={"long_history": 300.0}, value_per_automated_case=5.0)
    out = project_frame(scores, spec=SPEC, economics=econ, outcome="good",
                        policy_for=lambda c: Policy(source="--threshold", threshold=0.75))["alpha"]
    hand = _by_hand(scores, 0.75, econ, 50000)
    assert out["automation_rate"]["value"] == pytest.approx(hand["auto"])
    assert out["escalated_rate"]["value"] == pytest.approx(1 - hand["auto"])
    assert out["automated_error_rate"]["value"] == pytest.approx(hand["err_cond"])
    assert out["net_value_per_month"]["value"] == pytest.approx(hand["net"])
    assert out["review_hours_per_month"]["value"] == pytest.approx(hand["hours"])
    assert out["escalation_breakdown"]["invalid_or_failed"]["value"] == pytest.approx(hand["invalid"])
    assert out["escalation_breakdown"]["deferred"]["value"] == pytest.approx(hand["deferred"])
    parts = sum(v["value"] for v in out["escalation_breakdown"].values())
    assert parts == pytest.approx(out["escalated_rate"]["value"])
    for key in ("automation_rate", "automated_error_rate", "net_value_per_month", "review_hours_per_month"):
        r = out[key]
        assert {"value", "lo", "hi", "n"} <= set(r) and r["lo"] <= r["value"] <= r["hi"]
    # naive accuracy-based expectation is the unweighted correct rate
    assert out["naive_automation_rate"]["value"] == pytest.approx(scores.correct.mean())


def test_curve_is_monotone_and_consistent(scores: pd.DataFrame) -> None:
    econ = EconomicsSpec()
    out = project_frame(scores, spec=SPEC, economics=econ, outcome="good",
                        policy_for=lambda c: Policy(source="--threshold", threshold=0.8))["alpha"]
    curve = out["curve"]
    assert len(curve) == SPEC.curve_points
    autos = [p["automation"] for p in curve]
    assert all(a >= b - 1e-12 for a, b in itertools.pairwise(autos))
    at_08 = next(p for p in curve if abs(p["threshold"] - 0.8) < 1e-9)
    assert at_08["automation"] == pytest.approx(out["automation_rate"]["value"])
    assert at_08["error"] == pytest.approx(out["automated_error_rate"]["value"])
    assert at_08["net_value_per_month"] == pytest.approx(out["net_value_per_month"]["value"])
    best = max(curve, key=lambda p: p["net_value_per_month"])
    assert out["value_optimal_threshold"] == best["threshold"]
    assert best["net_value_per_month"] > out["net_value_escalate_all"]["value"]
    # good-ness rises with confidence in the synthetic data: errors fall as the threshold rises
    assert curve[90]["error"] < curve[10]["error"]


def test_value_optimal_is_none_when_errors_are_ruinous(scores: pd.DataFrame) -> None:
    econ = EconomicsSpec(error_cost=1e6)
    scores = scores.assign(good=False)  # every automated decision is a costly error
    out = project_frame(scores, spec=SPEC.model_copy(update={"threshold_source": "value_optimal"}), economics=econ,
                        outcome="good", policy_for=lambda c: Policy(source="value_optimal", threshold=None))["alpha"]
    assert out["value_optimal_threshold"] is None
    assert out["threshold"] is None and out["automation_rate"]["value"] == 0.0


def test_run_thresholds_global_null_and_per_segment(tmp_path) -> None:
    th = {"schema": 1, "outcome": "good", "mode": "per_segment",
          "configs": {"alpha": {"threshold": 0.8, "segments": {"long_history": {"threshold": None},
                                                               "legacy_discount": {"threshold": 0.6}}},
                      "beta": {"threshold": None}}}
    df = make_scores(4, configs=("alpha", "beta"))
    run = write_run(tmp_path, df, thresholds=th)
    res = project_run(run, spec=SPEC, economics=EconomicsSpec())
    alpha, beta = res.projection["configs"]["alpha"], res.projection["configs"]["beta"]
    assert alpha["threshold_source"] == "thresholds.json" and alpha["risk_target_threshold"] == 0.8
    assert alpha["threshold_mode"] == "per_segment" and beta["threshold_mode"] == "global"
    assert alpha["risk_target_segments"] == {"long_history": None, "legacy_discount": 0.6}
    assert alpha["segments"]["long_history"]["automation_rate"]["value"] == 0.0
    assert alpha["segments"]["legacy_discount"]["threshold"] == 0.6
    assert alpha["segments"]["routine"]["threshold"] == 0.8
    a = df[df.config == "alpha"]
    leg = a[a.segment == "legacy_discount"]
    expected = ((leg.status == "ok") & ~leg.deferred & (leg.confidence >= 0.6)).mean()
    assert alpha["segments"]["legacy_discount"]["automation_rate"]["value"] == pytest.approx(expected)
    assert beta["automation_rate"]["value"] == 0.0 and beta["escalated_rate"]["value"] == 1.0
    # an explicit threshold overrides thresholds.json but keeps the risk-target one beside it
    res2 = project_run(run, spec=SPEC, economics=EconomicsSpec(), threshold=0.5, configs=["alpha"])
    assert list(res2.projection["configs"]) == ["alpha"]
    assert res2.projection["configs"]["alpha"]["threshold"] == 0.5
    assert res2.projection["configs"]["alpha"]["risk_target_threshold"] == 0.8
    assert res2.projection["configs"]["alpha"]["threshold_mode"] == "global"
    assert res2.projection["configs"]["alpha"]["risk_target_segments"]["legacy_discount"] == 0.6


def test_auto_without_thresholds_uses_value_optimal_and_calibrated_requires_them(tmp_path) -> None:
    run = write_run(tmp_path, make_scores(5))
    res = project_run(run, spec=SPEC, economics=EconomicsSpec())
    alpha = res.projection["configs"]["alpha"]
    assert alpha["threshold_source"] == "value_optimal"
    assert alpha["threshold"] == alpha["value_optimal_threshold"]
    with pytest.raises(ConfigError, match="calibrate"):
        project_run(run, spec=SPEC.model_copy(update={"threshold_source": "calibrated"}), economics=EconomicsSpec())


def test_sweep_file_sets_the_curve(run_dir, tmp_path) -> None:
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text("thresholds: [0.9, 0.5, 0.7]\n")
    res = project_run(run_dir, spec=SPEC, economics=EconomicsSpec(), thresholds_file=sweep)
    assert [p["threshold"] for p in res.projection["configs"]["alpha"]["curve"]] == [0.5, 0.7, 0.9]
    assert res.projection["sweep"] == [0.5, 0.7, 0.9]
    # a thresholds.json-shaped file replaces the run's policy
    alt = tmp_path / "alt.json"
    alt.write_text(json.dumps({"outcome": "correct", "configs": {"alpha": {"threshold": 0.55}, "beta": {"threshold": 0.9}}}))
    res = project_run(run_dir, spec=SPEC, economics=EconomicsSpec(), thresholds_file=alt)
    assert res.projection["configs"]["alpha"]["threshold"] == 0.55
    assert res.projection["outcome"] == "correct"


def test_projection_json_shape_and_determinism(run_dir) -> None:
    res = project_run(run_dir, spec=SPEC, economics=EconomicsSpec())
    doc = json.loads((run_dir / "projection.json").read_text())
    assert doc["schema"] == 1 and doc["bootstrap"]["seed"] == 5 and "unused" in doc["bootstrap"]["method"]
    assert doc["volume_per_month"] == 50000 and doc["mix"] == MIX
    for name in ("alpha", "beta"):
        c = doc["configs"][name]
        for key in ("threshold", "effective_sample_size", "flagged_segments", "automation_rate",
                    "naive_automation_rate", "escalated_rate", "automated_error_rate", "review_hours_per_month",
                    "cost_per_case", "monthly_cost", "net_value_per_month", "value_optimal_threshold", "curve"):
            assert key in c, key
        assert set(c["cost_per_case"]) >= {"mean", "p50", "p90", "p95", "p99", "max", "cvar95", "known"}
        assert set(c["monthly_cost"]) >= {"p50", "p95", "naive", "tail_to_naive_ratio"}
    again = project_run(run_dir, spec=SPEC, economics=EconomicsSpec(), configs=["beta", "alpha"]).projection
    for name in ("alpha", "beta"):  # same seed -> same numbers, whatever the config order
        assert again["configs"][name]["automation_rate"] == res.projection["configs"][name]["automation_rate"]
        assert again["configs"][name]["monthly_cost"] == res.projection["configs"][name]["monthly_cost"]
    other = project_run(run_dir, spec=SPEC.model_copy(update={"seed": 6}), economics=EconomicsSpec()).projection
    # the seed moves the Monte Carlo spend only: every rate, load and value interval is analytic
    assert other["configs"]["alpha"]["monthly_cost"]["p95"] != res.projection["configs"]["alpha"]["monthly_cost"]["p95"]
    assert other["configs"]["alpha"]["net_value_per_month"] == res.projection["configs"]["alpha"]["net_value_per_month"]
    assert other["configs"]["alpha"]["automation_rate"] == res.projection["configs"]["alpha"]["automation_rate"]
    assert not list(run_dir.glob(".projection.json.*"))  # no temp file left behind


def test_errors_name_what_and_where(tmp_path, scores) -> None:
    with pytest.raises(NotFound):
        project_run(tmp_path / "nope", spec=SPEC, economics=EconomicsSpec())
    run = write_run(tmp_path, scores)
    with pytest.raises(DataError, match="gamma"):
        project_run(run, spec=SPEC, economics=EconomicsSpec(), configs=["gamma"], threshold=0.5)
    bad = scores.drop(columns=["confidence"])
    with pytest.raises(DataError, match="confidence"):
        project_frame(bad, spec=SPEC, economics=EconomicsSpec(), outcome="good",
                      policy_for=lambda c: Policy(source="--threshold", threshold=0.5))
    with pytest.raises(DataError, match="none of the mix"):
        project_frame(scores, spec=ProjectionSpec(volume_per_month=1, mix={"ghost": 1.0}), economics=EconomicsSpec(),
                      outcome="good", policy_for=lambda c: Policy(source="--threshold", threshold=0.5))


def test_missing_confidence_and_failed_rows_are_escalated() -> None:
    df = pd.DataFrame({"config": "c", "segment": "s", "status": ["ok", "ok", "failed", "invalid", "ok"],
                       "deferred": [False, False, False, False, True], "correct": True, "good": True,
                       "confidence": [0.9, np.nan, 0.99, 0.99, 0.99], "cost_usd": 0.01})
    spec = ProjectionSpec(volume_per_month=100, mix={"s": 1.0}, min_cases_per_segment=1)
    out = project_frame(df, spec=spec, economics=EconomicsSpec(), outcome="good",
                        policy_for=lambda c: Policy(source="--threshold", threshold=0.5))["c"]
    assert out["automation_rate"]["value"] == pytest.approx(0.2)
    b = out["escalation_breakdown"]
    assert b["invalid_or_failed"]["value"] == pytest.approx(0.4)
    assert b["deferred"]["value"] == pytest.approx(0.2) and b["low_confidence"]["value"] == pytest.approx(0.2)


def test_projection_json_is_strict_json(run_dir) -> None:
    """No NaN/Infinity tokens: undefined ratios (beta escalates everything) are null."""
    project_run(run_dir, spec=SPEC, economics=EconomicsSpec())

    def reject(token: str) -> None:
        raise AssertionError(f"non-JSON constant {token} in projection.json")

    doc = json.loads((run_dir / "projection.json").read_text(), parse_constant=reject)
    assert doc["configs"]["beta"]["automated_error_rate"]["value"] is None


def test_missing_cost_column_means_unknown(scores) -> None:
    out = project_frame(scores.drop(columns=["cost_usd"]), spec=SPEC, economics=EconomicsSpec(), outcome="good",
                        policy_for=lambda c: Policy(source="--threshold", threshold=0.5))["alpha"]
    assert out["cost_per_case"]["known"] is False and out["cost_per_case"]["n_unknown"] == len(scores)
    assert out["monthly_cost"]["p50"] is None and out["automation_rate"]["value"] is not None


def test_curve_grid_points_compare_equal_to_decimal_confidences() -> None:
    # linspace(0, 1, 101)[57] is 0.5700000000000001: a confidence of exactly 0.57 must still clear 0.57
    conf = [0.07, 0.29, 0.57, 0.58, 0.99]
    df = pd.DataFrame({"config": "c", "segment": "s", "status": "ok", "deferred": False, "correct": True,
                       "good": True, "confidence": conf, "cost_usd": 0.01})
    spec = ProjectionSpec(volume_per_month=10, mix={"s": 1.0}, min_cases_per_segment=1)
    out = project_frame(df, spec=spec, economics=EconomicsSpec(), outcome="good",
                        policy_for=lambda c: Policy(source="--threshold", threshold=0.5))["c"]
    by_t = {round(p["threshold"], 2): p["automation"] for p in out["curve"]}
    for c in conf:
        assert by_t[c] == pytest.approx(sum(x >= c for x in conf) / len(conf)), c


@pytest.mark.parametrize("n_cases", [1, 20])
def test_staffing_intervals_follow_the_escalation_interval(n_cases: int) -> None:
    """Review hours and review cost are volume x the escalation rate, so their interval is the escalation
    rate's (Wilson, mixed by MOVER) scaled, not a bootstrap that collapses on a handful of cases ("100 [0, 300]"
    beside escalated 2.0% [0.4%, 30.6%]; "0 [0, 0]" at n=1). Net value is never a point where a rate is
    uncertain."""
    from evalkit.project._automation import Decisions, Money, at_policy
    from evalkit.project._strata import build_strata

    segs = np.array(["routine"] * n_cases)
    strata = build_strata(segs, {"routine": 1.0}, min_cases=1)
    conf = np.full(n_cases, 0.9)
    ok = np.ones(n_cases, bool)
    ok[0] = n_cases == 1  # one escalated case (invalid) among 20; the single case is automated
    dec = Decisions(ok=ok, deferred=np.zeros(n_cases, bool), confidence=conf, error=np.zeros(n_cases, bool))
    econ = EconomicsSpec(review_cost=5.0, review_minutes=6.0, error_cost=100.0, value_per_automated_case=1.0)
    out = at_policy(dec, strata, np.array([0.0]), Money(volume=50_000, economics=econ))
    esc, hours, cost = out["escalated_rate"], out["review_hours_per_month"], out["review_cost_per_month"]
    per_case_hours = 50_000 * 6.0 / 60
    for key in ("value", "lo", "hi"):
        assert hours[key] == pytest.approx(esc[key] * per_case_hours)
        assert cost[key] == pytest.approx(esc[key] * 50_000 * 5.0)
    assert esc["hi"] > esc["lo"] and hours["hi"] > hours["lo"]
    net = out["net_value_per_month"]
    assert net["lo"] < net["value"] <= net["hi"] and net["hi"] > net["lo"]
    errors = out["automated_errors_per_month"]
    assert errors["value"] == 0 and errors["hi"] > 0  # no error seen is not no error possible
    auto = out["automated_per_month"]
    assert auto["lo"] == pytest.approx(50_000 * out["automation_rate"]["lo"])


def test_net_value_interval_covers() -> None:
    """The MOVER net-value interval is conservative: it covers the true net value in >= 93% of 300
    repetitions (two segments, rare errors)."""
    from evalkit.project._automation import Decisions, Money, at_policy
    from evalkit.project._strata import build_strata

    rng = np.random.default_rng(3)
    n_seg, p_auto, p_err = {"a": 60, "b": 25}, {"a": 0.8, "b": 0.4}, {"a": 0.03, "b": 0.1}
    mix = {"a": 0.7, "b": 0.3}
    econ = EconomicsSpec(review_cost=5.0, error_cost=80.0, value_per_automated_case=2.0)
    truth = sum(mix[s] * (2.0 * p_auto[s] - 5.0 * (1 - p_auto[s]) - 80.0 * p_auto[s] * p_err[s]) for s in mix)
    segs = np.concatenate([[s] * n for s, n in n_seg.items()])
    strata = build_strata(segs, mix, min_cases=1)
    covered, reps = 0, 300
    for _ in range(reps):
        auto = np.concatenate([rng.random(n) < p_auto[s] for s, n in n_seg.items()])
        err = auto & np.concatenate([rng.random(n) < p_err[s] for s, n in n_seg.items()])
        dec = Decisions(ok=np.ones(len(segs), bool), deferred=np.zeros(len(segs), bool),
                        confidence=auto.astype(float), error=err)
        net = at_policy(dec, strata, np.full(2, 0.5), Money(volume=1, economics=econ))["net_value_per_month"]
        covered += net["lo"] <= truth <= net["hi"]
    assert covered / reps >= 0.93, covered / reps


def test_volume_without_cases_is_not_counted_in_monthly_figures(scores: pd.DataFrame) -> None:
    """A mix segment the run lacks (a typo such as `rootine: 0.2`) is flagged, not extrapolated: monthly
    counts, hours, value and spend cover the estimable 80% of volume, not 50,000 x the rates of the rest."""
    econ = EconomicsSpec(review_cost=5.0, review_minutes=6.0, error_cost=100.0, value_per_automated_case=2.0)
    mix = {"routine": 0.6, "legacy_discount": 0.1, "long_history": 0.1, "rootine": 0.2}
    spec = ProjectionSpec(volume_per_month=50_000, mix=mix, seed=1)
    full = ProjectionSpec(volume_per_month=40_000, mix={k: v / 0.8 for k, v in mix.items() if k != "rootine"}, seed=1)
    policy = lambda _: Policy(source="--threshold", threshold=0.7)
    out = project_frame(scores, spec=spec, economics=econ, outcome="good", policy_for=policy)["alpha"]
    ref = project_frame(scores, spec=full, economics=econ, outcome="good", policy_for=policy)["alpha"]
    assert out["unestimated_share"] == pytest.approx(0.2) and out["estimated_volume_per_month"] == pytest.approx(40_000)
    assert out["automated_per_month"]["value"] == pytest.approx(40_000 * out["automation_rate"]["value"])
    for key in ("automated_per_month", "automated_errors_per_month", "review_hours_per_month",
                "review_cost_per_month", "net_value_per_month"):
        for part in ("value", "lo", "hi"):
            assert out[key][part] == pytest.approx(ref[key][part]), (key, part)
    assert out["monthly_cost"]["mean"] == pytest.approx(ref["monthly_cost"]["mean"])
    assert out["monthly_cost"]["naive"] == pytest.approx(ref["monthly_cost"]["naive"])
    assert out["net_value_escalate_all"]["value"] == pytest.approx(-40_000 * 5.0)
