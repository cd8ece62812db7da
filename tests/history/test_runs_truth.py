"""What `evalkit runs query/list/history` say about a run is what its folder knows, never a default.
Found by an outside probe:

- a folder whose manifest cannot be read was a direct, real-money run in `runs query` and `runs list --json`
  (execution 'direct', simulated false, kind 'run'), so `WHERE NOT r.simulated` counted a simulated run's
  pretend money among real spend;
- a run stopped by --max-cost (or interrupted) had spent_usd NULL (its manifest has no counts), so
  `SELECT sum(spent_usd) FROM runs` left out money it had spent and recorded in its journal;
- docs/tables.md's pyarrow snippet read the whole reports folder, both tables unioned under one schema
  (8600 rows, no `good` column), silently;
- `runs history` exited 2 on the first unreadable scores.parquet where `runs query` skips that run with a
  warning naming the file.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from histhelpers import REPO
from typer.testing import CliRunner

from evalkit.cli.main import app
from evalkit.testing._synthetic import write_synthetic_run

ENV = {"COLUMNS": "200", "NO_COLOR": "1"}


def _query(reports: Path, sql: str) -> list[dict]:
    out = CliRunner().invoke(app, ["runs", "query", "--reports", str(reports), "--json", sql], env=ENV)
    assert out.exit_code == 0, out.output
    return json.loads(out.stdout)


def _set_manifest(run: Path, **fields) -> dict:
    manifest = json.loads((run / "manifest.json").read_text())
    manifest.update(fields)
    (run / "manifest.json").write_text(json.dumps(manifest))
    return manifest


# -- 1. an unreadable manifest ----------------------------------------------------------------------------

def test_an_unreadable_manifest_gives_null_facts_and_its_rows_never_count_as_real_money(tmp_path):
    reports = tmp_path / "reports"
    real = write_synthetic_run(reports / "r-real", run_id="r-real", n_cases=30, configs={"prod": {}},
                               simulated=False, thresholds=False, projection=False)
    torn = write_synthetic_run(reports / "r-torn", run_id="r-torn", n_cases=40, configs={"prod": {}},
                               simulated=True, thresholds=False, projection=False)
    foreign = write_synthetic_run(reports / "r-foreign", run_id="r-foreign", n_cases=50, configs={"prod": {}},
                                  simulated=True, thresholds=False, projection=False)
    text = json.dumps({**_set_manifest(torn, execution={"mode": "batch"})})
    (torn / "manifest.json").write_text(text[: len(text) // 2])  # torn JSON
    _set_manifest(foreign, execution={"mode": "batch"}, surprise=1)  # a key this version does not know
    _set_manifest(real, counts={"calls": 30, "failed_calls": 0, "cache_hits": 0, "cases": 30, "spent_usd": 1.5})

    facts = ("execution", "simulated", "kind", "suite", "cases", "calls", "spent_usd")
    rows = _query(reports, f"SELECT run_id, {', '.join(facts)} FROM runs WHERE status = 'unreadable' ORDER BY run_id")
    assert [r["run_id"] for r in rows] == ["r-foreign", "r-torn"]
    for r in rows:  # nothing the manifest would say is made up: not 'direct', not 'not simulated', not a 'run'
        assert {k: r[k] for k in facts} == dict.fromkeys(facts), r
    rows = _query(reports, "SELECT problem, manifest FROM runs WHERE status = 'unreadable' ORDER BY run_id")
    assert all("manifest.json" in r["problem"] and r["manifest"] is None for r in rows)
    assert "surprise" in rows[0]["problem"]
    (ok,) = _query(reports, "SELECT execution, simulated, kind, problem FROM runs WHERE run_id = 'r-real'")
    assert ok == {"execution": "direct", "simulated": False, "kind": "run", "problem": None}

    # The unreadable runs' tables stay in the views (their rows carry their own simulated column), but a
    # filter on the run's facts leaves them out: whether they were simulated is unknown.
    (n,) = _query(reports, "SELECT count(*) AS n FROM scores")
    assert n["n"] == 30 + 40 + 50
    (real_money,) = _query(reports, "SELECT count(*) AS n, count(DISTINCT s.run_id) AS runs FROM scores s "
                                    "JOIN runs r USING (run_id) WHERE NOT r.simulated")
    assert real_money == {"n": 30, "runs": 1}
    (sim,) = _query(reports, "SELECT count(*) AS n FROM scores s JOIN runs r USING (run_id) WHERE r.simulated")
    assert sim["n"] == 0
    assert _query(reports, "SELECT run_id FROM run_configs WHERE run_id <> 'r-real'") == []

    listed = CliRunner().invoke(app, ["runs", "list", "--reports", str(reports), "--json"], env=ENV)
    assert listed.exit_code == 0, listed.output
    by_id = {e["run_id"]: e for e in json.loads(listed.stdout)}
    for run_id in ("r-torn", "r-foreign"):
        entry = by_id[run_id]
        assert entry["status"] == "unreadable" and entry["problem"]
        assert entry["simulated"] is None and entry["execution"] is None and entry["kind"] is None
        assert entry["configs"] is None and entry["cases"] is None
    assert by_id["r-real"]["simulated"] is False and by_id["r-real"]["execution"] == "direct"


# -- 2. the spend of a stopped run ------------------------------------------------------------------------

def test_a_run_stopped_at_its_budget_shows_the_spend_its_journal_recorded(tmp_path):
    from evalkit.providers import ModelResponse, Usage
    from evalkit.run import read_journal_state
    from evalkit.testing import LoopbackServer, write_loopback_suite

    def dear(request):  # bills far more input than estimated: the budget stops the run after a few calls
        return ModelResponse(text='{"action": "keep"}', finish_reason="stop", model_version="large",
                             usage=Usage(input_tokens=40_000, output_tokens=12, cached_tokens=0))

    home, reports = tmp_path / "home", tmp_path / "reports"
    with LoopbackServer(responder=dear) as srv:
        suite = write_loopback_suite(tmp_path, prompt=REPO / "suites" / "prompts" / "upgrade-v1.j2",
                                     base_url=srv.openai_base_url, model="large", limit=6)
        suite.write_text(suite.read_text().replace("concurrency: 4", "concurrency: 1"))
        env = {**os.environ, "EVALKIT_HOME": str(home), "EVALKIT_DATASETS": str(REPO / "datasets"),
               "EVALKIT_TEST_KEY": "sk-test-history-spend-0000", "PYTHONPATH": str(REPO / "src"), **ENV}
        stopped = subprocess.run([sys.executable, "-m", "evalkit.cli.main", "run", str(suite), "--max-cost", "0.15",
                                  "--reports", str(reports), "--no-gates"], cwd=tmp_path, env=env,
                                 capture_output=True, text=True, timeout=300, check=False)
    said = " ".join((stopped.stdout + stopped.stderr).split())
    assert stopped.returncode == 3 and "stopped at the budget" in said, said
    printed = float(re.search(r"stopped at the budget: \$(\d+\.\d+) spent", said).group(1))
    (run,) = [p.parent for p in reports.glob("*/manifest.json")]
    assert json.loads((run / "manifest.json").read_text())["counts"] is None  # what the view used to read
    records = read_journal_state(run / "journal.jsonl").records.values()
    assert records

    (row,) = _query(reports, "SELECT status, spent_usd, nominal_usd, calls, failed_calls FROM runs")
    assert row["status"] == "stopped"
    assert row["spent_usd"] == pytest.approx(sum(r.cost_usd for r in records)) and row["spent_usd"] > 0
    assert round(row["spent_usd"], 4) == printed  # the spend the stop message printed
    assert row["calls"] == len(records) and row["failed_calls"] == 0
    assert row["nominal_usd"] == pytest.approx(row["spent_usd"])
    (total,) = _query(reports, "SELECT sum(spent_usd) AS usd FROM runs")
    assert total["usd"] == pytest.approx(row["spent_usd"])

    # A batch it sent and has not collected is billed at a cost the folder does not know: NULL, not a
    # lower bound passed off as the spend; once collected (or never created), the journal's sum again.
    ledger = run / "batches.jsonl"
    events = [{"event": "submitting", "chunk": "c1", "config": "served", "ids": ["x"], "at": 1.0},
              {"event": "submitted", "chunk": "c1", "config": "served", "batch_id": "batch_1", "at": 2.0}]
    ledger.write_text("".join(json.dumps(e) + "\n" for e in events))
    (row,) = _query(reports, "SELECT spent_usd, calls FROM runs")
    assert row["spent_usd"] is None and row["calls"] == len(records)
    ledger.write_text(ledger.read_text() + json.dumps({"event": "collected", "batch_id": "batch_1"}) + "\n")
    (row,) = _query(reports, "SELECT spent_usd FROM runs")
    assert row["spent_usd"] == pytest.approx(sum(r.cost_usd for r in records))
    events = [{"event": "submitting", "chunk": "c2", "config": "served", "ids": ["y"], "at": 3.0}]
    ledger.write_text(ledger.read_text() + "".join(json.dumps(e) + "\n" for e in events))  # maybe created
    assert _query(reports, "SELECT spent_usd FROM runs")[0]["spent_usd"] is None
    ledger.write_text(ledger.read_text() + json.dumps({"event": "submit_failed", "chunk": "c2"}) + "\n")
    assert _query(reports, "SELECT spent_usd FROM runs")[0]["spent_usd"] == pytest.approx(row["spent_usd"])


# -- 3. the documented reader snippets --------------------------------------------------------------------

def _blocks(doc: str, lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", doc, flags=re.DOTALL)


def test_the_documented_snippets_read_the_scores_table_of_every_run(tmp_path, monkeypatch):
    """Each reader in docs/tables.md (DuckDB, pyarrow, pandas), run as written on a reports folder of
    several runs (scores and results tables, a history page beside them), gives the scores table: its
    columns, and every run's rows once."""
    import duckdb
    import pandas as pd
    import pyarrow as pa
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    reports = tmp_path / "reports"
    for i, n in enumerate((30, 45, 60)):
        write_synthetic_run(reports / f"run-{i}", run_id=f"run-{i}", n_cases=n, configs={"a": {}, "b": {}},
                            results=True, thresholds=False, projection=False)
    (reports / "history-x-a.html").write_text("<html></html>")
    files = sorted(reports.glob("*/scores.parquet"))
    columns = pq.read_schema(files[0]).names
    rows = sum(pq.read_metadata(f).num_rows for f in files)
    assert "good" in columns and all((f.parent / "results.parquet").is_file() for f in files)
    monkeypatch.chdir(tmp_path)
    doc = (REPO / "docs" / "tables.md").read_text()

    (code,) = _blocks(doc, "python")
    namespace: dict = {}
    values = []
    for node in ast.parse(code).body:  # bare expressions count too, as a reader would type them
        if isinstance(node, ast.Expr):
            values.append(eval(compile(ast.Expression(node.value), "tables.md", "eval"), namespace))
        else:
            exec(compile(ast.Module([node], type_ignores=[]), "tables.md", "exec"), namespace)  # noqa: S102 - the doc's own code
    values += [v for k, v in namespace.items() if not k.startswith("__")]
    tables = [v.to_table() if isinstance(v, ds.Dataset) else v for v in values
              if isinstance(v, (ds.Dataset, pa.Table, pd.DataFrame))]
    kinds = {type(t) for t in tables}
    assert pa.Table in kinds and pd.DataFrame in kinds, kinds  # the pyarrow reader and the pandas one
    for table in tables:
        names = list(table.column_names if isinstance(table, pa.Table) else table.columns)
        assert names == columns, type(table)
        assert len(table) == rows, type(table)

    (sql,) = _blocks(doc, "sql")
    con = duckdb.connect()
    for statement in duckdb.extract_statements(sql):
        con.execute(statement).fetchall()  # every statement runs as written
    got = con.execute("SELECT * FROM scores")
    assert [d[0] for d in got.description] == columns and len(got.fetchall()) == rows


