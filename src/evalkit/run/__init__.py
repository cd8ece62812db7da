"""Running suites: plan calls, execute them (cache, journal, retries, limits), and write
the run folder ``reports/<run-id>/``.

``run_suite`` runs a whole suite; ``execute`` is the engine underneath, usable on its
own with any ``PlannedCall`` list and providers.
"""

from evalkit.run._answers import bundle_of
from evalkit.run._bless import bless_baseline
from evalkit.run._cache import ResponseCache
from evalkit.run._executor import execute
from evalkit.run._journal import JOURNAL_NAME, read_journal, read_journal_state
from evalkit.run._ledger import SpendLedger
from evalkit.run._merge import merge_runs
from evalkit.run._plan import stratified_subset
from evalkit.run._prompts import render_case_prompt
from evalkit.run._records import CallRecord, ExecutionOptions, PlannedCall
from evalkit.run._request import RunInterrupted, RunOutcome, RunRequest
from evalkit.run._retry import RetryPolicy
from evalkit.run._runner import run_suite
from evalkit.run._select import parse_shard, select_cases, stratified_order
from evalkit.run._store import list_runs, read_manifest
from evalkit.run._table_schemas import FORMAT_VERSION, results_schema, scores_schema

__all__ = [
    "FORMAT_VERSION", "JOURNAL_NAME", "CallRecord", "ExecutionOptions", "PlannedCall", "ResponseCache",
    "RetryPolicy", "RunInterrupted", "RunOutcome", "RunRequest", "SpendLedger", "bless_baseline", "bundle_of",
    "execute", "list_runs", "merge_runs", "parse_shard", "read_journal", "read_journal_state", "read_manifest",
    "render_case_prompt", "results_schema", "run_suite", "scores_schema", "select_cases", "stratified_order",
    "stratified_subset",
]
