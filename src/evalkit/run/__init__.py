"""Running suites: plan calls, execute them (cache, journal, retries, limits), and write
the run folder ``reports/<run-id>/``."""

from evalkit.run._prompts import render_case_prompt
from evalkit.run._records import CallRecord, ExecutionOptions, PlannedCall
from evalkit.run._runner import RunOutcome, RunRequest, run_suite
from evalkit.run._store import list_runs, read_manifest

__all__ = ["CallRecord", "ExecutionOptions", "PlannedCall", "RunOutcome", "RunRequest", "list_runs", "read_manifest",
           "render_case_prompt", "run_suite"]
