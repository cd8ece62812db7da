"""SQL over every run under a reports folder, with embedded DuckDB.

Views:

- ``runs``: one row per run (from manifest.json): run_id, status, created, finished, suite,
  suite_sha256, dataset, dataset_version, cases, calls, failed_calls, spent_usd, nominal_usd,
  execution, simulated, evalkit_version, path, folder, kind ('run', 'shard', 'copy', 'partial merge',
  'sequential (stopped early)'), merged_into (a shard's merged run), problem (why an 'unreadable' manifest
  cannot be read), and the whole manifest as JSON text (``manifest``). A shard's rows are repeated by the
  run it was merged into: filter ``kind = 'run'`` (or ``merged_into IS NULL``) to count each call once.
  Calls and spend come from the manifest's counts, or, for a run that did not finish (stopped,
  interrupted), from what its journal recorded. A folder whose manifest cannot be read has NULL for every
  fact the manifest would give (simulated, execution, kind ...), never a default.
- ``run_configs``: one row per run x configuration: provider, model, prompt, prompt_version,
  confidence, samples, simulated, price_input/price_output (USD per token), price_source.
- ``scores`` and ``results``: the union of every run's scores.parquet / results.parquet
  (fixed schemas, docs/tables.md), by column name so older formats still combine.

A copy of a run inside the reports folder (a baseline blessed there: same run id, another folder)
is left out of every view while the run itself is there, so a run's rows are never counted twice.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from evalkit.errors import ConfigError, DataError
from evalkit.history._catalog import RunEntry, list_run_entries, merged_into

VIEWS = ("runs", "run_configs", "scores", "results")


def _queried(entries: list[RunEntry]) -> list[RunEntry]:
    """The runs the views hold: a copy (same run id, another folder) only when its run is not there."""
    originals = {e.run_id for e in entries if e.copy_of is None}
    return [e for e in entries if e.copy_of is None or e.copy_of not in originals]


_NO_COUNTS: dict[str, Any] = {"calls": None, "failed_calls": None, "spent_usd": None, "nominal_usd": None}



def _known_sum(values: list[float | None]) -> float | None:
    return None if any(v is None for v in values) else float(sum(values))  # type: ignore[arg-type]




def _recorded_counts(entry: RunEntry) -> dict[str, Any]:
    """calls, failed_calls, spent_usd, nominal_usd of a run whose manifest has no counts (stopped, interrupted,
    failed, still running): what its journal recorded, counted as a complete run counts them (spent_usd:
    every recorded call's cost, the LLM judge's included; calls, failed_calls, nominal_usd: the configurations'
    calls). spent_usd is None when a recorded cost is unknown (no price), when batches the run sent are still
    out at the provider (billed, at a cost the folder does not know until the run is resumed and collects
    them), or when the journal cannot be read; all four are None when the folder holds no journal."""
    from evalkit.errors import EvalkitError
    from evalkit.run import JOURNAL_NAME, JUDGE, pending_batches, read_journal_state

    journal = entry.path / JOURNAL_NAME
    if not journal.is_file() and not journal.with_name(JOURNAL_NAME + ".gz").is_file():
        return dict(_NO_COUNTS)
    try:
        records = list(read_journal_state(journal).records.values())
    except (EvalkitError, OSError, ValueError):
        return dict(_NO_COUNTS)
    calls = [r for r in records if r.config != JUDGE]
    spent = _known_sum([r.cost_usd for r in records])
    if pending_batches(entry.path) != 0:
        spent = None
    return {"calls": len(calls), "failed_calls": sum(r.status != "ok" for r in calls), "spent_usd": spent,
            "nominal_usd": _known_sum([r.nominal_cost_usd if r.nominal_cost_usd is not None else r.cost_usd
                                       for r in calls])}


def _counts(entry: RunEntry) -> dict[str, Any]:
    """The run's calls and spend: the manifest's counts (a run that finished), else its journal's record."""
    m = entry.manifest
    if m is None:  # unreadable: whose calls, at which prices, simulated or not - unknown
        return dict(_NO_COUNTS)
    if m.counts is not None:
        c = m.counts
        return {"calls": c.calls, "failed_calls": c.failed_calls, "spent_usd": c.spent_usd,
                "nominal_usd": c.nominal_usd}
    return _recorded_counts(entry)


def _runs_rows(entries: list[RunEntry]) -> list[dict[str, Any]]:
    rows = []
    merged = merged_into(entries)
    for e in entries:
        m = e.manifest
        rows.append({
            "run_id": e.run_id, "status": e.status, "created": e.created, "finished": m and m.finished,
            "suite": e.suite, "suite_sha256": m and m.suite.sha256, "dataset": e.dataset,
            "dataset_version": m and m.dataset.version, "cases": e.cases, **_counts(e),
            "execution": e.execution, "simulated": e.simulated,
            "evalkit_version": m and m.evalkit_version, "path": str(e.path), "folder": e.folder,
            "kind": e.kind, "merged_into": merged.get(e.run_id) if e.kind == "shard" else None,
            "problem": e.problem,
            "manifest": json.dumps(m.dump(), sort_keys=True) if m is not None else None,
        })
    return rows


