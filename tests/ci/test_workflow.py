"""The shipped workflow passes actionlint (installed by the project's dev extra)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
WORKFLOW = REPO / ".github" / "workflows" / "evalkit.yml"


def _actionlint() -> str:
    path = shutil.which("actionlint", path=f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin")
    assert path, "actionlint is missing: install the dev extra (pip install -e '.[dev]')"
    return path


def test_shipped_workflow_passes_actionlint():
    proc = subprocess.run([_actionlint(), "-no-color", str(WORKFLOW)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path):
    """Not vacuous: an undefined step output and an unknown matrix key are reported."""
    text = WORKFLOW.read_text().replace("steps.evalkit.outputs.verdict", "steps.evalkitt.outputs.verdict")
    text = text.replace("matrix.shard }}", "matrix.shardd }}", 1)
    bad = tmp_path / ".github" / "workflows" / "evalkit.yml"
    bad.parent.mkdir(parents=True)
    bad.write_text(text)
    proc = subprocess.run([_actionlint(), "-no-color", str(bad)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert "evalkitt" in proc.stdout and "shardd" in proc.stdout
