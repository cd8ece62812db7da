"""The CI story: the shipped CI suite against the committed baseline, offline with --replay.

A harmless rewording of the prompt passes; dropping the legacy-pricing clause to save
tokens fails (exit 1) and the JUnit and Markdown outputs name the segment.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def run_ci(tmp_path: Path, prompt: str) -> tuple[int, Path, str]:
    reports = tmp_path / "reports"
    cmd = [sys.executable, "-m", "evalkit.cli.main", "run", "suites/upgrades-ci.yaml", "--replay", "--quiet",
           "--baseline", "suites/baselines/upgrades-ci", "--set", f"configs.candidate.prompt=prompts/{prompt}",
           "--reports", str(reports)]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=600)
    runs = [p for p in reports.iterdir() if p.is_dir()]
    assert len(runs) == 1, proc.stderr
    return proc.returncode, runs[0], proc.stdout + proc.stderr


@pytest.mark.slow
def test_dropping_a_policy_clause_fails_the_gate_naming_the_segment(tmp_path):
    code, run_dir, output = run_ci(tmp_path, "upgrade-v1-no-legacy.j2")
    assert code == 1, output
    junit = (run_dir / "junit.xml").read_text()
    assert "<failure" in junit and "legacy_pricing" in junit
    summary = (run_dir / "summary.md").read_text()
    assert "FAILED" in summary and "legacy_pricing" in summary
    assert "routine" not in summary.split("### Failed")[1].split("|")[0]  # only the hurt segment is named


@pytest.mark.slow
def test_a_harmless_rewording_passes_the_gate(tmp_path):
    code, run_dir, output = run_ci(tmp_path, "upgrade-v1-reworded.j2")
    assert code == 0, output
    assert "<failure" not in (run_dir / "junit.xml").read_text()


def test_bad_suite_is_a_usage_error_naming_file_and_path(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ndataset: upgrades@v1\nconfigs:\n  - name: a\n    provider: sim\n    model: small\n"
                   "    prompt: p.j2\n    samples: 0\n")
    proc = subprocess.run([sys.executable, "-m", "evalkit.cli.main", "run", str(bad)], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert f"{bad}:8: configs[0].samples" in proc.stderr  # file, line, YAML path
