"""A piped or CI log is never silent during a run: plain progress lines and one line per stage
on stderr; --quiet hides them (verdicts still print)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run(tmp_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "EVALKIT_DATASETS": str(REPO / "datasets"), "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "evalkit.cli.main", "run", "suites/upgrades-demo.yaml",
                           "--config", "rules", "--config", "small-v1", "--limit", "24", "--fresh",
                           "--reports", str(tmp_path / "reports"), *extra],
                          cwd=REPO, env=env, capture_output=True, text=True, check=False, timeout=300)


def test_piped_run_prints_progress_and_stage_lines_on_stderr(tmp_path):
    r = run(tmp_path)
    assert r.returncode in (0, 1), r.stderr
    lines = r.stderr.splitlines()
    assert "calls 48/48 (100%)" in r.stderr and "(simulated)" in r.stderr, r.stderr
    stages = [ln for ln in lines if ln.endswith(" ...")]
    assert [s.split()[0] for s in stages] == ["calibrating", "projecting", "writing"], stages
    quiet = run(tmp_path, "--quiet")
    assert quiet.returncode == r.returncode
    assert "calls 48/48" not in quiet.stderr and not any(ln.endswith(" ...") for ln in quiet.stderr.splitlines())
