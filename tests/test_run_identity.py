"""What makes two invocations the same run: the suite file and every file it names. Editing a
prompt template (or the catalogue) between an interrupted run and its re-run starts a new run
instead of resuming the old one, whose folder holds copies of the old files."""

from __future__ import annotations

import shutil
from pathlib import Path

from evalkit.suite import load_suite

REPO = Path(__file__).resolve().parents[1]


def _suite(tmp: Path) -> Path:
    (tmp / "prompts").mkdir()
    shutil.copy(REPO / "suites" / "prompts" / "upgrade-v1.j2", tmp / "prompts" / "upgrade-v1.j2")
    (tmp / "notes.txt").write_text("not named by the suite")
    suite = tmp / "suite.yaml"
    suite.write_text("""
name: identity
task: upgrades
dataset: upgrades@v1
configs:
  - name: rules
    provider: rules
    model: written-policy
    prompt: prompts/upgrade-v1.j2
""")
    return suite


def test_editing_a_named_prompt_changes_the_run_identity(tmp_path):
    suite = _suite(tmp_path)
    first = load_suite(suite).inputs_sha256
    assert load_suite(suite).inputs_sha256 == first  # deterministic
    (tmp_path / "notes.txt").write_text("edited, but no input of the suite")
    assert load_suite(suite).inputs_sha256 == first
    prompt = tmp_path / "prompts" / "upgrade-v1.j2"
    prompt.write_text(prompt.read_text() + "\n{# one more comment #}\n")
    assert load_suite(suite).inputs_sha256 != first
