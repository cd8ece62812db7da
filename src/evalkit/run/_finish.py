"""Completing a run once it is scored (``evalkit.score`` wrote scores, summary and judge files):
write the results table, seal the journal, and only then mark the manifest complete with every
artifact's checksum (a kill before that last write leaves a resumable run, never a "complete" one
missing files)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evalkit._checksums import artifact_checksums
from evalkit.run._ledger import spend_counts
from evalkit.run._store import utc_now, write_manifest


def _known_sum(series: Any) -> float | None:
    return None if series.isna().any() else float(series.sum())


def _counts(records: list[Any], results: Any, cases: int, prices: Any, judge_records: list[Any]) -> dict[str, Any]:
    """The run's counts; its spend includes the LLM judge's calls (``judge_*``: their part), which
    have no rows in the results table."""
    spent = _known_sum(results["cost_usd"])
    judge = [r.cost_usd for r in judge_records]
    judge_usd = None if not judge or any(c is None for c in judge) else float(sum(judge))
    if judge:
        spent = None if spent is None or judge_usd is None else spent + judge_usd
    return {
        "calls": len(records), "failed_calls": int((results["status"] != "ok").sum()),
        "cache_hits": int(results["cache_hit"].sum()), "cases": cases,
        "spent_usd": spent,
        "nominal_usd": _known_sum(results["nominal_cost_usd"]),
        "judge_calls": len(judge_records), "judge_spent_usd": judge_usd,
        **spend_counts([*records, *judge_records], prices),
    }


def complete_run(run_dir: Path, manifest: dict[str, Any], records: list[Any], cases: int, prices: Any, *,
                 errors: list[dict[str, Any]], evaluating: bool = False,
                 judge_records: list[Any] | None = None) -> dict[str, Any]:
    """Write results.parquet, seal the journal, then mark the manifest complete (counts, errors, model
    versions, checksums); the manifest as written. ``evaluating``: later stages still write files
    (evalkit.pipeline), so the status is ``evaluating`` until ``mark_complete``."""
    from evalkit.run._tables import results_table, write_results

    results = results_table(manifest["run_id"], records)
    write_results(run_dir, results)
    for c in manifest["configs"]:  # what answered: failed calls have no model version (never a NaN)
        c["model_versions"] = sorted({r.response.model_version for r in records
                                      if r.config == c["name"] and r.response is not None and r.response.model_version})
    from evalkit.run._journal import JOURNAL_NAME, seal_journal

    seal_journal(run_dir / JOURNAL_NAME)  # the journal is a record now, compressed (raw outputs: results)
    manifest.update(status="evaluating" if evaluating else "complete", finished=utc_now(), errors=errors,
                    counts=_counts(records, results, cases, prices, judge_records or []), checksums=artifact_checksums(run_dir))
    write_manifest(run_dir, manifest)  # last: "complete" means every artifact above is written (and checksummed)
    return manifest


def mark_complete(run_dir: Path) -> dict[str, Any]:
    """An ``evaluating`` run whose later stages have all written their files becomes ``complete``;
    other runs are left as they are. The manifest as it now stands."""
    from evalkit.run._store import read_manifest

    manifest = read_manifest(run_dir)
    if manifest.get("status") == "evaluating":
        manifest.update(status="complete", evaluated=utc_now())
        write_manifest(run_dir, manifest)
    return manifest
