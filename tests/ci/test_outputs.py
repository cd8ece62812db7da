"""Readable failures in CI logs: stderr verdicts with --quiet, GitHub annotations and step
outputs, a summary that says each failure once, JUnit with time and hostname."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from evalkit.gate import annotations, announce, evaluate_gates, parse_gates, step_outputs, write_gate_outputs

REPO = Path(__file__).resolve().parents[2]

GATES = [{"kind": "max_good_rate_drop", "max_drop": 0.0}, {"kind": "min_good_rate", "min": 0.1}]


def _failing_report(synthetic_runs, tmp_path):
    cand = Path(shutil.copytree(synthetic_runs["drop"], tmp_path / "cand"))
    return evaluate_gates(cand, parse_gates(GATES), baseline_dir=synthetic_runs["base"]), cand


def test_quiet_gate_cli_prints_the_failure_on_stderr_and_annotations_under_actions(synthetic_runs, tmp_path):
    cand = Path(shutil.copytree(synthetic_runs["drop"], tmp_path / "cand"))
    out_file, summary_file = tmp_path / "github_output", tmp_path / "step_summary.md"
    env = {"PATH": "/usr/bin:/bin", "GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": str(out_file),
           "GITHUB_STEP_SUMMARY": str(summary_file), "EVALKIT_HOME": str(tmp_path / "home"),
           "PYTHONPATH": str(REPO / "src")}
    proc = subprocess.run([sys.executable, "-m", "evalkit.cli.main", "gate", str(cand), "--baseline",
                           str(synthetic_runs["base"])], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 1, proc.stderr
    fail_lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("FAIL ")]
    assert len(fail_lines) == 1 and "legacy_discount" in fail_lines[0]
    errors = [ln for ln in proc.stdout.splitlines() if ln.startswith("::error ")]
    assert len(errors) == 1 and "legacy_discount" in errors[0] and "title=evalkit gate failed" in errors[0]
    outputs = dict(line.split("=", 1) for line in out_file.read_text().splitlines())
    assert outputs["verdict"] == "fail" and outputs["failed_gates"] == "1"
    assert float(outputs["good_rate_delta"]) < 0
    assert outputs["cost_usd"] == "unknown" or float(outputs["cost_usd"]) >= 0
    assert "legacy_discount" in summary_file.read_text()


def test_run_quiet_still_prints_the_verdict(tmp_path):
    """`evalkit run --quiet` on the shipped CI suite and the clause-dropping prompt: stderr names the gate."""
    env = {"PATH": "/usr/bin:/bin", "EVALKIT_HOME": str(tmp_path / "home"), "PYTHONPATH": str(REPO / "src"),
           "GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": str(tmp_path / "out")}
    proc = subprocess.run([sys.executable, "-m", "evalkit.cli.main", "run", "suites/upgrades-ci.yaml", "--quiet",
                           "--limit", "300", "--baseline", "suites/baselines/upgrades-ci", "--reports",
                           str(tmp_path / "reports"), "--set",
                           "configs.candidate.prompt=prompts/upgrade-v1-no-legacy.j2"],
                          cwd=REPO, capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 1, proc.stderr
    assert "FAIL candidate: max good rate drop" in proc.stderr and "legacy_pricing" in proc.stderr
    assert "gates: FAILED" in proc.stderr
    assert any(ln.startswith("::error ") and "legacy_pricing" in ln for ln in proc.stdout.splitlines())
    # --quiet: no progress, no tables on stdout - only the workflow commands.
    assert all(ln.startswith("::") for ln in proc.stdout.splitlines() if ln.strip())
    outputs = dict(line.split("=", 1) for line in (tmp_path / "out").read_text().splitlines())
    assert outputs["verdict"] == "fail" and float(outputs["good_rate_delta"]) < 0
    assert float(outputs["cost_usd"]) > 0  # simulated calls are priced (as gpt-4o)


def test_annotations_escape_newlines_and_point_at_the_suite(synthetic_runs, tmp_path):
    report, _ = _failing_report(synthetic_runs, tmp_path)
    lines = annotations(report, suite_file="suites/ci.yaml")
    assert len(lines) == 1 and lines[0].startswith("::error file=suites/ci.yaml,title=")
    assert "\n" not in lines[0]
    out, err = io.StringIO(), io.StringIO()
    announce(report, verbose=False, out=out, err=err)
    assert out.getvalue() == ""  # quiet and not on Actions: nothing on stdout
    assert "legacy_discount" in err.getvalue() and "gates: FAILED" in err.getvalue()


def test_summary_says_each_failure_once_in_one_format_and_links_the_report(synthetic_runs, tmp_path, monkeypatch):
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    monkeypatch.delenv("GITHUB_OUTPUT", raising=False)
    monkeypatch.setenv("EVALKIT_REPORT_URL", "https://ci.example/artifacts/42")
    report, cand = _failing_report(synthetic_runs, tmp_path)
    paths = write_gate_outputs(report, cand)
    md = paths["summary.md"].read_text()
    failed = report.failed[0]
    assert md.count(failed.message) == 1
    assert "[HTML report](https://ci.example/artifacts/42)" in md
    table = [ln for ln in md.splitlines() if ln.startswith("| ")][1:]
    assert all("%" in ln or "pts" in ln for ln in table)  # rates in percent, drops in points
    assert "0.8" not in md.split("| result |")[1].split("pts")[0]  # no raw fractions in the table
    root = ET.parse(paths["junit.xml"]).getroot()
    suite = root.find("testsuite")
    assert suite.get("hostname") and float(suite.get("time")) >= 0
    assert all(float(tc.get("time")) >= 0 for tc in suite.findall("testcase"))
    outputs = step_outputs(report, cand)
    assert outputs["verdict"] == "fail" and outputs["good_rate_delta_prod"] == outputs["good_rate_delta"]
