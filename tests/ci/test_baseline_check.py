"""`evalkit run --baseline RUN` whose configurations the suite's baseline gates cannot pair with (as
`evalkit compare` pairs runs) fails before any call is paid for, not at the gate stage after the
run (where it used to exit 2 with the calls spent and no report written)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from evalkit.testing import write_synthetic_run

REPO = Path(__file__).resolve().parents[2]


def test_a_baseline_that_pairs_with_no_configuration_fails_before_the_run(tmp_path):
    base = write_synthetic_run(tmp_path / "base", run_id="base", configs={"rules": {}, "small-v1": {}}, n_cases=50,
                               projection=False)
    reports = tmp_path / "reports"
    env = {**os.environ, "EVALKIT_HOME": str(tmp_path / "home")}
    done = subprocess.run([sys.executable, "-m", "evalkit.cli.main", "run", "suites/upgrades-ci.yaml", "--limit",
                           "20", "--baseline", str(base), "--reports", str(reports), "--quiet"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "no configuration matching this suite" in done.stderr and "rules, small-v1" in done.stderr
    assert not reports.exists() or not any(reports.iterdir())  # nothing ran
    assert "Traceback" not in done.stderr
