"""The tidy scores table: one row per case x configuration, from the run's call records.

Every answered sample is parsed and the main answer scored against its case (``_grade``);
confidence signals, usage and the prompt's context facts join it. Its schema is fixed per
format version by the run (``evalkit.run.scores_schema``, docs/tables.md).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from evalkit.run import USAGE_FIELDS as _USAGE
from evalkit.run import CallRecord, decision_fields, decision_row, scores_schema, to_arrow


def _sum_or_none(values: list[Any]) -> Any:
    return None if any(v is None for v in values) or not values else sum(values)


def _case_usage(records: list[CallRecord]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in _USAGE:
        vals = []
        for r in records:
            usages = [r.response.usage] if r.response is not None else r.billed_usage
            vals.extend(getattr(u, key) if u is not None else None for u in usages)
        out[key] = _sum_or_none(vals)
    costs = [getattr(r, "nominal_cost_usd", r.cost_usd) for r in records]
    out["cost_usd"] = _sum_or_none(costs)
    out["total_tokens"] = (None if out["input_tokens"] is None or out["output_tokens"] is None
                           else out["input_tokens"] + out["output_tokens"])
    return out


def _human_label(task: Any, case: Any) -> bool | None:
    """A reviewer's good/not-good label of the historical reply, from tasks that offer judge support."""
    review = task.human_review(case) if hasattr(task, "human_review") else None
    return None if review is None else review[1]


def scores_table(*, run_id: str, task: Any, cases: Mapping[str, Any], records: Sequence[CallRecord],
                 prompts: Mapping[str, Mapping[str, Any]], confidence_source: Mapping[str, str],
                 simulated: Mapping[str, bool]) -> pd.DataFrame:
    from evalkit.score._confidence import action_logprob_confidence, consistency_confidence
    from evalkit.score._grade import judge_outputs

    grouped: dict[tuple[str, str], list[CallRecord]] = defaultdict(list)
    for r in records:
        grouped[(r.config, r.case_id)].append(r)
    # Parse every answered sample and score every main answer in one (possibly parallel) pass.
    items, where = [], {}
    for key, recs in grouped.items():
        recs.sort(key=lambda r: r.sample_index)
        for r in recs:
            if r.status == "ok" and r.response is not None:
                where[(key, r.sample_index)] = len(items)
                items.append((r.case_id, r.response.text, r.sample_index == recs[0].sample_index))
    judged = judge_outputs(task, cases, items)
    rows = []
    fields = decision_fields(task)
    for (config, case_id), recs in grouped.items():
        case, main = cases[case_id], recs[0]
        j = judged[where[((config, case_id), main.sample_index)]] if ((config, case_id), main.sample_index) in where \
            else None
        if j is None:
            status, invalid_reason = "failed", f"{main.error_class}: {main.error_message}"
            verdict = task.score(case, None)
            j_correct, j_good, j_deferred, j_wrong, j_reasons = (verdict.correct, verdict.good, verdict.deferred,
                                                                 verdict.wrong_fields, verdict.reasons)
        else:
            status, invalid_reason = j.status, j.error if j.status != "ok" else None
            j_correct, j_good, j_deferred, j_wrong, j_reasons = j.correct, j.good, j.deferred, j.wrong_fields, j.reasons
        action = j.action if j is not None else None
        stated = j.confidence if j is not None else None
        logprob = (action_logprob_confidence(main.response.token_logprobs, action, key=task.label_field)
                   if action is not None and main.response is not None and main.response.token_logprobs else None)
        consistency = None
        if len(recs) > 1:
            actions = [judged[where[((config, case_id), r.sample_index)]].action
                       if ((config, case_id), r.sample_index) in where else None for r in recs]
            consistency = consistency_confidence(actions, action)
        chosen = {"stated": stated, "logprob": logprob, "consistency": consistency}[confidence_source[config]]
        p = prompts[config][case_id]
        rows.append({
            "run_id": run_id, "config": config, "case_id": case_id, "segment": case.segment, "variant": case.variant,
            "status": status, "invalid_reason": invalid_reason, "action": action,
            "expected_action": task.expectations(case).label, "deferred": bool(j_deferred),
            "correct": bool(j_correct), "good": bool(j_good),
            "wrong_fields": list(j_wrong), "reasons": list(j_reasons),
            "confidence": chosen if action is not None else None, "confidence_stated": stated,
            "confidence_logprob": logprob, "confidence_consistency": consistency,
            **_case_usage(recs),
            "history_turns_total": p.history_turns_total, "history_turns_included": p.history_turns_included,
            "history_tokens": p.history_tokens, "deciding_turn_from_end": p.deciding_turn_from_end,
            "retrieved_tokens": p.retrieved_tokens, "retrieved_ids": list(p.retrieved_ids),
            "cache_hit": all(r.cache_hit for r in recs), "attempts": sum(r.attempts for r in recs),
            "error_class": main.error_class, "error_message": main.error_message,
            "human_good": _human_label(task, case),
            "judge_good": None, "judge_reason": None, "simulated": bool(simulated[config]),
            "execution": getattr(main, "execution", None) or "direct",
            **decision_row(fields, j.decision if j is not None else None),
        })
    df = pd.DataFrame(rows, columns=scores_schema(task).names)
    for k in (*_USAGE, "total_tokens", "deciding_turn_from_end", "retrieved_tokens"):
        df[k] = df[k].astype("Int64")
    for k in ("confidence", "confidence_stated", "confidence_logprob", "confidence_consistency", "cost_usd"):
        df[k] = df[k].astype("Float64")
    for k in ("human_good", "judge_good"):
        df[k] = df[k].astype("boolean")
    _nullable_dtypes(df, scores_schema(task))
    return df.sort_values(["config", "case_id"], kind="stable").reset_index(drop=True)


def _nullable_dtypes(df: pd.DataFrame, schema: Any) -> None:
    """Nullable pandas dtypes for the decision columns, so an int stays an int when some rows are null."""
    import pyarrow as pa

    for f in schema:
        if not f.name.startswith("decision_"):
            continue
        if pa.types.is_integer(f.type):
            df[f.name] = _int64(df[f.name])
        elif pa.types.is_floating(f.type):
            df[f.name] = df[f.name].astype("Float64")
        elif pa.types.is_boolean(f.type):
            df[f.name] = df[f.name].astype("boolean")


def _int64(column: pd.Series) -> pd.Series:
    """A decision column as nullable int64; a value a model wrote beyond int64 (a task that does not bound
    it) is stored as missing rather than stopping the run: model output is untrusted."""
    try:
        return column.astype("Int64")
    except (OverflowError, TypeError, ValueError):
        import pandas as pd

        def fits(v: Any) -> bool:
            return isinstance(v, (int, float)) and not pd.isna(v) and -(2**63) <= v < 2**63

        return column.map(lambda v: v if fits(v) else None).astype("Int64")


def write_scores(run_dir: Path, *, task: Any, scores: pd.DataFrame) -> Path:
    """Write scores.parquet with its declared schema (atomic)."""
    from evalkit import _io

    path = Path(run_dir) / "scores.parquet"
    return _io.write_parquet(path, to_arrow(scores, scores_schema(task), where=str(path)))
