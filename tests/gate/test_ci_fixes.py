"""What CI reads from a gate evaluation: the baseline configuration a gate compares with, a
cost change from $0, intervals and per-configuration "simulated" labels in summary.md, the
GitHub files under --no-write, and verdict counts that keep skipped and not-settled gates apart."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from evalkit.cli.main import app
from evalkit.errors import ConfigError
from evalkit.gate import (
    GateReport,
    GateResult,
    announce,
    apply_sequential,
    evaluate_gates,
    format_observed,
    parse_gates,
    summary_markdown,
    write_gate_outputs,
)
from evalkit.gate._sequential import SeqVerdict
from evalkit.stats import Estimate
from evalkit.testing import write_synthetic_run

DROP = {"kind": "max_good_rate_drop", "max_drop": 0.02}
COST = {"kind": "max_cost_p95_increase", "max_increase": 0.25}
N = 600


def _suite(tmp_path: Path, *gates: dict) -> Path:
    path = tmp_path / "suite.yaml"
    path.write_text("name: ci\ngates:\n" + "".join(
        "  - " + "\n    ".join(f"{k}: {v}" for k, v in g.items()) + "\n" for g in gates))
    return path


def test_a_baseline_sharing_no_configuration_is_bad_input_not_an_unrelated_comparison(tmp_path):
    """The probe: a one-configuration CI run gated against the demo run (rules, small-v1, ...) was
    compared with 'rules' and failed the cost gate with '+inf%'. Paired as `evalkit compare`
    pairs runs, nothing matches: exit 2, naming both runs' configurations."""
    cand = write_synthetic_run(tmp_path / "cand", run_id="cand", configs={"candidate": {}}, n_cases=N)
    base = write_synthetic_run(tmp_path / "base", run_id="base", configs={"rules": {"cost_scale": 0.0},
                                                                          "small-v1": {}}, n_cases=N, projection=False)
    with pytest.raises(ConfigError, match=r"no configuration matching.*rules, small-v1.*candidate"):
        evaluate_gates(cand, parse_gates([DROP, COST]), baseline_dir=base)
    res = CliRunner().invoke(app, ["gate", str(cand), "--baseline", str(base), "--suite",
                                   str(_suite(tmp_path, DROP, COST)), "--no-write"])
    assert res.exit_code == 2, res.output
    assert "no configuration matching" in res.stderr and "inf" not in res.output
    assert "Traceback" not in res.output
    # Gates that need no baseline still run; the headline just has no delta.
    report = evaluate_gates(cand, parse_gates([{"kind": "min_good_rate", "min": 0.1}]), baseline_dir=base)
    assert report.passed and report.headline["candidate"]["good_rate_delta"] is None


def test_a_configuration_new_to_the_suite_skips_its_baseline_gates_saying_so(tmp_path):
    base = write_synthetic_run(tmp_path / "base", run_id="base", configs={"prod": {}}, n_cases=N)
    cand = write_synthetic_run(tmp_path / "cand", run_id="cand", configs={"prod": {}, "new": {"cost_scale": 9}},
                               n_cases=N)
    report = evaluate_gates(cand, parse_gates([DROP, COST]), baseline_dir=base)
    new = [r for r in report.results if r.config == "new"]
    assert [r.status for r in new] == ["skip", "skip"]  # not compared with 'prod' (9x its cost would fail)
    assert all("no configuration 'new' in baseline run base" in r.message for r in new)
    prod = [r for r in report.results if r.config == "prod"]
    assert [r.status for r in prod] == ["pass", "pass"] and "base/prod" in prod[0].message
    assert report.headline["new"]["good_rate_delta"] is None
    assert report.headline["prod"]["baseline_config"] == "prod"


