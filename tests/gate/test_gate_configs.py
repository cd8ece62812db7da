"""A gate's ``configs:`` names configurations of the suite. A misspelt one (``configs: [lrage]``) made
the gate apply to nothing: `suite validate` said ok, `run` and `gate` said passed (0 passed, 0 failed).
A configuration of the suite that a run did not answer (``run --config rules``) left its gates out of
the verdict altogether, and a verdict that checked nothing read PASSED."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from evalkit.cli.main import app
from evalkit.testing import write_synthetic_run

SPEC = {"name": "ci", "configs": [{"name": "prod", "provider": "sim", "model": "large", "prompt": "p.j2"},
                                  {"name": "other", "provider": "sim", "model": "small", "prompt": "p.j2"}],
        "gates": [{"kind": "min_good_rate", "min": 0.1, "configs": ["other"]}]}


def _run(tmp_path: Path) -> Path:
    return write_synthetic_run(tmp_path / "r", run_id="r", configs={"prod": {}}, n_cases=200, suite_spec=SPEC)


def test_gate_suite_naming_an_unknown_configuration_is_refused_with_its_line(tmp_path, monkeypatch):
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    run = _run(tmp_path)
    suite = tmp_path / "g.yaml"
    suite.write_text("name: ci\ngates:\n  - kind: min_good_rate\n    min: 0.99\n    configs: [lrage]\n")
    res = CliRunner().invoke(app, ["gate", str(run), "--suite", str(suite), "--no-write"])
    assert res.exit_code == 2, res.output
    assert f"{suite}:5: gates[0].configs[0]" in res.output and "'lrage'" in res.output
    assert "other, prod" in res.output  # the known ones: the run's and its suite's


def test_a_configuration_not_in_the_run_is_listed_as_skipped_and_nothing_checked_is_no_pass(tmp_path, monkeypatch):
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    out = tmp_path / "gh-output"
    monkeypatch.setenv("GITHUB_OUTPUT", str(out))
    run = _run(tmp_path)
    res = CliRunner().invoke(app, ["gate", str(run)])
    assert res.exit_code == 0, res.output  # nothing failed; docs/ci.md: skipped gates do not fail the build
    gates = json.loads((run / "gates.json").read_text())
    assert [(r["config"], r["status"]) for r in gates["results"]] == [("other", "skip")]
    # passed (nothing failed) is not read as a pass: the file states the verdict and its counts
    assert gates["passed"] is True and gates["verdict"] == "nothing checked"
    assert gates["counts"] == {"passed": 0, "failed": 0, "skipped": 1, "not settled": 0}
    assert "configuration 'other' not in this run" in gates["results"][0]["message"]
    summary = (run / "summary.md").read_text()
    assert "NOTHING CHECKED" in summary and "PASSED" not in summary
    assert "gates: NOTHING CHECKED (0 passed, 0 failed, 1 skipped)" in res.output
    assert "verdict=none" in out.read_text()


def test_a_run_that_checks_some_gates_still_passes(tmp_path, monkeypatch):
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    monkeypatch.delenv("GITHUB_OUTPUT", raising=False)
    run = Path(shutil.copytree(_run(tmp_path), tmp_path / "copy"))
    suite = tmp_path / "g.yaml"
    suite.write_text("name: ci\ngates:\n  - kind: min_good_rate\n    min: 0.1\n"
                     "  - kind: min_good_rate\n    min: 0.1\n    configs: [other]\n")
    res = CliRunner().invoke(app, ["gate", str(run), "--suite", str(suite)])
    assert res.exit_code == 0, res.output
    assert "## evalkit gates: PASSED" in (run / "summary.md").read_text()
