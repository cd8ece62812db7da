"""What makes two invocations the same run: the suite file and every file it names. Editing a
prompt template (or a file it includes, or the catalogue) between an interrupted run and its
re-run starts a new run instead of resuming the old one, whose folder holds copies of the old files."""

from __future__ import annotations

from pathlib import Path

from evalkit.run import RunRequest
from evalkit.run._request import fingerprint
from evalkit.run._setup import input_versions, plan_run
from evalkit.suite import load_suite

REPO = Path(__file__).resolve().parents[1]


def _suite(tmp: Path) -> Path:
    (tmp / "prompts").mkdir()
    prompt = (REPO / "suites" / "prompts" / "upgrade-v1.j2").read_text()
    (tmp / "prompts" / "upgrade-v1.j2").write_text(prompt + '\n{% include "note.j2" %}\n')
    (tmp / "prompts" / "note.j2").write_text("{# a shared footer #}\n")
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


def _identity(suite: Path) -> str:
    loaded = load_suite(suite)
    req = RunRequest(suite_path=suite, limit=3, datasets=REPO / "datasets", progress=False)
    return fingerprint(loaded.sha256, req, inputs=input_versions(loaded, plan_run(loaded, req)))


def test_editing_a_named_prompt_or_what_it_includes_changes_the_run_identity(tmp_path):
    suite = _suite(tmp_path)
    first = _identity(suite)
    assert _identity(suite) == first  # deterministic
    (tmp_path / "notes.txt").write_text("edited, but no input of the suite")
    assert _identity(suite) == first
    included = tmp_path / "prompts" / "note.j2"
    included.write_text("{# an edited footer #}\n")
    second = _identity(suite)
    assert second != first
    prompt = tmp_path / "prompts" / "upgrade-v1.j2"
    prompt.write_text(prompt.read_text() + "\n{# one more comment #}\n")
    assert _identity(suite) not in (first, second)