def test_a_cost_change_from_a_zero_cost_baseline_is_said_plainly_not_as_a_percentage(tmp_path):
    base = write_synthetic_run(tmp_path / "base", run_id="base", configs={"prod": {"cost_scale": 0.0}}, n_cases=N,
                              projection=False)
    cand = write_synthetic_run(tmp_path / "cand", run_id="cand", configs={"prod": {}}, n_cases=N)
    report = evaluate_gates(cand, parse_gates([COST]), baseline_dir=base)
    r = report.results[0]
    assert r.status == "fail" and r.observed is None
    assert "not a percentage" in r.message and "mode: absolute" in r.message and "inf" not in r.message
    assert format_observed(r).startswith("from $0 (not a %): p95 $")
    paths = write_gate_outputs(report, cand)
    doc = json.loads(paths["gates.json"].read_text(), parse_constant=lambda c: pytest.fail(f"non-JSON {c}"))
    assert doc["results"][0]["observed"] is None
    assert "inf" not in paths["summary.md"].read_text()
    both_free = evaluate_gates(base, parse_gates([COST]), baseline_dir=base).results[0]
    assert both_free.status == "pass" and "both cost nothing" in both_free.message


def test_summary_headline_and_cost_row_carry_their_95_percent_intervals(runs, tmp_path):
    from evalkit.runs import load_run
    from evalkit.score import compare
    from evalkit.stats import ALL

    cand = Path(shutil.copytree(runs["drop"], tmp_path / "cand"))
    report = evaluate_gates(cand, parse_gates([DROP, COST]), baseline_dir=runs["base"])
    h = report.headline["prod"]
    rows = compare(load_run(runs["base"]).config_scores("prod"), load_run(cand).config_scores("prod")).rows("good")
    overall = rows[rows["segment"] == ALL].iloc[0]  # the interval `evalkit compare` shows
    assert h["good_rate_delta"] == pytest.approx(overall["diff"])
    assert (h["good_rate_delta_lo"], h["good_rate_delta_hi"]) == pytest.approx((overall["diff_lo"], overall["diff_hi"]))
    assert h["good_rate_delta_lo"] < h["good_rate_delta"] < h["good_rate_delta_hi"]
    md = summary_markdown(report)
    line = next(ln for ln in md.splitlines() if ln.startswith("- `prod`"))
    n = len(load_run(cand).config_scores("prod"))
    assert f"n={n}" in line and line.count("[95% CI ") == 2, line
    assert f"{100 * h['good_rate_delta_lo']:+.1f} pts" in line and f"on {h['n_paired']} paired cases" in line
    cost_row = next(ln for ln in md.splitlines() if ln.startswith("| PASS | max p95 cost"))
    observed = cost_row.split(" | ")[3]
    assert "[95% CI " in observed and " n=" in observed, cost_row
    cost = next(r for r in report.results if r.kind == "max_cost_p95_increase")
    assert cost.observed.lo <= cost.observed.value <= cost.observed.hi


def test_simulated_is_labelled_per_configuration_not_as_a_blanket_banner(tmp_path):
    run = write_synthetic_run(tmp_path / "mixed", run_id="mixed", configs={"real": {}, "sim": {}}, n_cases=N,
                              simulated=False)
    manifest = json.loads((run / "manifest.json").read_text())
    next(c for c in manifest["configs"] if c["name"] == "sim")["simulated"] = True
    (run / "manifest.json").write_text(json.dumps(manifest))
    report = evaluate_gates(run, parse_gates([{"kind": "min_good_rate", "min": 0.99}]))
    md = summary_markdown(report)
    assert "every configuration" not in md and "numbers come from a simulated provider" not in md
    assert "`sim`: numbers from a simulated provider" in md and "`real`: not simulated" in md
    lines = md.splitlines()
    assert next(ln for ln in lines if ln.startswith("- `real`")).count("simulated") == 0
    assert next(ln for ln in lines if ln.startswith("- `sim`")).startswith("- `sim` (simulated):")
    rows = {ln.split(" | ")[2]: ln for ln in lines if ln.startswith("| FAIL")}
    assert set(rows) == {"real", "sim (simulated)"}
    failed = [ln for ln in lines if ln.startswith("- **")]
    assert any("`sim` (simulated)" in ln for ln in failed) and any("`real`:" in ln for ln in failed)
    # A run that is all simulated says so once for every configuration.
    sim_only = evaluate_gates(write_synthetic_run(tmp_path / "s", run_id="s", configs={"a": {}}, n_cases=60),
                              parse_gates([{"kind": "min_good_rate", "min": 0.1}]))
    assert "every configuration's numbers come from a simulated provider" in summary_markdown(sim_only)


