"""The LLM judge's calls are paid calls of the run: its spend is in the run's totals (it was in no
total), and its executor prices the configurations' journaled calls (its progress line called them
'of unknown cost' and its budget left them out)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[2]


def test_the_judges_spend_counts_in_the_run(tmp_path):
    env = {**os.environ, "EVALKIT_HOME": str(tmp_path / "home"), "NO_COLOR": "1"}
    done = subprocess.run([sys.executable, "-m", "evalkit.cli.main", "run", "suites/upgrades-demo.yaml", "--config",
                           "rules", "--config", "small-v1", "--limit", "24", "--reports", str(tmp_path / "r")],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode in (0, 1), done.stderr
    (run_dir,) = [p for p in (tmp_path / "r").iterdir() if p.is_dir()]
    counts = json.loads((run_dir / "manifest.json").read_text())["counts"]
    calls = float(pd.read_parquet(run_dir / "results.parquet")["cost_usd"].sum())
    assert counts["judge_calls"] > 0 and counts["judge_spent_usd"] > 0
    assert abs(counts["spent_usd"] - (calls + counts["judge_spent_usd"])) < 1e-9
    assert abs(counts["recorded_usd"] - counts["spent_usd"]) < 1e-9
    progress = [line for line in done.stderr.splitlines() if line.startswith("calls ")]
    assert progress and not any("unknown" in line for line in progress), progress