def _config_rows(entries: list[RunEntry]) -> list[dict[str, Any]]:
    rows = []
    for e in entries:
        for c in e.manifest.configs if e.manifest is not None else ():
            price = c.price
            rows.append({
                "run_id": e.run_id, "config": c.name, "provider": c.provider, "model": c.model,
                "prompt": c.prompt, "prompt_version": c.prompt_version, "confidence": c.confidence,
                "samples": c.samples, "simulated": c.simulated, "price_input": price and price.input,
                "price_output": price and price.output, "price_source": price and price.source,
                "execution": c.execution or e.execution,
            })
    return rows


def _arrow(rows: list[dict[str, Any]], types: dict[str, Any]) -> Any:
    import pyarrow as pa

    schema = pa.schema([(name, typ) for name, typ in types.items()])
    return pa.Table.from_pylist(rows, schema=schema)


def _runs_types() -> dict[str, Any]:
    import pyarrow as pa

    s, i, f, b = pa.string(), pa.int64(), pa.float64(), pa.bool_()
    return {"run_id": s, "status": s, "created": s, "finished": s, "suite": s, "suite_sha256": s, "dataset": s,
            "dataset_version": s, "cases": i, "calls": i, "failed_calls": i, "spent_usd": f, "nominal_usd": f,
            "execution": s, "simulated": b, "evalkit_version": s, "path": s, "folder": s, "kind": s, "merged_into": s,
            "problem": s, "manifest": s}


def _config_types() -> dict[str, Any]:
    import pyarrow as pa

    s, i, f, b = pa.string(), pa.int64(), pa.float64(), pa.bool_()
    return {"run_id": s, "config": s, "provider": s, "model": s, "prompt": s, "prompt_version": s, "confidence": s,
            "samples": i, "simulated": b, "price_input": f, "price_output": f, "price_source": s, "execution": s}


def _sql_list(paths: list[Path]) -> str:
    return "[" + ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths) + "]"


def _readable_parquet(path: Path) -> str | None:
    """Why ``path`` cannot be read as parquet (its footer and schema), or None. Cheap: no data pages."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        pq.read_metadata(path)
    except (OSError, ValueError, pa.ArrowException) as exc:
        return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return None


def connect(root: Path, *, warnings: list[str] | None = None) -> Any:
    """An in-memory DuckDB connection with the views above over the runs under ``root``.

    A run's parquet file that cannot be read (truncated, not parquet) is left out of its view, with a
    line naming it appended to ``warnings``: one damaged run does not make every query fail."""
    import duckdb

    from evalkit.run import results_schema, scores_schema

    entries = _queried(list_run_entries(root))
    con = duckdb.connect(":memory:")
    runs_table = _arrow(_runs_rows(entries), _runs_types())  # noqa: F841 - DuckDB reads the local by name
    configs_table = _arrow(_config_rows(entries), _config_types())  # noqa: F841
    con.execute("CREATE TABLE runs AS SELECT * FROM runs_table")
    con.execute("CREATE TABLE run_configs AS SELECT * FROM configs_table")
    for name, schema in (("scores", scores_schema()), ("results", results_schema())):
        files = []
        for e in entries:
            path = e.path / f"{name}.parquet"
            if not path.is_file():
                continue
            why = _readable_parquet(path)
            if why is None:
                files.append(path)
            elif warnings is not None:
                warnings.append(f"skipped {path}: unreadable parquet ({why}); view {name} leaves run {e.run_id} out")
        if files:
            con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet({_sql_list(files)}, union_by_name=true)")
        else:  # no run yet: an empty view with the declared columns, so queries still bind
            empty = schema.empty_table()  # noqa: F841
            con.execute(f"CREATE TABLE {name} AS SELECT * FROM empty")
    return con


READ_ONLY = "SELECT, WITH, FROM, VALUES, DESCRIBE, SHOW, SUMMARIZE"


def _one_read_only_statement(sql: str) -> str:
    """``sql`` when it is exactly one read-only statement (DuckDB's own parser decides), else ConfigError."""
    import duckdb

    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise ConfigError(f"query failed: {str(exc).splitlines()[0]} (views: {', '.join(VIEWS)})") from None
    if not statements:
        raise ConfigError("empty query; e.g. evalkit runs query \"SELECT run_id, status FROM runs\"")
    if len(statements) > 1:
        raise ConfigError(f"runs query takes exactly one statement; got {len(statements)} (drop all but one, "
                          "or combine them with WITH / UNION ALL)")
    kind = statements[0].type
    if kind != duckdb.StatementType.SELECT:
        raise ConfigError(f"runs query only reads: one {READ_ONLY} statement; got {kind.name} "
                          "(nothing was run; to write a file, add --json and redirect it)")
    return sql


def run_query(root: Path, sql: str, *, warnings: list[str] | None = None) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Run one read-only SQL statement over the views; (column names, rows). Bad SQL, several statements
    or one that writes (COPY, CREATE, ATTACH, SET ...) is a usage error and nothing is run. Parquet files
    left out as unreadable are described in ``warnings``."""
    import duckdb

    if not sql.strip():
        raise ConfigError("empty query; e.g. evalkit runs query \"SELECT run_id, status FROM runs\"")
    _one_read_only_statement(sql)
    con = connect(root, warnings=warnings)
    try:
        cur = con.execute(sql)
        if cur.description is None:
            return [], []
        return [d[0] for d in cur.description], cur.fetchall()
    except duckdb.Error as exc:
        raise ConfigError(f"query failed: {str(exc).splitlines()[0]} (views: {', '.join(VIEWS)})") from None
    except (OSError, ValueError) as exc:
        raise DataError(f"query failed reading the runs under {root}: {exc}") from None
    finally:
        con.close()
