"""`evalkit runs query`: values print literally, exactly one read-only statement, strict JSON, and one
run's damaged parquet file does not make every query fail."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from evalkit.cli.main import app


def cli(*args: str):
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "200", "NO_COLOR": "1"})


def test_values_print_literally_not_as_markup_or_emoji(tmp_path):
    out = cli("runs", "query", "--reports", str(tmp_path),
              "SELECT '[/bold]' AS b, '1:x:2' AS e, '[red]hi[/red]' AS \"[bold]h\"")
    assert out.exit_code == 0, out.output
    assert "[/bold]" in out.stdout and "1:x:2" in out.stdout and "❌" not in out.stdout
    assert "[red]hi[/red]" in out.stdout and "[bold]h" in out.stdout


@pytest.mark.parametrize("sql", [
    "SELECT 1; SELECT 2",
    "COPY (SELECT 1 AS x) TO '{target}' (FORMAT csv)",
    "CREATE TABLE t AS SELECT 1",
    "ATTACH '{target}' AS other",
    "EXPLAIN ANALYZE COPY (SELECT 1 AS x) TO '{target}' (FORMAT csv)",
    "SET threads = 1",
])
def test_only_one_read_only_statement_runs(tmp_path, sql):
    reports = tmp_path / "reports"
    run = reports / "r1"
    run.mkdir(parents=True)
    (run / "manifest.json").write_text(json.dumps({"run_id": "r1", "status": "complete"}))
    target = run / "summary.json"
    target.write_text('{"kept": true}')
    out = cli("runs", "query", "--reports", str(reports), sql.format(target=target))
    assert out.exit_code == 2, out.output
    assert "exactly one statement" in out.output or "only reads" in out.output
    assert "Traceback" not in out.output
    assert target.read_text() == '{"kept": true}'  # a run's file is never overwritten by a query
    assert sorted(p.name for p in run.iterdir()) == ["manifest.json", "summary.json"]


def test_json_has_null_for_nan_and_infinity(tmp_path):
    out = cli("runs", "query", "--json", "--reports", str(tmp_path),
              "SELECT 'nan'::DOUBLE AS a, 'inf'::DOUBLE AS b, '-inf'::FLOAT AS c, [1.5, 'nan'::DOUBLE] AS l, "
              "{'k': 'inf'::DOUBLE} AS s, 2.5::DOUBLE AS f")
    assert out.exit_code == 0, out.output

    def strict(token: str):
        raise AssertionError(f"non-standard JSON constant {token}")

    rows = json.loads(out.stdout, parse_constant=strict)
    assert rows == [{"a": None, "b": None, "c": None, "l": [1.5, None], "s": {"k": None}, "f": 2.5}]


def _run_with_scores(reports: Path, run_id: str, rows: int) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    run = reports / run_id
    run.mkdir(parents=True)
    (run / "manifest.json").write_text(json.dumps({"run_id": run_id, "status": "complete"}))
    pq.write_table(pa.table({"run_id": [run_id] * rows, "case_id": [f"c{i}" for i in range(rows)]}),
                   run / "scores.parquet")
    return run / "scores.parquet"


def test_a_truncated_parquet_file_is_skipped_with_a_warning(tmp_path):
    reports = tmp_path / "reports"
    _run_with_scores(reports, "good", 3)
    bad = _run_with_scores(reports, "torn", 5)
    bad.write_bytes(bad.read_bytes()[: bad.stat().st_size // 2])
    out = cli("runs", "query", "--json", "--reports", str(reports), "SELECT run_id, count(*) AS n FROM scores GROUP BY ALL")
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout) == [{"run_id": "good", "n": 3}]
    assert "warning: skipped" in out.stderr and str(bad) in out.stderr
