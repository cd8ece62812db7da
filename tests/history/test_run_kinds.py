"""`evalkit runs history` on real run folders made by the CLI: shards of a sharded run and a baseline
blessed into the reports folder are left out of the trend (the merged run stands for its shards, the
copy repeats its run), saying so; an early-stopped sequential run is a point, marked as such."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from histhelpers import REPO

CI = ["run", "suites/upgrades-ci.yaml", "--replay", "--limit", "300", "-q"]


def _evalkit(reports: Path, home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "EVALKIT_HOME": str(home), "EVALKIT_REPORTS": str(reports), "NO_COLOR": "1",
           "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "evalkit.cli.main", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=600, check=False)


def _new_run(reports: Path, before: set[str]) -> str:
    (new,) = {p.name for p in reports.iterdir() if (p / "manifest.json").is_file()} - before
    return new


@pytest.fixture(scope="module")
def kinds_of_runs(tmp_path_factory) -> tuple[Path, Path, dict[str, str]]:
    base = tmp_path_factory.mktemp("run-kinds")
    reports, home = base / "reports", base / "home"
    reports.mkdir()
    made: dict[str, str] = {}
    steps = [("plain", [*CI, "--baseline", "suites/baselines/upgrades-ci"], 0),
             ("sequential", [*CI, "--sequential", "--baseline", "suites/baselines/upgrades-ci",
                             "--set", "configs.candidate.prompt=prompts/upgrade-v1-no-legacy.j2"], 1),
             ("shard1", [*CI, "--shard", "1/2", "--no-gates"], 0), ("shard2", [*CI, "--shard", "2/2", "--no-gates"], 0)]
    for name, args, code in steps:
        before = {p.name for p in reports.iterdir()}
        res = _evalkit(reports, home, *args)
        assert res.returncode == code, res.stdout + res.stderr
        made[name] = _new_run(reports, before)
    before = {p.name for p in reports.iterdir()}
    res = _evalkit(reports, home, "merge", made["shard1"], made["shard2"], "-q")
    assert res.returncode == 0, res.stdout + res.stderr
    made["merged"] = _new_run(reports, before)
    res = _evalkit(reports, home, "runs", "bless", made["plain"], str(reports / "blessed"))
    assert res.returncode == 0, res.stdout + res.stderr
    made["blessed"] = "blessed"
    return reports, home, made


def test_shards_and_blessed_copies_are_left_out_and_an_early_stop_is_marked(kinds_of_runs):
    reports, home, made = kinds_of_runs
    res = _evalkit(reports, home, "runs", "history", "-c", "candidate", "--json")
    assert res.returncode == 0, res.stdout + res.stderr
    data = json.loads(res.stdout)
    assert data["runs"] == [made["plain"], made["sequential"], made["merged"]]  # oldest first
    details = {d["folder"]: d for d in data["run_details"]}
    assert details[made["plain"]]["kind"] == details[made["merged"]]["kind"] == "run"
    assert details[made["plain"]]["note"] is None and details[made["merged"]]["note"] is None
    seq = json.loads((reports / made["sequential"] / "manifest.json").read_text())["sequential"]
    assert seq["cases_done"] < seq["cases_total"]  # the gate failure stopped it early
    assert details[made["sequential"]]["kind"] == "sequential (stopped early)"
    assert f"stopped early at {seq['cases_done']} of {seq['cases_total']} cases" in details[made["sequential"]]["note"]
    excluded = {d["folder"]: d for d in data["excluded"]}
    assert set(excluded) == {made["shard1"], made["shard2"], "blessed"}
    assert excluded["blessed"]["kind"] == "copy" and made["plain"] in excluded["blessed"]["why"]
    assert excluded[made["shard1"]]["kind"] == "shard" and f"merged into {made['merged']}" in excluded[made["shard1"]]["why"]
    seq_all = next(p for p in data["points"] if p["folder"] == made["sequential"] and p["segment"] == "ALL")
    assert seq_all["run_kind"] == "sequential (stopped early)" and seq_all["good"]["n"] == seq["cases_done"]
    page = Path(data["page"]).read_text()
    assert "stopped early" in page and "left out: blessed" in page

    table = _evalkit(reports, home, "runs", "history", "-c", "candidate")
    assert table.returncode == 0, table.stderr
    assert "#2*" in table.stdout and "stopped early" in table.stdout
    assert f"left out: {made['shard2']}: shard 2/2" in table.stdout


def test_all_runs_plots_shards_and_copies_marked(kinds_of_runs):
    reports, home, made = kinds_of_runs
    res = _evalkit(reports, home, "runs", "history", "-c", "candidate", "--json", "--all-runs")
    assert res.returncode == 0, res.stdout + res.stderr
    data = json.loads(res.stdout)
    folders = [d["folder"] for d in data["run_details"]]
    assert sorted(folders) == sorted(made.values()) and data["excluded"] == []
    # the copy repeats its run's id, and still has its own points
    overall = [p for p in data["points"] if p["segment"] == "ALL"]
    assert sorted(p["folder"] for p in overall) == sorted(folders)
    kinds = {d["folder"]: d["kind"] for d in data["run_details"]}
    assert kinds["blessed"] == "copy" and kinds[made["shard1"]] == kinds[made["shard2"]] == "shard"
    shard_n = next(p["good"]["n"] for p in overall if p["folder"] == made["shard1"])
    assert shard_n < 600


def test_sql_views_name_each_runs_kind_and_count_a_blessed_run_once(kinds_of_runs):
    reports, home, made = kinds_of_runs
    res = _evalkit(reports, home, "runs", "query", "SELECT run_id, folder, kind, merged_into FROM runs", "--json")
    assert res.returncode == 0, res.stdout + res.stderr
    rows = {r["run_id"]: r for r in json.loads(res.stdout)}
    assert rows[made["shard1"]]["kind"] == "shard" and rows[made["shard1"]]["merged_into"] == made["merged"]
    assert rows[made["merged"]]["kind"] == "run" and rows[made["merged"]]["merged_into"] is None
    assert rows[made["plain"]]["folder"] == made["plain"]  # the run itself, not its blessed copy
    sql = (f"SELECT (SELECT count(*) FROM runs WHERE run_id = '{made['plain']}') AS runs, "
           f"(SELECT count(*) FROM scores WHERE run_id = '{made['plain']}') AS scores, "
           f"(SELECT count(*) FROM results WHERE run_id = '{made['plain']}') AS results")
    res = _evalkit(reports, home, "runs", "query", sql, "--json")
    (counts,) = json.loads(res.stdout)
    plain = reports / made["plain"]
    import pyarrow.parquet as pq

    assert counts == {"runs": 1, "scores": pq.read_metadata(plain / "scores.parquet").num_rows,
                      "results": pq.read_metadata(plain / "results.parquet").num_rows}
    res = _evalkit(reports, home, "runs", "query", "SELECT folder, kind FROM runs WHERE kind = 'copy'", "--json")
    assert json.loads(res.stdout) == []  # the blessed copy is left out while its run is there
