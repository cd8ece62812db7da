"""`evalkit gate` on a sequential run that stopped early re-ran the gates as fixed-sample tests on the
cases it stopped at (invalid after optional stopping) and, writing by default, replaced gates.json,
summary.md and junit.xml, dropping the `sequential` block. A sequential verdict is never replaced: the
stored one is printed (exit code from it), nothing is rewritten; other gates or another baseline are
refused (exit 2), saying why."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

from typer.testing import CliRunner

from evalkit.cli.main import app
from evalkit.gate import evaluate_gates, parse_gates, write_gate_outputs

SEQ = {"method": "betting e-processes", "seed": 7, "batch": 75, "looks": 2, "cases_done": 150, "cases_total": 1800,
       "stop_reason": "a gate failed", "pass_margin": None, "calls_made": 150, "calls_full": 1800,
       "calls_saved": 1650, "share_of_full": 0.083, "spent_usd": 0.0, "full_usd_estimated": 0.0, "saved_usd": 0.0}


def _sequential_run(runs: dict[str, Path], tmp_path: Path) -> Path:
    run = Path(shutil.copytree(runs["noise"], tmp_path / "seq"))
    report = evaluate_gates(run, parse_gates([{"kind": "min_good_rate", "min": 0.1}]), baseline_dir=runs["base"])
    stored = replace(report, results=tuple(replace(r, status="fail", message="sequential: planted failure")
                                           for r in report.results), sequential=SEQ)
    write_gate_outputs(stored, run)
    manifest = json.loads((run / "manifest.json").read_text())
    manifest["sequential"] = SEQ
    (run / "manifest.json").write_text(json.dumps(manifest))
    return run


def test_regating_a_sequential_run_prints_its_stored_verdict_and_rewrites_nothing(runs, tmp_path, monkeypatch):
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    monkeypatch.delenv("GITHUB_OUTPUT", raising=False)
    run = _sequential_run(runs, tmp_path)
    before = {n: (run / n).read_bytes() for n in ("gates.json", "junit.xml", "summary.md")}
    res = CliRunner().invoke(app, ["gate", str(run)])
    assert res.exit_code == 1, res.output  # the stored (failed) verdict, not fixed-sample tests (they pass)
    assert "planted failure" in res.output and "not re-evaluated" in res.output
    assert "optional stopping" in res.output
    assert {n: (run / n).read_bytes() for n in before} == before
    assert json.loads((run / "gates.json").read_text())["sequential"] == SEQ


def test_other_gates_or_another_baseline_are_refused_for_a_sequential_run(runs, tmp_path, monkeypatch):
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    run = _sequential_run(runs, tmp_path)
    suite = tmp_path / "g.yaml"
    suite.write_text("name: ci\ngates:\n  - kind: min_good_rate\n    min: 0.1\n")
    for extra in (["--suite", str(suite)], ["--baseline", str(runs["drop"])]):
        res = CliRunner().invoke(app, ["gate", str(run), *extra])
        assert res.exit_code == 2, res.output
        assert "sequential run" in res.output and "not re-evaluated" in res.output
    same = CliRunner().invoke(app, ["gate", str(run), "--baseline", str(runs["base"])])  # the one it ran against
    assert same.exit_code == 1, same.output
