"""The run stage: plan calls, execute them (cache, journal, retries, limits), and write the
run folder ``reports/<run-id>/`` (manifest, results table, journal).

``execute_suite`` runs a whole suite's calls and hands them to scoring (``evalkit.score``);
``Executed.complete`` then completes the folder. ``evalkit.pipeline.run_suite`` does the three
in order. ``execute`` is the engine underneath, usable on its own with any ``PlannedCall`` list
and providers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from evalkit._lazy import lazy_exports

if TYPE_CHECKING:
    from evalkit.run._answers import bundle_of
    from evalkit.run._batch_ledger import pending_batches
    from evalkit.run._bless import bless_baseline
    from evalkit.run._cache import ResponseCache
    from evalkit.run._executor import execute
    from evalkit.run._finish import mark_complete
    from evalkit.run._journal import JOURNAL_NAME, read_journal, read_journal_state
    from evalkit.run._ledger import SpendLedger
    from evalkit.run._lock import run_lock
    from evalkit.run._merge import Merged, merge_shards
    from evalkit.run._plan import stratified_subset
    from evalkit.run._prompts import render_case_prompt
    from evalkit.run._records import (
        JUDGE,
        CallRecord,
        ExecutionOptions,
        PlannedCall,
        truncated_counts,
        truncation_warnings,
    )
    from evalkit.run._request import RunInterrupted, RunOutcome, RunRequest, resume_command
    from evalkit.run._retry import RetryPolicy
    from evalkit.run._runner import Executed, execute_suite, preflight
    from evalkit.run._select import parse_shard, select_cases, stratified_order
    from evalkit.run._setup import price_for, task_options
    from evalkit.run._store import list_runs, read_manifest
    from evalkit.run._table_schemas import (
        FORMAT_VERSION,
        decision_fields,
        decision_row,
        results_schema,
        scores_schema,
        to_arrow,
    )
    from evalkit.run._tables import USAGE_FIELDS

__all__ = [
    "FORMAT_VERSION",
    "JOURNAL_NAME",
    "JUDGE",
    "USAGE_FIELDS",
    "CallRecord",
    "Executed",
    "ExecutionOptions",
    "Merged",
    "PlannedCall",
    "ResponseCache",
    "RetryPolicy",
    "RunInterrupted",
    "RunOutcome",
    "RunRequest",
    "SpendLedger",
    "bless_baseline",
    "bundle_of",
    "decision_fields",
    "decision_row",
    "execute",
    "execute_suite",
    "list_runs",
    "mark_complete",
    "merge_shards",
    "parse_shard",
    "pending_batches",
    "preflight",
    "price_for",
    "read_journal",
    "read_journal_state",
    "read_manifest",
    "render_case_prompt",
    "results_schema",
    "resume_command",
    "run_lock",
    "scores_schema",
    "select_cases",
    "stratified_order",
    "stratified_subset",
    "task_options",
    "to_arrow",
    "truncated_counts",
    "truncation_warnings",
]

# Lazy (PEP 562): a name loads its module on first use. `evalkit run` forks its sender processes
# before the heavy stacks (pandas, numpy, pyarrow) load, so they import the SDKs meanwhile.
_WHERE = {
    "CallRecord": "_records",
    "Executed": "_runner",
    "ExecutionOptions": "_records",
    "FORMAT_VERSION": "_table_schemas",
    "JOURNAL_NAME": "_journal",
    "JUDGE": "_records",
    "pending_batches": "_batch_ledger",
    "Merged": "_merge",
    "PlannedCall": "_records",
    "ResponseCache": "_cache",
    "RetryPolicy": "_retry",
    "RunInterrupted": "_request",
    "RunOutcome": "_request",
    "RunRequest": "_request",
    "SpendLedger": "_ledger",
    "USAGE_FIELDS": "_tables",
    "bless_baseline": "_bless",
    "bundle_of": "_answers",
    "decision_fields": "_table_schemas",
    "decision_row": "_table_schemas",
    "execute": "_executor",
    "execute_suite": "_runner",
    "preflight": "_runner",
    "list_runs": "_store",
    "mark_complete": "_finish",
    "merge_shards": "_merge",
    "parse_shard": "_select",
    "price_for": "_setup",
    "read_journal": "_journal",
    "read_journal_state": "_journal",
    "read_manifest": "_store",
    "render_case_prompt": "_prompts",
    "results_schema": "_table_schemas",
    "resume_command": "_request",
    "run_lock": "_lock",
    "scores_schema": "_table_schemas",
    "select_cases": "_select",
    "stratified_order": "_select",
    "stratified_subset": "_plan",
    "task_options": "_setup",
    "to_arrow": "_table_schemas",
    "truncated_counts": "_records",
    "truncation_warnings": "_records",
}

__getattr__, __dir__ = lazy_exports(__name__, _WHERE)
