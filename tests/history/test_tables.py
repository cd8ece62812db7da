"""Run tables have one fixed schema per format version, so every run under reports/ reads as
one dataset (DuckDB, pyarrow.dataset, pandas), runs with failed calls included."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from histhelpers import REPO, write_suite

from evalkit.run._table_schemas import (
    arrow_type_for,
    results_schema,
    scores_schema,
    table_format,
    tables_markdown,
)
from evalkit.tasks import get_task
from evalkit.testing import FaultPlan, LoopbackServer

RULES = """  - name: rules
    provider: rules
    model: written-policy
    prompt: prompts/upgrade-v1.j2
"""


def served(base_url: str) -> str:
    return f"""  - name: served
    provider: openai
    model: large
    prompt: prompts/upgrade-v1.j2
    params: {{temperature: 0}}
    price: {{input: 2.5, output: 10.0}}
    options: {{base_url: "{base_url}"}}
"""


def _run(suite: Path, reports: Path, store: Path):
    from evalkit.pipeline import RunRequest, run_suite

    return run_suite(RunRequest(suite_path=suite, reports=reports, datasets=store, progress=False, fresh=True,
                                cache_mode="off"))


@pytest.fixture(scope="module")
def twenty_runs(tmp_path_factory, tiny_store):
    """20 runs: 10 offline rules runs (no errors at all) and 10 against the loopback server with
    injected 400s (some calls fail for good)."""
    base = tmp_path_factory.mktemp("twenty")
    reports = base / "reports"
    outcomes = []
    with LoopbackServer() as server:
        both = write_suite(base, RULES + served(server.openai_base_url), name="mixed",
                           extra="execution: {max_error_share: 1.0, max_attempts: 2, concurrency: 8}\n")
        rules_only = write_suite(base, RULES, name="offline")
        for i in range(20):
            if i % 2:
                server.faults = FaultPlan(rate=0.1, kinds=("400",), seed=i)
                outcomes.append(_run(both, reports, tiny_store))
            else:
                outcomes.append(_run(rules_only, reports, tiny_store))
    return reports, outcomes


def test_twenty_runs_read_as_one_dataset_by_duckdb_pyarrow_and_pandas(twenty_runs):
    import duckdb
    import pandas as pd
    import pyarrow.dataset as ds

    reports, outcomes = twenty_runs
    assert len(outcomes) == 20
    n_scores = sum(len(o.scores) for o in outcomes)
    failed_runs = [o for o in outcomes if (o.scores["status"] == "failed").any()]
    clean_runs = [o for o in outcomes if o.scores["error_class"].isna().all()]
    assert failed_runs and clean_runs  # both kinds present: the case that used to break readers

    con = duckdb.connect()
    for table in ("scores", "results"):
        pattern = str(reports / "*" / f"{table}.parquet")
        rows, errors, runs = con.execute(
            f"SELECT count(*), count(error_class), count(DISTINCT run_id) FROM read_parquet('{pattern}')").fetchone()
        assert runs == 20
        assert errors > 0
        if table == "scores":
            assert rows == n_scores
    failed = con.execute(f"SELECT count(*) FROM read_parquet('{reports}/*/scores.parquet') WHERE status = 'failed'"
                         ).fetchone()[0]
    assert failed == sum(int((o.scores["status"] == "failed").sum()) for o in failed_runs)
    # decision fields are typed columns a query can use directly
    price_type = con.execute(f"SELECT typeof(decision_new_recurring_price), typeof(decision_effective_date) "
                             f"FROM read_parquet('{reports}/*/scores.parquet') LIMIT 1").fetchone()
    assert price_type == ("DECIMAL(12,2)", "DATE")

    paths = sorted(str(p) for p in reports.glob("*/scores.parquet"))
    table = ds.dataset(paths, format="parquet").to_table()
    assert table.num_rows == n_scores
    frame = pd.read_parquet(paths)
    assert len(frame) == n_scores
    assert frame["error_class"].notna().sum() == failed
    results = pd.read_parquet(sorted(str(p) for p in reports.glob("*/results.parquet")))
    assert results["error_message"].notna().sum() > 0


def test_every_written_table_has_the_declared_schema(twenty_runs):
    reports, _ = twenty_runs
    task = get_task("upgrades")
    declared = {"scores": scores_schema(task), "results": results_schema()}
    for path in sorted(reports.glob("*/*.parquet")):
        schema = pq.read_schema(path)
        name, version = table_format(schema)
        assert name == path.stem and version is not None
        expected = declared[path.stem]
        assert schema.names == expected.names, path
        for got, want in zip(schema, expected):
            assert got.type == want.type, f"{path}: {got.name} is {got.type}, declared {want.type}"
            assert not pa.types.is_null(got.type)


def test_decision_columns_come_from_the_task_not_a_fixed_list():
    from datetime import date
    from decimal import Decimal
    from typing import Annotated, Literal

    from pydantic import BaseModel, Field

    class Refund(BaseModel):
        verdict: Literal["refund", "reject"]
        amount: Annotated[Decimal, Field(max_digits=9, decimal_places=3)] | None = None
        when: date | None = None
        tags: list[str] = []
        level: int = 0

    class RefundTask:
        decision_model = Refund

    schema = scores_schema(RefundTask())
    assert schema.field("decision_verdict").type == pa.string()
    assert schema.field("decision_amount").type == pa.decimal128(9, 3)
    assert schema.field("decision_when").type == pa.date32()
    assert schema.field("decision_tags").type == pa.list_(pa.string())
    assert schema.field("decision_level").type == pa.int64()
    assert "decision_action" not in schema.names
    assert arrow_type_for(float | None) == pa.float64()


def test_undeclared_column_is_refused(tmp_path):
    import pandas as pd

    from evalkit.errors import DataError
    from evalkit.run._table_schemas import to_arrow

    frame = pd.DataFrame({name: [] for name in results_schema().names} | {"surprise": []})
    with pytest.raises(DataError, match="surprise"):
        to_arrow(frame, results_schema(), where="results.parquet")


def test_tables_doc_is_generated_from_the_code():
    doc = REPO / "docs" / "tables.md"
    assert doc.read_text() == tables_markdown(), (
        "regenerate: python -c 'from evalkit.run._table_schemas import tables_markdown; "
        "open(\"docs/tables.md\", \"w\").write(tables_markdown())'")
