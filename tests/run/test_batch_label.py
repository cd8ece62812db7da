"""`--batch` on providers without a batch API sends every call directly: the run is labelled a direct
one (it said 'batch', and the console 'polling every 30s')."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_batch_mode_without_a_batch_api_is_a_direct_run(tmp_path):
    env = {**os.environ, "EVALKIT_HOME": str(tmp_path / "home")}
    done = subprocess.run([sys.executable, "-m", "evalkit.cli.main", "run", "suites/upgrades-ci.yaml", "--batch",
                           "--limit", "20", "--reports", str(tmp_path / "r")], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode in (0, 1), done.stderr
    assert "no configuration's provider has a batch API" in done.stdout and "polling every" not in done.stdout
    (run_dir,) = [p for p in (tmp_path / "r").iterdir() if p.is_dir()]
    assert json.loads((run_dir / "manifest.json").read_text())["execution"]["mode"] == "direct"
