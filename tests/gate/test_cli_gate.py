from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from evalkit.cli.main import app

SUITE = """\
name: upgrades-ci
gates:
  - kind: max_good_rate_drop
    max_drop: 0.02
  - kind: max_invalid_share
    max: 0.05
"""


@pytest.fixture()
def suite(tmp_path: Path) -> Path:
    path = tmp_path / "suite.yaml"
    path.write_text(SUITE)
    return path


def test_gate_cli_exit_codes(runs, suite, tmp_path, monkeypatch):
    monkeypatch.setenv("EVALKIT_REPORTS", str(runs["base"].parent))
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    cand = Path(shutil.copytree(runs["drop"], tmp_path / "cand"))
    runner = CliRunner()
    res = runner.invoke(app, ["gate", str(cand), "--baseline", runs["base"].name, "--suite", str(suite)])
    assert res.exit_code == 1, res.output
    assert "legacy_discount" in res.output
    assert "legacy_discount" in (cand / "junit.xml").read_text()

    noise = Path(shutil.copytree(runs["noise"], tmp_path / "noise"))
    res = runner.invoke(app, ["gate", str(noise), "--baseline", str(runs["base"]), "--suite", str(suite)])
    assert res.exit_code == 0, res.output
    assert (noise / "gates.json").is_file()


def test_gate_cli_usage_errors(runs, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the manifest's relative suite path must not resolve to a real file
    monkeypatch.setenv("EVALKIT_REPORTS", str(tmp_path / "empty"))
    runner = CliRunner()
    res = runner.invoke(app, ["gate", "no-such-run", "--suite", str(tmp_path / "x.yaml")])
    assert res.exit_code == 2
    bad = tmp_path / "bad.yaml"
    bad.write_text("gates:\n  - kind: min_good_rate\n    min: 0.5\n    bogus: 1\n")
    res = runner.invoke(app, ["gate", str(runs["base"]), "--suite", str(bad), "--no-write"])
    assert res.exit_code == 2 and "bogus" in res.output
    # No --suite and the manifest's suite path does not exist here: a usage error, not a pass.
    res = runner.invoke(app, ["gate", str(runs["base"]), "--no-write"])
    assert res.exit_code == 2 and "--suite" in res.output


def test_gate_cli_uses_gates_recorded_in_the_manifest(runs, tmp_path, monkeypatch):
    from evalkit.testing import write_synthetic_run

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    spec = {"name": "upgrades-ci", "gates": [{"kind": "min_good_rate", "min": 0.7, "segment": "routine"},
                                             {"kind": "min_good_rate", "min": 0.7,
                                              "segment": "undocumented_exception"}]}
    run = write_synthetic_run(tmp_path / "r", run_id="r", configs={"prod": {}}, n_cases=600, suite_spec=spec)
    res = CliRunner().invoke(app, ["gate", str(run)])
    assert res.exit_code == 1, res.output
    junit = (run / "junit.xml").read_text()
    assert junit.count("<testcase") == 2 and junit.count("<failure") == 1
    assert "undocumented_exception" in junit


def test_gate_summary_on_an_80_column_terminal_wraps_and_keeps_names_whole(runs, suite, tmp_path):
    """A terminal gets the Markdown summary's content as a table wrapped to its width (piped output
    stays Markdown for pull-request comments): no line over 80 columns, configuration and gate
    results never cut, the failure explained."""
    from rich.console import Console

    from evalkit.gate import evaluate_gates, print_summary, summary_markdown
    from evalkit.suite import parse_gates

    gates = parse_gates([{"kind": "max_good_rate_drop", "max_drop": 0.02}, {"kind": "max_invalid_share", "max": 0.05}])
    report = evaluate_gates(runs["drop"], gates, baseline_dir=runs["base"])
    assert not report.passed
    console = Console(width=80, force_terminal=True, color_system=None)
    with console.capture() as captured:
        print_summary(report, console)
    text = captured.get()
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert "FAILED" in text and "legacy_discount" in text
    rows = [line for line in lines if line.lstrip().startswith(("PASS", "FAIL", "SKIP"))]
    assert len(rows) == len(report.results) and any(r.lstrip().startswith("FAIL") for r in rows)
    assert all(" prod " in f"{r} " for r in rows)  # the configuration, whole
    assert max(len(line) for line in summary_markdown(report).splitlines()) > 80  # what it replaces
