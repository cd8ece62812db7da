"""The score stage on an executed run: ``scores.parquet``, ``judge.json`` and ``summary.json``.

``evalkit.pipeline`` calls it between the run's calls (``evalkit.run``) and the run's completion
(results table, manifest, sealed journal); ``summarize`` alone re-aggregates a table (shard merges).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evalkit.run import CallRecord


@dataclass(frozen=True, kw_only=True)
class Scored:
    scores: Any
    """The tidy scores table (pandas), as written to scores.parquet."""
    aggregates: Any
    """Per config x segment rates with intervals (``aggregate``), behind ``summary``."""
    summary: dict[str, Any]


def summarize(run_dir: Path, scores: Any, *, errors: Sequence[Mapping[str, Any]] = (),
              truncated: Mapping[str, int] | None = None) -> tuple[Any, dict[str, Any]]:
    """Aggregate ``scores`` and write summary.json (with the run's failed-call groups and its answers cut
    at max_tokens per configuration); (aggregates, summary)."""
    from evalkit.runs import RunFolder, Summary, write_file
    from evalkit.score._aggregate import aggregate, summary_dict

    aggregates = aggregate(scores)
    folder = RunFolder.with_scores(run_dir, scores)
    summary = summary_dict(aggregates, simulated=folder.simulated_configs())
    summary["errors"] = [dict(e) for e in errors]
    summary["truncated"] = dict(truncated or {})
    write_file(run_dir, summary, Summary)
    return aggregates, summary


def write_judge(run_dir: Path, scores: Any, agreement: Mapping[str, Any], *, judge_simulated: bool,
                configs: Sequence[str] | None = None) -> None:
    """Write judge.json: the agreement report (``apply_verdicts``, or ``pooled_judge_report`` for a shard
    merge) and what in it is simulated: the judge, or a configuration it graded in ``scores``, in the
    order of ``configs`` (default: the run's; a merge names them before its manifest is written)."""
    from evalkit.runs import Judge, RunFolder, write_file

    judged = RunFolder.with_scores(run_dir, scores).simulated_configs(configs)  # the judge grades every configuration
    write_file(run_dir, {**agreement, "judge_simulated": bool(judge_simulated), "simulated_configs": judged,
                         "simulated": bool(judge_simulated or judged)}, Judge)


def score_run(run_dir: Path, *, run_id: str, task: Any, cases: Sequence[Any], records: Sequence[CallRecord],
              prompts: Mapping[str, Mapping[str, Any]], confidence_source: Mapping[str, str],
              simulated: Mapping[str, bool], judge_records: Sequence[CallRecord] = (), judge_decides: bool = True,
              judge_simulated: bool = False, errors: Sequence[Mapping[str, Any]] = ()) -> Scored:
    """Score every case x configuration of a run (and apply the LLM judge's verdicts) into ``run_dir``.
    ``judge_simulated``: the judge's provider is simulated (judge.json says so)."""
    from evalkit.score._table import scores_table, write_scores

    case_map = {c.case_id: c for c in cases}
    scores = scores_table(run_id=run_id, task=task, cases=case_map, records=records, prompts=prompts,
                          confidence_source=confidence_source, simulated=simulated)
    if judge_records:
        from evalkit.score._judging import apply_verdicts

        scores, agreement = apply_verdicts(scores, judge_records, case_map, task=task, decides=judge_decides)
        write_judge(run_dir, scores, agreement, judge_simulated=judge_simulated)
    write_scores(run_dir, task=task, scores=scores)
    from evalkit.run import truncated_counts

    aggregates, summary = summarize(run_dir, scores, errors=errors, truncated=truncated_counts(records))
    return Scored(scores=scores, aggregates=aggregates, summary=summary)