# -- 4. runs history and an unreadable scores table -------------------------------------------------------

def _history_runs(reports: Path, ids: list[str]) -> list[Path]:
    runs = []
    for i, run_id in enumerate(ids):
        run = write_synthetic_run(reports / run_id, run_id=run_id, n_cases=60, configs={"prod": {}},
                                  thresholds=False, projection=False, results=False)
        _set_manifest(run, created=f"2026-11-21T12:0{i}:00+00:00")
        runs.append(run)
    return runs


def test_history_skips_a_run_whose_scores_table_is_unreadable_as_query_does(tmp_path):
    reports = tmp_path / "reports"
    ids = ["20261121-120000-upgrades-ci-dddd01", "20261121-120100-upgrades-ci-dddd02",
           "20261121-120200-upgrades-ci-dddd03"]
    runs = _history_runs(reports, ids)
    bad = runs[1] / "scores.parquet"
    bad.write_bytes(bad.read_bytes()[:200])  # truncated

    query = CliRunner().invoke(app, ["runs", "query", "--reports", str(reports), "SELECT count(*) FROM scores"],
                               env=ENV)
    assert query.exit_code == 0 and f"warning: skipped {bad}" in query.stderr, query.output

    out = CliRunner().invoke(app, ["runs", "history", "--config", "prod", "--reports", str(reports)], env=ENV)
    assert out.exit_code == 0, out.output
    warned = [line for line in out.stderr.splitlines() if line.startswith("warning: ")]
    assert len(warned) == 1 and warned[0].startswith(f"warning: skipped {bad}: ") and ids[1] in warned[0]
    assert "#2" in out.stdout and "#3" not in out.stdout  # two runs in the trend

    doc = CliRunner().invoke(app, ["runs", "history", "--config", "prod", "--reports", str(reports), "--json"],
                             env=ENV)
    assert doc.exit_code == 0, doc.output
    data = json.loads(doc.stdout)
    assert data["runs"] == [ids[0], ids[2]]
    assert [s["run_id"] for s in data["skipped"]] == [ids[1]] and str(bad) in data["warnings"][0]
    assert {p["run_id"] for p in data["points"]} == {ids[0], ids[2]}
    assert f"skipped {bad}" in Path(data["page"]).read_text()

    for run in (runs[0], runs[2]):  # every run unreadable: nothing to show, exit 2 naming each file
        (run / "scores.parquet").write_bytes(b"not parquet")
    out = CliRunner().invoke(app, ["runs", "history", "--config", "prod", "--reports", str(reports)], env=ENV)
    assert out.exit_code == 2
    assert all(str(run / "scores.parquet") in " ".join(out.output.split()) for run in runs), out.output
