"""From call records to the results table (one row per call). Its schema is fixed per format
version in ``_table_schemas`` (docs/tables.md); ``write_results`` writes exactly that. The
scores table is the score stage's (``evalkit.score``)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from evalkit.run._records import CallRecord
from evalkit.run._table_schemas import results_schema, to_arrow

USAGE_FIELDS = ("input_tokens", "output_tokens", "cached_tokens", "reasoning_tokens")
"""Token counts a response reports (results and scores columns)."""


def results_table(run_id: str, records: Sequence[CallRecord]) -> pd.DataFrame:
    rows = []
    for r in records:
        usage = r.response.usage if r.response is not None else None
        rows.append({
            "run_id": run_id, "config": r.config, "case_id": r.case_id, "sample_index": r.sample_index,
            "status": r.status, "raw_output": r.response.text if r.response is not None else None,
            "model_version": r.response.model_version if r.response is not None else None,
            "finish_reason": r.response.finish_reason if r.response is not None else None,
            "truncated": r.truncated,
            "error_class": r.error_class, "error_message": r.error_message, "attempts": r.attempts,
            **{k: (getattr(usage, k) if usage is not None else None) for k in USAGE_FIELDS},
            "cost_usd": r.cost_usd, "nominal_cost_usd": getattr(r, "nominal_cost_usd", r.cost_usd),
            "cache_hit": r.cache_hit, "latency_s": r.latency_s, "cache_key": r.cache_key,
            "execution": getattr(r, "execution", None) or "direct",
        })
    df = pd.DataFrame(rows, columns=results_schema().names)
    for k in USAGE_FIELDS:
        df[k] = df[k].astype("Int64")
    return df


def write_results(run_dir: Path, results: pd.DataFrame) -> Path:
    """Write results.parquet with its declared schema (atomic)."""
    from evalkit import _io

    path = Path(run_dir) / "results.parquet"
    if "truncated" not in results.columns:  # shards written before format 3 (a merge): not reported
        results = results.assign(finish_reason=None, truncated=False)
    return _io.write_parquet(path, to_arrow(results, results_schema(), where=str(path)))
