"""Finishing a run: build and write the scored tables, the summary and the judge agreement,
seal the journal, and only then mark the manifest complete with every artifact's checksum
(a kill before that last write leaves a resumable run, never a "complete" one missing files)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evalkit._checksums import artifact_checksums
from evalkit.run._failures import failure_groups
from evalkit.run._ledger import spend_counts
from evalkit.run._request import RunOutcome
from evalkit.run._store import utc_now, write_manifest


def _known_sum(series: Any) -> float | None:
    return None if series.isna().any() else float(series.sum())


def _counts(records: list[Any], results: Any, cases: list[Any], prices: Any) -> dict[str, Any]:
    return {
        "calls": len(records), "failed_calls": int((results["status"] != "ok").sum()),
        "cache_hits": int(results["cache_hit"].sum()), "cases": len(cases),
        "spent_usd": _known_sum(results["cost_usd"]), "nominal_usd": _known_sum(results["nominal_cost_usd"]),
        **spend_counts(records, prices),
    }


def finish_run(run_dir: Path, manifest: dict[str, Any], task: Any, cases: list[Any], records: list[Any],
               prompts: dict[str, Any], configs: list[Any], providers: dict[str, Any],
               judge_records: Any = (), prices: Any = None) -> RunOutcome:
    from evalkit.run._tables import results_table, scores_table, write_tables
    from evalkit.runs import Judge, Summary, write_file
    from evalkit.score import aggregate, summary_dict

    run_id = manifest["run_id"]
    case_map = {c.case_id: c for c in cases}
    results = results_table(run_id, records)
    scores = scores_table(run_id=run_id, task=task, cases=case_map, records=records, prompts=prompts,
                          confidence_source={c.name: c.confidence for c in configs},
                          simulated={c.name: bool(getattr(providers[c.name], "simulated", False)) for c in configs})
    if judge_records:
        from evalkit.run._judging import apply_verdicts

        decides = manifest["suite"]["spec"].get("scoring", {}).get("judge_decides", True)
        scores, agreement = apply_verdicts(scores, judge_records, case_map, task=task, decides=decides)
        write_file(run_dir, agreement, Judge)
    write_tables(run_dir, task=task, results=results, scores=scores)
    aggregates = aggregate(scores)
    summary = summary_dict(aggregates)
    errors = [g.as_json() for g in failure_groups(records)]
    summary["errors"] = errors
    write_file(run_dir, summary, Summary)
    for c in manifest["configs"]:  # what answered: failed calls have no model version (never a NaN)
        c["model_versions"] = sorted({r.response.model_version for r in records
                                      if r.config == c["name"] and r.response is not None and r.response.model_version})
    from evalkit.run._journal import JOURNAL_NAME, seal_journal

    seal_journal(run_dir / JOURNAL_NAME)  # the journal is a record now, compressed (raw outputs: results)
    manifest.update(status="complete", finished=utc_now(), errors=errors,
                    counts=_counts(records, results, cases, prices), checksums=artifact_checksums(run_dir))
    write_manifest(run_dir, manifest)  # last: "complete" means every artifact above is written (and checksummed)
    return RunOutcome(run_id=run_id, run_dir=run_dir, manifest=manifest, scores=scores, summary=summary,
                      aggregates=aggregates)
