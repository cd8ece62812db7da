"""calibrate_run / CLI on synthetic run folders; edge cases; cost-optimal threshold."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from evalkit.calibrate import CalibrationSpec, calibrate_frame, calibrate_run
from evalkit.economics import EconomicsSpec
from evalkit.errors import DataError, NotFound


def test_calibrate_run_writes_thresholds_json(run_dir):
    res = calibrate_run(run_dir, spec=CalibrationSpec(mode="per_segment", bootstrap=50),
                        economics=EconomicsSpec())
    doc = json.loads((run_dir / "thresholds.json").read_text())
    assert res.path == run_dir / "thresholds.json"
    assert doc["schema"] == 1 and doc["outcome"] == "good" and doc["alpha"] == 0.05 and doc["seed"] == 0
    assert set(doc["configs"]) == {"strong", "weak"}
    strong, weak = doc["configs"]["strong"], doc["configs"]["weak"]
    assert strong["segments"]["routine"]["certified"] is True
    assert strong["segments"]["routine"]["threshold"] is not None
    assert "undocumented_exception" in weak["uncertified_segments"]
    for cfg in (strong, weak):
        assert {"threshold", "threshold_calibrated", "certified", "n", "n_automated", "n_errors", "coverage",
                "recalibration", "segments", "uncertified_segments", "cost_optimal", "metrics"} <= set(cfg)
        assert cfg["metrics"]["recalibrated_out_of_fold"]["ece_width"] < cfg["metrics"]["raw"]["ece_width"]
    seg = strong["segments"]["routine"]
    assert seg["p_value_path"] and all(len(x) == 2 for x in seg["p_value_path"])
    assert seg["risk_upper_bound"] <= 0.05
    assert set(seg["coverage"]) >= {"value", "lo", "hi", "n"}


def test_global_mode_and_cost_choice_among_certified(run_dir):
    res = calibrate_run(run_dir, spec=CalibrationSpec(bootstrap=0), economics=EconomicsSpec(), configs=["strong"])
    cfg = res.document["configs"]["strong"]
    assert cfg["certified"] and cfg["threshold"] is not None
    co = cfg["cost_optimal"]
    assert co["threshold"] in cfg["certified_thresholds"]
    assert co["expected_cost_per_case_held_out"] <= co["escalate_all_cost_per_case"] + 1e-9
    assert co["bayes_rule"]["cut"] == [pytest.approx(1 - 6 / 120)]
    assert 0 < cfg["threshold_calibrated"] < 1


def test_cost_optimal_matches_bruteforce(scores_df):
    part = scores_df[scores_df.config == "strong"].reset_index(drop=True)
    eco = EconomicsSpec(review_cost=5, error_cost=50)
    r = calibrate_frame(part, spec=CalibrationSpec(alpha=None, bootstrap=0, grid_step=0.05), economics=eco)
    ok = ((part.status == "ok") & ~part.deferred & part.confidence.notna()).to_numpy()
    conf = part.confidence.to_numpy(dtype=float, na_value=np.nan)
    bad = ~part.good.to_numpy(dtype=bool)
    best = None
    for t in list(np.round(np.arange(0, 1.0001, 0.05), 9))[::-1] + [None]:  # ties -> higher threshold
        auto = ok & (conf >= t - 1e-12) if t is not None else np.zeros(len(part), bool)
        cost = (5 * (~auto).sum() + 50 * (auto & bad).sum()) / len(part)
        if best is None or cost < best[1] - 1e-12:
            best = (t, cost)
    assert r.cost_optimal["expected_cost_per_case_in_sample"] == pytest.approx(best[1])
    assert r.cost_optimal["candidates"].startswith("all grid thresholds")
    assert r.cost_optimal["threshold"] == pytest.approx(best[0])
    assert r.cost_optimal["expected_cost_per_case_held_out"] >= r.cost_optimal["expected_cost_per_case_in_sample"] - 0.05


def _tiny(conf, good, status=None):
    n = len(conf)
    return pd.DataFrame({"config": "c", "case_id": [f"x{i}" for i in range(n)], "segment": "s",
                         "status": status or ["ok"] * n, "deferred": [False] * n,
                         "confidence": pd.array(conf, dtype="Float64"), "good": pd.array(good, dtype="boolean"),
                         "correct": pd.array(good, dtype="boolean")})


@pytest.mark.parametrize("good", [True, False])
def test_all_correct_or_all_wrong(good):
    r = calibrate_frame(_tiny(list(np.linspace(0.5, 1, 200)), [good] * 200), spec=CalibrationSpec(bootstrap=20))
    assert r.recalibration["method"] == "constant"
    assert r.metrics.auroc is None
    if good:
        assert r.document["certified"] and r.document["threshold"] == 0.0 and r.document["n_errors"] == 0
    else:
        assert not r.document["certified"] and "escalate everything" in r.document["message"]


def test_tiny_ties_and_nan_confidence():
    df = _tiny([0.9, 0.9, None, 0.8, 0.9], [True, False, True, True, True],
               status=["ok", "ok", "ok", "invalid", "ok"])
    r = calibrate_frame(df, spec=CalibrationSpec(bootstrap=10))
    assert r.n == 5 and r.n_automatable == 3
    assert r.excluded["no_confidence"] == 1 and r.excluded["invalid"] == 1
    assert any("without a confidence" in w for w in r.warnings)
    assert r.recalibration["method"] == "identity"
    assert r.document["threshold"] is None and "59" in r.document["message"]
    assert r.metrics.n == 3


def test_empty_automatable_set():
    r = calibrate_frame(_tiny([None, None], [True, True]), spec=CalibrationSpec())
    assert r.metrics is None and r.document["threshold"] is None


def test_bad_confidence_is_a_data_error():
    with pytest.raises(DataError, match="outside"):
        calibrate_frame(_tiny([0.5, 1.5], [True, True]), spec=CalibrationSpec())


def test_missing_run_and_config(tmp_path, run_dir):
    with pytest.raises(NotFound):
        calibrate_run(tmp_path, spec=CalibrationSpec())
    with pytest.raises(NotFound, match="nope"):
        calibrate_run(run_dir, spec=CalibrationSpec(), configs=["nope"])


def test_spec_forbids_extra_fields():
    with pytest.raises(ValueError):
        CalibrationSpec(alpah=0.1)
    with pytest.raises(ValueError):
        CalibrationSpec(grid=[0.5, 1.2])


def test_cli_by_run_id(run_dir, monkeypatch):
    from evalkit.cli.main import app

    monkeypatch.setenv("EVALKIT_REPORTS", str(run_dir.parent))
    out = CliRunner().invoke(app, ["calibrate", run_dir.name, "--per-segment", "--alpha", "0.05", "--delta", "0.05",
                                   "--review-cost", "6", "--error-cost", "120", "--seed", "3"])
    assert out.exit_code == 0, out.output
    assert "out of fold" in out.output and "undocumented_exception" in out.output
    doc = json.loads((run_dir / "thresholds.json").read_text())
    assert doc["mode"] == "per_segment" and doc["seed"] == 3


def test_cli_errors_exit_2(tmp_path, monkeypatch):
    from evalkit.cli.main import app

    monkeypatch.setenv("EVALKIT_REPORTS", str(tmp_path))
    out = CliRunner().invoke(app, ["calibrate", "no-such-run"])
    assert out.exit_code == 2 and "no-such-run" in out.output


def test_bayes_rule_cost_when_errors_cost_no_more_than_review(scores_df):
    part = scores_df[scores_df.config == "weak"].reset_index(drop=True)
    r = calibrate_frame(part, spec=CalibrationSpec(bootstrap=0), economics=EconomicsSpec(review_cost=5, error_cost=5))
    b = r.cost_optimal["bayes_rule"]
    assert b["cut"] == [0.0]  # automating is never worse than reviewing: the rule automates everything
    ok = ((part.status == "ok") & ~part.deferred & part.confidence.notna()).to_numpy()
    bad = ~part.good.to_numpy(dtype=bool)
    assert b["automation"]["k"] == ok.sum()
    expected = (5 * (~ok).sum() + 5 * (ok & bad).sum()) / len(part)
    assert b["expected_cost_per_case_held_out"] == pytest.approx(expected)


def test_cli_mode_config_outcome_and_strict_json(run_dir):
    from evalkit.cli.main import app

    out = CliRunner().invoke(app, ["calibrate", str(run_dir), "--mode", "all_segments", "--config", "strong",
                                   "--outcome", "correct"])
    assert out.exit_code == 0, out.output

    def no_nan(token):
        raise AssertionError(f"non-standard JSON constant {token} in thresholds.json")

    doc = json.loads((run_dir / "thresholds.json").read_text(), parse_constant=no_nan)
    assert doc["mode"] == "all_segments" and doc["outcome"] == "correct" and list(doc["configs"]) == ["strong"]


@pytest.mark.parametrize("grid", ["distinct", [0.8, 0.9, 0.95, 1.0]])
def test_other_grids(scores_df, grid):
    part = scores_df[scores_df.config == "strong"].reset_index(drop=True)
    r = calibrate_frame(part, spec=CalibrationSpec(grid=grid, bootstrap=0))
    conf = set(part.confidence.dropna().astype(float).round(9))
    tested = {p["threshold"] for p in r.document["path"]}
    allowed = conf if grid == "distinct" else set(grid)
    assert tested and tested <= allowed


def test_cli_module_imports_stay_light():
    import subprocess
    import sys

    code = "import sys, evalkit.cli._calibrate; print(any(m in sys.modules for m in ('pandas', 'sklearn', 'scipy')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"



def _reference_costs(conf, err, err_cost, fold, k, cands, review):
    """Plain loops: in-sample cheapest candidate (ties -> higher) and the held-out cost of choosing it on
    K-1 folds, per case."""
    labels = list(cands) + [None]

    def cost(rows, t):
        return sum(review if t is None or conf[i] < t else err_cost[i] * err[i] for i in rows)

    def cheapest(rows):
        return min(labels, key=lambda t: (cost(rows, t), labels.index(t)))

    everyone = range(conf.size)
    best = cheapest(everyone)
    held = sum(cost([i for i in everyone if fold[i] == f], cheapest([i for i in everyone if fold[i] != f]))
               for f in range(k))
    return best, cost(everyone, best) / conf.size, held / conf.size


def test_escalate_all_when_the_cheapest_certified_threshold_is_dearer_held_out():
    """large-v1/adversarial in the demo: 0.90 cost $4.71 in sample but $7.43 held out against $6.00 for
    escalating everything, and was recommended. The decision is escalate-all when the held-out cost of
    automating is not below escalate-all's; the candidate stays beside it."""
    from evalkit.calibrate import cost_optimal

    review, cands, k = 6.0, [0.95, 0.9, 0.85], 5
    seen = {"threshold": 0, "escalate_all": 0}
    for seed in range(300):
        rng = np.random.default_rng(seed)
        n = 60
        conf = rng.choice([0.97, 0.92, 0.87, 0.5], size=n)
        err = rng.random(n) < np.where(conf > 0.9, 0.01, 0.04)
        err_cost = np.full(n, 400.0)
        fold = rng.permutation(np.arange(n) % k)
        best, in_sample, held = _reference_costs(conf, err, err_cost, fold, k, cands, review)
        co = cost_optimal(conf, err, err_cost, fold, k, candidates=np.array(cands), review_cost=review, n_total=n,
                          p_oof=np.full(n, 0.5), final_map=None)
        assert co["cheapest_candidate"]["threshold"] == best
        assert co["cheapest_candidate"]["expected_cost_per_case_in_sample"] == pytest.approx(in_sample)
        assert co["cheapest_candidate"]["expected_cost_per_case_held_out"] == pytest.approx(held)
        if best is not None and held < review:
            assert co["threshold"] == best and co["decision"] == "threshold"
            assert co["expected_cost_per_case_held_out"] == pytest.approx(held)
            seen["threshold"] += 1
        else:
            assert co["threshold"] is None and co["decision"] == "escalate_all"
            assert co["automation"]["k"] == 0 and co["errors_automated"] == 0
            assert co["expected_cost_per_case_held_out"] == review
            if best is not None and in_sample < review:  # the defect: cheaper only on the data that chose it
                assert co["cheaper"].startswith(f"escalating everything (${review:.2f} per case) is cheaper than")
                assert f"${held:.2f} per case held out" in co["cheaper"]
                seen["escalate_all"] += 1
        assert co["expected_cost_per_case_held_out"] <= co["escalate_all_cost_per_case"]
    assert seen["threshold"] >= 10 and seen["escalate_all"] >= 10  # both branches were exercised



