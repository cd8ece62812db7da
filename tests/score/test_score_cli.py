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


def test_compare_prints_each_rate_with_its_interval_within_80_columns(reports_root, tmp_path):
    """Every rate the table shows carries its own 95% Wilson interval (the paired diff has its own),
    and the table still fits a CI log's 80 columns."""
    from statsmodels.stats.proportion import proportion_confint  # an independent reference

    def pct(x: float) -> str:
        return f"{float(x) * 100:.1f}"

    df = paired_scores(3, SEGMENTS, drop_segment="legacy_pricing")
    write_run(reports_root, "runA", df[df.config == "base"])
    write_run(reports_root, "runB", df[df.config == "cand"])
    out = tmp_path / "cmp.json"
    res = CliRunner().invoke(_app(), ["compare", "runA", "runB", "--json-out", str(out)], env={"COLUMNS": "80"})
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    tables = [x for x in lines if not x.startswith("wrote ")]  # the file path is the test's temp folder
    assert max(len(line.rstrip()) for line in tables) <= 80, [x for x in tables if len(x.rstrip()) > 80]
    good = json.loads(out.read_text())["outcomes"]["good"]
    checked = 0
    for segment, row in [("ALL", good["overall"]), *good["segments"].items()]:
        at = next(i for i, line in enumerate(lines) if line.split()[:1] == [segment])  # good: the first table
        rates, intervals = lines[at].split(), lines[at + 1].split()
        for side in ("base", "cand"):
            lo, hi = proportion_confint(row[f"{side}_k"], row["n"], alpha=0.05, method="wilson")
            assert pct(row[f"{side}_rate"]) in rates
            assert f"{pct(lo)}–{pct(hi)}" in intervals
            checked += 1
    assert checked == 2 * (1 + len(good["segments"])) >= 6
    assert "…" not in res.output  # nothing was cut to fit