def _tree(path: Path) -> dict[str, str]:
    return {str(p.relative_to(path)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(path.rglob("*")) if p.is_file()}


def test_no_write_leaves_the_run_folder_but_writes_the_github_files_and_names_no_summary(runs, tmp_path,
                                                                                           monkeypatch):
    cand = Path(shutil.copytree(runs["drop"], tmp_path / "cand"))
    suite = _suite(tmp_path, DROP)
    runner = CliRunner()
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.delenv("GITHUB_OUTPUT", raising=False)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    assert runner.invoke(app, ["gate", str(cand), "--baseline", str(runs["base"]), "--suite", str(suite)]).exit_code == 1
    before = _tree(cand)  # including an earlier summary.md
    gh_out, gh_sum = tmp_path / "gh", tmp_path / "ghsum"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_OUTPUT", str(gh_out))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(gh_sum))
    res = runner.invoke(app, ["gate", str(cand), "--baseline", str(runs["base"]), "--suite", str(suite),
                              "--no-write"])
    assert res.exit_code == 1, res.output
    assert _tree(cand) == before
    outputs = dict(line.split("=", 1) for line in gh_out.read_text().splitlines())
    assert outputs["verdict"] == "fail" and outputs["failed_gates"] == "1"
    assert outputs["cost_simulated"] == "all"  # the synthetic runs are simulated: cost_usd is pretend money
    assert outputs["cost_usd_real"] == "0.000000"  # every configuration simulated: no real money spent
    assert all(line.endswith("(simulated)") for line in res.stdout.splitlines() if line.startswith("::error "))
    assert "legacy_discount" in gh_sum.read_text()
    assert "::error " in res.stdout
    assert "summary.md" not in res.stderr and "gates: FAILED (" in res.stderr
    # Written: the verdict points at the summary this command wrote.
    res = runner.invoke(app, ["gate", str(cand), "--baseline", str(runs["base"]), "--suite", str(suite)])
    assert f"summary: {cand / 'summary.md'}" in res.stderr


def _result(status: str, name: str, *, settled: bool = True) -> GateResult:
    return GateResult(name=name, kind="min_good_rate", config="prod", status=status,  # type: ignore[arg-type]
                      observed=Estimate(value=0.5, lo=0.4, hi=0.6, n=100), limit=0.5, message=f"{name} message",
                      settled=settled, unit="rate")


def test_verdict_lines_count_passed_failed_skipped_and_not_settled_apart(tmp_path):
    results = (_result("pass", "a"), _result("fail", "b"), _result("skip", "c"), _result("skip", "d", settled=False),
               _result("skip", "e", settled=False))
    report = GateReport(run_id="r", run_dir=tmp_path, baseline_run_id="b", results=results)
    err = io.StringIO()
    announce(report, verbose=False, out=io.StringIO(), err=err)
    assert "gates: FAILED (1 passed, 1 failed, 1 skipped, 2 not settled)" in err.getvalue()
    md = summary_markdown(report)
    assert "1 passed, 1 failed, 1 skipped, 2 not settled" in md
    assert md.count("| NOT SETTLED |") == 2 and md.count("| SKIP |") == 1
    passing = GateReport(run_id="r", run_dir=tmp_path, baseline_run_id=None,
                         results=(_result("pass", "a"), _result("skip", "c"), _result("skip", "f")))
    out = io.StringIO()
    announce(passing, verbose=True, out=out, err=io.StringIO())
    assert "gates: passed (1 passed, 0 failed, 2 skipped)" in out.getvalue()
    assert "gates: passed (3)" not in out.getvalue()


def test_a_gate_left_open_by_an_early_stop_is_not_settled(tmp_path):
    report = GateReport(run_id="r", run_dir=tmp_path, baseline_run_id="b",
                        results=(_result("pass", "a"), _result("pass", "g")))
    verdicts = [SeqVerdict(gate_index=0, name="a", kind="min_good_rate", config="prod", state="fail",
                           message="dropped", segments=(), observed=None, details=()),
                SeqVerdict(gate_index=1, name="g", kind="min_good_rate", config="prod", state="open",
                           message="open so far", segments=(), observed=None, details=())]
    seq = apply_sequential(report, verdicts, exhausted=False, info={})
    assert [r.outcome for r in seq.results] == ["failed", "not settled"]
    assert seq.counts() == {"passed": 0, "failed": 1, "skipped": 0, "not settled": 1}


def test_gates_json_keeps_not_settled_and_the_verdict_apart_from_passed(tmp_path):
    """gates.json said passed: true and status skip for a run whose gates were all left open."""
    from evalkit.gate import stored_report
    from evalkit.runs import RunFolder, write_file, Gates

    report = GateReport(run_id="r", run_dir=tmp_path, baseline_run_id="b",
                        results=(_result("skip", "open", settled=False), _result("skip", "c")))
    write_file(tmp_path, report.to_dict(), Gates)
    doc = json.loads((tmp_path / "gates.json").read_text())
    assert doc["passed"] is True and doc["verdict"] == "nothing checked"
    assert [r["settled"] for r in doc["results"]] == [False, True]
    back = stored_report(RunFolder(path=tmp_path))
    assert back is not None and [r.outcome for r in back.results] == ["not settled", "skipped"]
    assert back.verdict == "NOTHING CHECKED"


def test_gating_a_stored_run_annotates_the_suite_file_it_was_made_with(runs, tmp_path, monkeypatch):
    """`evalkit gate RUN` wrote ::error lines without file= unless --suite was given; the manifest names it."""
    cand = Path(shutil.copytree(runs["drop"], tmp_path / "cand"))
    manifest = json.loads((cand / "manifest.json").read_text())
    manifest["suite"]["spec"]["gates"] = [DROP]
    (cand / "manifest.json").write_text(json.dumps(manifest))
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_OUTPUT", str(tmp_path / "gh"))
    monkeypatch.setenv("GITHUB_WORKSPACE", str(tmp_path))
    monkeypatch.chdir(tmp_path)  # the checkout, where the run was made: its manifest's suite path is relative
    res = CliRunner().invoke(app, ["gate", str(cand), "--baseline", str(runs["base"]), "--no-write"])
    assert res.exit_code == 1, res.output
    errors = [line for line in res.stdout.splitlines() if line.startswith("::error ")]
    assert errors and all(f"file={manifest['suite']['path']}" in line for line in errors), errors


def test_console_lines_of_a_report_whose_every_configuration_is_simulated_say_so(tmp_path):
    """With one configuration, all of it simulated, the PASS/FAIL lines carried no label."""
    report = GateReport(run_id="r", run_dir=tmp_path, baseline_run_id=None, simulated=True,
                        results=(_result("pass", "a"), _result("fail", "b")))
    out, err = io.StringIO(), io.StringIO()
    announce(report, verbose=True, out=out, err=err)
    assert "PASS prod: a: a message (simulated)" in out.getvalue()
    assert "FAIL prod: b: b message (simulated)" in err.getvalue()
    real = GateReport(run_id="r", run_dir=tmp_path, baseline_run_id=None, results=(_result("pass", "a"),))
    out = io.StringIO()
    announce(real, verbose=True, out=out, err=io.StringIO())
    assert "simulated" not in out.getvalue()