def test_cli_states_the_costs_its_decisions_assume(run_dir, monkeypatch):
    """Cost-optimal decisions rest on a review cost and an error cost: the console says which, in dollars
    (a run without a suite's economics and without the options makes no cost decision at all)."""
    from evalkit.cli.main import app

    monkeypatch.setenv("EVALKIT_REPORTS", str(run_dir.parent))
    out = CliRunner().invoke(app, ["calibrate", run_dir.name, "--per-segment", "--review-cost", "7.5",
                                   "--error-cost", "95"], env={"COLUMNS": "300"})
    assert out.exit_code == 0, out.output
    line = next(x for x in out.output.splitlines() if x.startswith("costs assume"))
    assert "a review $7.50" in line and "not good $95.00" in line
    assert "cost-optimal decision:" in out.output and "$" in out.output.split("cost-optimal decision:")[1]
    out = CliRunner().invoke(app, ["calibrate", run_dir.name, "--per-segment"], env={"COLUMNS": "300"})
    assert out.exit_code == 0 and "cost-optimal" not in out.output and "costs assume" not in out.output  # no costs


def test_cli_points_at_the_projection_of_its_cost_optimal_decisions(run_dir, monkeypatch, tmp_path):
    """The console names the command that projects at the cost-optimal decisions it printed, and that command
    applies exactly thresholds.json's cost-optimal choice per segment (a segment it escalates projects 0%)."""
    import json
    import shlex

    import yaml

    from evalkit.cli.main import app

    monkeypatch.setenv("EVALKIT_REPORTS", str(run_dir.parent))
    out = CliRunner().invoke(app, ["calibrate", run_dir.name, "--per-segment", "--review-cost", "7.5",
                                   "--error-cost", "95"], env={"COLUMNS": "300"})
    assert out.exit_code == 0, out.output
    line = next(x for x in out.output.splitlines() if x.startswith("project at these decisions: "))
    command = shlex.split(line.split(": ", 1)[1].split(" (")[0])
    assert command[:2] == ["evalkit", "project"] and "--cost-optimal" in command
    chosen = {s: c["threshold"] for s, c in
              json.loads((run_dir / "thresholds.json").read_text())["configs"]["strong"]["cost_optimal"]["segments"].items()}
    mix = tmp_path / "mix.yaml"
    mix.write_text(yaml.safe_dump({s: 1 / len(chosen) for s in chosen}))
    out = CliRunner().invoke(app, [*command[1:], "--volume", "1000", "--mix", str(mix),
                                   "--config", "strong"])
    assert out.exit_code == 0, out.output
    block = json.loads((run_dir / "projection.json").read_text())["configs"]["strong"]
    assert {s: v["threshold"] for s, v in block["segments"].items()} == chosen
    assert all(block["segments"][s]["automation_rate"]["value"] == 0 for s, t in chosen.items() if t is None)


@pytest.mark.parametrize("seed", ["-1", "4294967296"])
def test_cli_seed_out_of_range_is_bad_input(run_dir, seed):
    """numpy raises ValueError on these seeds: the option refuses them first (exit 2, the range named)."""
    from evalkit.cli.main import app

    out = CliRunner().invoke(app, ["calibrate", str(run_dir), "--seed", seed])
    assert out.exit_code == 2 and "4294967295" in out.output, out.output


def test_suite_seed_out_of_range_is_a_config_error(run_dir):
    from evalkit.errors import ConfigError

    from pydantic import ValidationError

    with pytest.raises(ValidationError):  # a suite's calibration.seed: refused when the suite is read
        CalibrationSpec(seed=-1)
    with pytest.raises(ConfigError, match="out of range"):  # a spec copied with another seed, as --seed does
        calibrate_run(run_dir, spec=CalibrationSpec().model_copy(update={"seed": -1}))


def test_cli_seed_range_is_the_library_one():
    from evalkit.calibrate import SEED_MAX
    from evalkit.cli import _calibrate

    assert _calibrate.SEED_MAX == SEED_MAX
