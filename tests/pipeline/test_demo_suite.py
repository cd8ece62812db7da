"""The demo suite shows what the issues promise, on real runs of the simulated models."""

from __future__ import annotations

import json

import pandas as pd

from evalkit.score import ALL, aggregate, compare

CONTRACT_COLUMNS = {
    "run_id", "config", "case_id", "segment", "variant", "status", "invalid_reason", "action", "expected_action",
    "deferred", "correct", "good", "wrong_fields", "reasons", "confidence", "confidence_stated",
    "input_tokens", "output_tokens", "total_tokens", "cost_usd", "history_turns_total", "history_turns_included",
    "history_tokens", "deciding_turn_from_end", "cache_hit", "attempts", "human_good", "judge_good", "simulated",
}


def test_run_folder_holds_manifest_tables_and_report(demo_run):
    d = demo_run.run_dir
    for name in ("manifest.json", "journal.jsonl.gz", "results.parquet", "scores.parquet", "summary.json",
                 "thresholds.json", "projection.json", "judge.json", "report.html", "suite.yaml"):
        assert (d / name).exists(), name
    m = json.loads((d / "manifest.json").read_text())
    assert m["status"] == "complete" and m["dataset"]["version"] == "v2" and len(m["dataset"]["sha256"]) == 64
    assert all(c["prompt_version"].startswith("sha256:") and c["simulated"] for c in m["configs"])
    assert m["seed"] == 7 and m["evalkit_version"]
    scores = pd.read_parquet(d / "scores.parquet")  # plain pandas: readable without evalkit
    assert CONTRACT_COLUMNS <= set(scores.columns)
    assert len(scores) == 3 * 3000 and not scores.duplicated(["config", "case_id"]).any()
    assert "simulated" in (d / "report.html").read_text()


def test_correct_versus_good_gap_is_widest_in_edge_segments(demo_run):
    agg = aggregate(demo_run.scores)
    large = agg[agg["config"] == "large-v1"].set_index("segment")
    assert large.loc["operational_context", "gap"] > large.loc["routine", "gap"] + 0.2
    small = agg[(agg["config"] == "small-v1") & (agg["segment"] == ALL)].iloc[0]
    assert small["correct_rate"] - small["good_rate"] > 0.15  # technically correct, often not good


def test_dropping_the_legacy_clause_is_a_significant_legacy_regression_only(demo_run):
    s = demo_run.scores
    result = compare(s[s["config"] == "large-v1"], s[s["config"] == "large-no-legacy"], outcome="good")
    table = result.rows("good").set_index("segment")
    assert bool(table.loc["legacy_pricing", "significant"]) and table.loc["legacy_pricing", "diff"] < -0.3
    assert not bool(table.loc["routine", "significant"])
    flips = result.flips[result.flips["outcome"] == "good"]
    flipped = flips[flips["segment"] == "legacy_pricing"]
    # Some legacy cases improve (about 7%): without the clause the model cannot stack the cohort discount on a promotion.
    assert len(flipped) > 100 and flipped["direction"].eq("regressed").mean() > 0.85


def test_calibration_certifies_thresholds_and_escalates_weak_segments(demo_run):
    doc = json.loads((demo_run.run_dir / "thresholds.json").read_text())
    assert doc["alpha"] == 0.05 and doc["delta"] == 0.05
    large, small = doc["configs"]["large-v1"], doc["configs"]["small-v1"]
    # Confidence no longer knows the model's own slips (issue 15): coverage may be 0 where slips dominate.
    assert large["coverage"]["value"] >= small["coverage"]["value"]
    assert large["coverage"]["n"] == 3000
    edge = {"promotion", "legacy_pricing", "custom_contract", "undocumented_exception", "operational_context",
            "adversarial", "long_context"}
    assert edge & set(small["uncertified_segments"])
    # Recalibration is reported out of fold and helps the overconfident small model.
    metrics = small["metrics"]
    assert metrics["recalibrated_evaluation"].startswith("out of fold")
    assert metrics["recalibrated_out_of_fold"]["ece_width"] < metrics["raw"]["ece_width"]


def test_projection_shows_the_surprise_in_advance(demo_run):
    doc = json.loads((demo_run.run_dir / "projection.json").read_text())
    for name in ("small-v1", "large-v1"):
        c = doc["configs"][name]
        assert c["automation_rate"]["value"] < c["naive_automation_rate"]["value"]  # expected 80%, get less
        assert c["monthly_cost"]["tail_to_naive_ratio"] > 1.0  # the long tail costs more than the average prompt
    html = (demo_run.run_dir / "report.html").read_text()
    assert "naive" in html.lower()


def test_judge_agreement_with_human_labels_is_reported(demo_run):
    doc = json.loads((demo_run.run_dir / "judge.json").read_text())
    human = doc["judge_vs_human"]
    assert human["n"] > 500 and 0.5 < human["kappa"] < 1.0
    lo, hi = human["kappa_interval"]
    assert lo < human["kappa"] < hi
    assert sum(map(sum, human["confusion"])) == human["n"]
    assert 'id="judge"' in (demo_run.run_dir / "report.html").read_text()
