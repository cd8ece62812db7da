"""Regenerate tests/fixtures/demo_summary.json: the demo's summary numbers the tests hold the pipeline to.

    python scripts/regen_demo_summary.py

Runs ``evalkit run suites/upgrades-demo.yaml --fresh`` with a private EVALKIT_HOME and reports
folder (offline, simulated provider; a few minutes) and copies the run's summary.json. Run it when
the simulated world or the scoring rules change on purpose, and commit the new fixture with the
change that explains it (tests/pipeline/test_demo_fixture.py compares against it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FIXTURE = REPO / "tests" / "fixtures" / "demo_summary.json"


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="evalkit-demo-fixture-") as tmp:
        env = {**os.environ, "EVALKIT_HOME": str(Path(tmp) / "home")}
        reports = Path(tmp) / "reports"
        cmd = [sys.executable, "-m", "evalkit.cli.main", "run", "suites/upgrades-demo.yaml", "--fresh", "--quiet",
               "--reports", str(reports)]
        code = subprocess.run(cmd, cwd=REPO, env=env).returncode
        runs = [p for p in reports.iterdir() if (p / "summary.json").is_file()] if reports.is_dir() else []
        if code not in (0, 1) or len(runs) != 1:
            print(f"demo run failed (exit {code}); fixture unchanged", file=sys.stderr)
            return 3
        shutil.copyfile(runs[0] / "summary.json", FIXTURE)
    print(f"wrote {FIXTURE.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
