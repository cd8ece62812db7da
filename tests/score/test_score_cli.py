from __future__ import annotations

import json

import typer
from score_fixtures import paired_scores, write_run
from typer.testing import CliRunner

from evalkit.cli import _compare

SEGMENTS = {"routine": 500, "legacy_pricing": 300}


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def _root() -> None:  # keep "compare" as a sub-command
        pass

    _compare.register(app)
    return app


def test_compare_two_runs_prints_and_writes_json(reports_root, tmp_path):
    df = paired_scores(3, SEGMENTS, drop_segment="legacy_pricing")
    write_run(reports_root, "runA", df[df.config == "base"])
    write_run(reports_root, "runB", df[df.config == "cand"])
    out = tmp_path / "cmp.json"
    res = CliRunner().invoke(_app(), ["compare", "runA", "runB", "--json-out", str(out)],
                             env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert "flipped cases" in res.output
    legacy = [line for line in res.output.splitlines() if line.split()[:1] == ["legacy_pricing"]]
    assert legacy and all("▼ sig" in line for line in legacy)  # flagged on its own row, for good and correct
    data = json.loads(out.read_text())
    assert data["outcomes"]["good"]["significant_regressions"] == ["legacy_pricing"]
    assert data["base"]["run"] == "runA" and data["cand"]["run"] == "runB"


def test_compare_within_one_run_and_errors(reports_root):
    df = paired_scores(3, SEGMENTS, drop_segment="legacy_pricing")
    write_run(reports_root, "runAB", df)
    res = CliRunner().invoke(_app(), ["compare", "runAB", "--config-a", "base", "--config-b", "cand",
                                      "--outcome", "correct"], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert "correct rate" in res.output
    write_run(reports_root, "runV2", df[df.config == "cand"], dataset_version="v2")
    res = CliRunner().invoke(_app(), ["compare", "runAB", "runV2", "--config-a", "base"])
    assert res.exit_code == 2 and "different datasets" in res.output
    res = CliRunner().invoke(_app(), ["compare", "runAB", "runV2", "--config-a", "base",
                                      "--allow-dataset-mismatch"], env={"COLUMNS": "200"})
    assert res.exit_code == 0 and "dataset mismatch allowed" in res.output
    res = CliRunner().invoke(_app(), ["compare", "missing-run"])
    assert res.exit_code == 2 and "not found" in res.output
