"""evalkit.runs: the run folder as a typed, public API.

    run = open_run("latest")                 # path, run id, unique id prefix or 'latest'
    run.manifest.configs[0].model            # typed files (None when absent)
    run.thresholds.configs["large-v1"].coverage.estimate()
    policy_for(run.thresholds, "large-v1", "routine")   # the one per-segment threshold rule

Every JSON file a run writes has a pydantic owner here (``RUN_FILES``) with a format version and a
JSON Schema (``json_schemas()``, docs/schemas/). Stages exchange these typed objects, not dicts.
"""

from evalkit.runs._base import Rate, RunFile
from evalkit.runs._folder import (
    REQUIRED_SCORE_COLUMNS,
    RunFolder,
    load_run,
    only_cases,
    open_run,
    read_file,
    read_parquet,
    write_file,
)
from evalkit.runs._manifest import ConfigEntry, Manifest
from evalkit.runs._policy import ThresholdPolicy, cost_optimal_policy, policy_for, threshold_policy
from evalkit.runs._projection import ConfigProjection, Projection
from evalkit.runs._resolve import is_run_folder, latest_run, resolve_baseline, resolve_run
from evalkit.runs._schema import RUN_FILES, json_schemas, write_schemas
from evalkit.runs._summary import ConfigSummary, SegmentSummary, Summary
from evalkit.runs._thresholds import ConfigThresholds, SegmentThreshold, Thresholds
from evalkit.runs._verdicts import Agreement, GateOutcome, Gates, Judge

__all__ = [
    "REQUIRED_SCORE_COLUMNS", "RUN_FILES", "Agreement", "ConfigEntry", "ConfigProjection", "ConfigSummary",
    "ConfigThresholds", "GateOutcome", "Gates", "Judge", "Manifest", "Projection", "Rate", "RunFile", "RunFolder",
    "SegmentSummary", "SegmentThreshold", "Summary", "ThresholdPolicy", "Thresholds", "cost_optimal_policy",
    "is_run_folder", "json_schemas", "latest_run", "load_run", "only_cases", "open_run", "policy_for", "read_file",
    "read_parquet", "resolve_baseline", "resolve_run", "threshold_policy",
    "write_file", "write_schemas",
]
