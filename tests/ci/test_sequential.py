"""Sequential gating: anytime-valid tests keep false failures under alpha however often
they are looked at, and stop early on a real regression."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from evalkit.gate._anytime import anytime_p, confidence_sequence, holm_reject

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).parent))
from seqsim import false_failure_rate, stopping_share


def test_null_comparisons_fail_at_most_alpha_of_the_time():
    """1,000 simulated null comparisons (candidate = baseline in distribution), nine
    segments, Holm, monitored after every case: false gate failures <= alpha."""
    rate = false_failure_rate(1000, seed=20261130, alpha=0.05)
    assert rate <= 0.05, rate
    # ... and the test is not vacuous: at a lenient alpha it does reject some nulls.
    assert false_failure_rate(300, seed=1, alpha=0.5) > 0


def test_a_real_drop_is_caught_early():
    stops = stopping_share(200, seed=3, shift={"legacy_pricing": -0.6})
    assert np.median(stops) <= 0.25 and (stops < 1).mean() > 0.95


def test_anytime_p_is_valid_at_the_boundary_and_detects_a_shift():
    rng = np.random.default_rng(0)
    y = (rng.random((2000, 200)) < 0.3).astype(float)
    assert (anytime_p(y, 0.3) <= 0.05).mean() <= 0.05  # H0 true at its boundary
    assert (anytime_p(y, 0.15) <= 0.05).mean() > 0.9  # mean 0.3 is above 0.15
    assert (anytime_p(y, 0.5, side="less") <= 0.05).mean() > 0.9


def test_confidence_sequence_covers_the_mean():
    rng = np.random.default_rng(5)
    covered = 0
    for _ in range(200):
        y = (rng.random(150) < 0.7).astype(float)
        lo, hi = confidence_sequence(y, 0.05)
        covered += lo <= 0.7 <= hi
        assert hi - lo < 0.5  # informative, not [0, 1]
    assert covered / 200 >= 0.95


def test_holm_over_replications_matches_statsmodels():
    from statsmodels.stats.multitest import multipletests

    p = np.array([[0.001, 0.04, 0.012, 0.3, 0.0049], [0.2, 0.011, 0.6, 0.009, 0.5]])
    expected = np.stack([multipletests(row, alpha=0.05, method="holm")[0] for row in p])
    assert np.array_equal(holm_reject(p, 0.05), expected) and expected.any()


def _run(tmp_path, *args):
    env = {"PATH": "/usr/bin:/bin", "EVALKIT_HOME": str(tmp_path / "home"), "PYTHONPATH": str(REPO / "src")}
    reports = tmp_path / "reports"
    proc = subprocess.run([sys.executable, "-m", "evalkit.cli.main", "run", "suites/upgrades-ci.yaml", "--sequential",
                           "--baseline", "suites/baselines/upgrades-ci", "--reports", str(reports), *args],
                          cwd=REPO, capture_output=True, text=True, env=env, timeout=900)
    runs = [p for p in reports.iterdir() if p.is_dir()]
    assert len(runs) == 1, proc.stdout + proc.stderr
    return proc, runs[0]


@pytest.mark.slow
def test_clause_dropping_fails_after_at_most_a_quarter_of_the_calls(tmp_path):
    proc, run_dir = _run(tmp_path, "--set", "configs.candidate.prompt=prompts/upgrade-v1-no-legacy.j2")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    gates = json.loads((run_dir / "gates.json").read_text())
    seq = gates["sequential"]
    assert seq["calls_full"] == 3000 and seq["calls_made"] <= 0.25 * seq["calls_full"], seq
    assert seq["calls_saved"] == seq["calls_full"] - seq["calls_made"] and seq["saved_usd"] > 0
    failed = [r for r in gates["results"] if r["status"] == "fail"]
    assert [r["segments"] for r in failed] == [["legacy_pricing"]]
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["counts"]["calls"] == seq["calls_made"] == manifest["dataset"]["sampled_rows"]
    assert f"{seq['calls_saved']} saved" in proc.stdout  # the console says it
    assert "saved" in (run_dir / "summary.md").read_text()
    assert f"({seq['calls_saved']} saved)" in (run_dir / "report.html").read_text()  # the HTML report too
    assert "legacy_pricing" in proc.stderr
    # docs/ci.md, docs/statistics.md and the README quote this run: their numbers are what it prints
    [line] = [x for x in proc.stdout.splitlines() if x.startswith("Sequential: stopped")]
    quoted = line.split(", dollars saved")[0]
    docs = {name: (REPO / name).read_text() for name in ("docs/ci.md", "docs/statistics.md", "README.md")}
    assert quoted in docs["docs/ci.md"], f"docs/ci.md is stale; the run prints:\n{line}"
    made, share = seq["calls_made"], f"{100 * seq['calls_made'] / seq['calls_full']:.1f}%"
    assert f"after {made} of the {seq['calls_full']:,} cases" in docs["docs/ci.md"]
    assert f"after {made} of {seq['calls_full']:,} cases ({share} of the calls" in docs["docs/statistics.md"]
    assert f"fails after {share} of the calls" in docs["README.md"]


def test_harmless_change_runs_to_the_end_and_passes(tmp_path):
    proc, run_dir = _run(tmp_path, "--limit", "450", "--look-every", "150", "--quiet",
                         "--set", "configs.candidate.prompt=prompts/upgrade-v1-reworded.j2")
    assert proc.returncode == 0, proc.stderr
    seq = json.loads((run_dir / "gates.json").read_text())["sequential"]
    assert seq["looks"] == 3 and seq["cases_done"] == seq["cases_total"] == 450 and seq["calls_saved"] == 0


def test_threshold_gates_settle_from_confidence_sequences():
    from evalkit.gate._sequential import threshold_verdict

    rng = np.random.default_rng(11)
    weights = {"a": 0.5, "b": 0.5}
    high = {"a": (rng.random(400) < 0.95).astype(float), "b": (rng.random(400) < 0.9).astype(float)}
    state, _, segs, _, rows = threshold_verdict(high, weights, limit=0.6, higher_is_better=True, alpha=0.05,
                                                per_segment=True, what="good rate")
    assert state == "pass" and segs == () and [r["segment"] for r in rows] == ["a", "b"]
    low_b = {**high, "b": (rng.random(400) < 0.2).astype(float)}
    state, msg, segs, _, _ = threshold_verdict(low_b, weights, limit=0.6, higher_is_better=True, alpha=0.05,
                                               per_segment=True, what="good rate")
    assert state == "fail" and segs == ("b",) and "'b'" in msg
    few = {s: x[:5] for s, x in high.items()}
    state, _, _, _, _ = threshold_verdict(few, weights, limit=0.6, higher_is_better=True, alpha=0.05,
                                          per_segment=False, what="good rate")
    assert state == "open"  # five cases per segment settle nothing


def test_each_configuration_is_checked_against_its_paired_baseline_configuration():
    """Sequential verdicts compare each configuration with the baseline configuration paired to it
    (as `evalkit compare` pairs runs), not with the baseline's first configuration for all; one the
    baseline lacks is skipped saying so."""
    import pandas as pd

    from evalkit.gate._sequential import sequential_verdicts
    from evalkit.suite._gates import MaxGoodRateDrop

    rng = np.random.default_rng(3)
    cases = [f"c{i}" for i in range(600)]
    good = rng.random(600) < 0.9

    def frame(config, good_flags):
        return pd.DataFrame({"case_id": cases, "config": config, "segment": "routine", "good": good_flags,
                             "correct": good_flags, "status": "ok", "cost_usd": 0.01})

    cand = pd.concat([frame("a", good), frame("b", good), frame("new", good)])
    worse = good & (rng.random(600) < 0.5)  # the baseline "a" was much worse, "b" the same as now
    baseline = {"a": frame("a", worse), "b": frame("b", good)}
    gate = MaxGoodRateDrop(kind="max_good_rate_drop", max_drop=0.0)
    verdicts = {v.config: v for v in sequential_verdicts([gate], cand, baseline, cases, {"routine": 1.0})}
    assert verdicts["new"].state == "open" and "no configuration 'new' in the baseline run" in verdicts["new"].message
    assert verdicts["a"].state != "fail"  # better than its own baseline, far better than b's
    flipped = {"a": frame("a", good), "b": frame("b", good | (rng.random(600) < 0.9))}  # b's baseline was better
    verdicts = {v.config: v for v in sequential_verdicts([gate], cand, flipped, cases, {"routine": 1.0})}
    assert verdicts["b"].state == "fail" and verdicts["a"].state != "fail"
