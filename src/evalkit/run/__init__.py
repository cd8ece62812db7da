"""The run stage: plan calls, execute them (cache, journal, retries, limits), and write the
run folder ``reports/<run-id>/`` (manifest, results table, journal).

``execute_suite`` runs a whole suite's calls and hands them to scoring (``evalkit.score``);
``Executed.complete`` then completes the folder. ``evalkit.pipeline.run_suite`` does the three
in order. ``execute`` is the engine underneath, usable on its own with any ``PlannedCall`` list
and providers.
"""

from evalkit.run._answers import bundle_of
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
from evalkit.run._records import JUDGE, CallRecord, ExecutionOptions, PlannedCall
from evalkit.run._request import RunInterrupted, RunOutcome, RunRequest, resume_command
from evalkit.run._retry import RetryPolicy
from evalkit.run._runner import Executed, execute_suite
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

__all__ = ["FORMAT_VERSION", "JOURNAL_NAME", "JUDGE", "USAGE_FIELDS", "CallRecord", "Executed", "ExecutionOptions",
           "Merged", "PlannedCall", "ResponseCache", "RetryPolicy", "RunInterrupted", "RunOutcome", "RunRequest",
           "SpendLedger", "bless_baseline", "bundle_of", "decision_fields", "decision_row", "execute", "execute_suite",
           "list_runs", "mark_complete", "merge_shards", "parse_shard", "price_for", "read_journal", "read_journal_state",
           "read_manifest", "render_case_prompt", "resume_command", "results_schema", "run_lock", "scores_schema", "select_cases",
           "stratified_order", "stratified_subset", "task_options", "to_arrow"]
