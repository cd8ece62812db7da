"""The typed owners of every JSON file a run folder holds (see docs/dev/contracts.md).

Each file model carries its format version (``schema``) and forbids unknown keys: a writer
that adds a key must add it here first, so the JSON Schemas (``evalkit.runs.json_schemas``)
always describe what is on disk. Blocks that are one stage's detailed diagnostics (calibration
metrics, recalibration maps, cost curves) are typed as JSON objects and owned by that stage.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from evalkit.stats import Estimate

Json = dict[str, Any]
"""A stage-owned diagnostic block (free-form JSON object)."""


class _Format(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, protected_namespaces=())


class RunFile(_Format):
    """A top-level run-folder file: ``FILE`` is its name; ``format_version`` is stored as ``schema``.

    Identity fields a stage always writes (run id, creation time) are optional so that folders
    assembled by hand (tests, imported results) still load; unknown keys are always refused.
    """

    FILE: ClassVar[str] = ""
    VERSION: ClassVar[int] = 1
    format_version: int = Field(1, alias="schema", description="Format version of this file.")

    def dump(self) -> Json:
        """The JSON document as written to disk."""
        return self.model_dump(mode="json", by_alias=True)


class Rate(_Format):
    """An estimate with its 95% interval; ``k`` is the count behind a proportion."""

    value: float | None
    lo: float | None = None
    hi: float | None = None
    n: int | None = 0
    k: int | None = None

    def estimate(self) -> Estimate:
        return Estimate(value=self.value, lo=self.lo, hi=self.hi, n=int(self.n or 0), k=self.k)


# ---- manifest.json ---------------------------------------------------------------------------------------

RunStatus = Literal["running", "complete", "stopped", "failed"]


class Price(_Format):
    input: float | None = None
    output: float | None = None
    cache_read: float | None = None
    cache_write: float | None = None
    source: str | None = None
    model: str | None = None


class ConfigEntry(_Format):
    name: str
    provider: str | None = None
    model: str | None = None
    params: Json = Field(default_factory=dict)
    prompt: str | None = None
    prompt_version: str | None = None
    context: Json = Field(default_factory=dict)
    confidence: str | None = None
    samples: int = 1
    simulated: bool = False
    price: Price | None = Field(None, description="null: the run found no price (cost unknown).")
    options: Json = Field(default_factory=dict)
    description: str | None = None
    model_versions: list[str] = Field(default_factory=list)
    execution: str | None = Field(None, description="direct or batch (provider batch API).")
    batch_price: Price | None = Field(None, description="Batch-API price when the config ran in batch mode.")


class SuiteEntry(_Format):
    name: str | None = None
    path: str | None = None
    sha256: str | None = None
    spec: Json = Field(default_factory=dict, description="The parsed suite (evalkit.suite.Suite) the run used.")


class DatasetEntry(_Format):
    ref: str | None = None
    name: str | None = None
    version: str | None = None
    sha256: str | None = None
    rows: int | None = None
    sampled_rows: int | None = None


class RequestEntry(_Format):
    configs: list[str] = Field(default_factory=list)
    limit: int | None = None
    fraction: float | None = None
    sample_seed: int | None = None
    overrides: dict[str, str] = Field(default_factory=dict)
    batch: bool = False
    shard: list[int] | None = Field(None, description="[i, n]: the run holds shard i of n (evalkit run --shard).")
    max_cost_usd: float | None = Field(None, description="The run's budget (per run: kept on resume).")


class Counts(_Format):
    calls: int
    failed_calls: int
    cache_hits: int
    cases: int
    spent_usd: float | None = None
    nominal_usd: float | None = None
    recorded_usd: float | None = Field(None, description="Spend from reported usage: a lower bound when "
                                                         "possibly_billed_attempts > 0.")
    possibly_billed_attempts: int = 0
    possibly_billed_usd: float | None = Field(None, description="Worst case of attempts that may have been billed "
                                                                "without reporting usage (null: no price).")
    unpriced_attempts: int = 0


class ErrorGroup(_Format):
    """Failed calls of one error class in one configuration (evalkit.run)."""

    error_class: str
    config: str
    count: int
    first_message: str
    first_case: str


class Manifest(RunFile):
    """Fields a run always writes are optional only so that folders made by hand (tests, imports) load."""

    FILE: ClassVar[str] = "manifest.json"
    run_id: str
    created: str | None = None
    status: RunStatus | None = None
    finished: str | None = None
    message: str | None = None
    evalkit_version: str | None = None
    seed: int | None = None
    fingerprint: str | None = None
    suite: SuiteEntry = Field(default_factory=SuiteEntry)
    dataset: DatasetEntry = Field(default_factory=DatasetEntry)
    request: RequestEntry = Field(default_factory=RequestEntry)
    tokenizer: str | None = None
    baseline: str | None = None
    execution: Json | None = Field(None, description="How calls were sent: {mode: direct|batch, ...} (evalkit.run).")
    configs: list[ConfigEntry] = Field(default_factory=list)
    counts: Counts | None = None
    sequential: Json | None = Field(None, description="A sequential run's looks, calls and dollars saved.")
    merged: str | None = Field(None, description="When `evalkit merge` joined shard runs into this one.")
    merged_from: list[Json] | None = Field(None, description="The shard runs merged: [{run_id, shard}].")
    partial: Json | None = Field(None, description="Merged from only some shards: {shards, of}.")
    errors: list[ErrorGroup] = Field(default_factory=list)

    def config(self, name: str) -> ConfigEntry | None:
        return next((c for c in self.configs if c.name == name), None)


# ---- summary.json ----------------------------------------------------------------------------------------


class Quantity(_Format):
    """Tokens or cost per case: mean/p95 are null when any case is unknown."""

    mean: float | None
    p95: float | None
    known_mean: float | None
    known_p95: float | None
    known_n: int | None
    unknown_n: int | None
    known: bool


class SegmentSummary(_Format):
    n: int
    correct: Rate
    good: Rate
    deferred: Rate
    invalid: Rate
    gap: Rate
    failed_n: int | None = None
    tokens_per_case: Quantity
    cost_per_case: Quantity


class ConfigSummary(_Format):
    overall: SegmentSummary
    segments: dict[str, SegmentSummary] = Field(default_factory=dict)


class Summary(RunFile):
    FILE: ClassVar[str] = "summary.json"
    interval: str
    gap_interval: str
    denominator: str
    cost_policy: str
    configs: dict[str, ConfigSummary]
    errors: list[ErrorGroup] = Field(default_factory=list, description="Failed calls by class and configuration.")


# ---- thresholds.json -------------------------------------------------------------------------------------


class SegmentThreshold(_Format):
    threshold: float | None = None
    threshold_calibrated: float | None = None
    certified: bool | None = Field(None, description="null in global mode: only the pooled rate is certified.")
    excluded: bool = False
    never_automate: bool = False
    n: int | None = None
    n_automatable: int | None = None
    n_automated: int | None = None
    n_errors: int | None = None
    n_min_automated: int | None = None
    coverage: Rate | None = None
    error_rate: Rate | None = None
    risk_upper_bound: float | None = None
    delta_used: float | None = None
    p_value_at_threshold: float | None = None
    cases_needed: Json | None = Field(None, description="Sample-size estimate to certify the segment.")
    message: str | None = None
    reason: str | None = None
    p_value_path: list[list[float | None]] | None = None
    path: list[Json] | None = None


class ConfigThresholds(_Format):
    threshold: float | None = Field(None, description="On the raw confidence; null = no single threshold.")
    threshold_calibrated: float | None = None
    certified: bool = False
    n: int | None = None
    n_automatable: int | None = None
    n_automated: int | None = None
    n_errors: int | None = None
    n_min_automated: int | None = None
    coverage: Rate | None = None
    error_rate: Rate | None = None
    risk_upper_bound: float | None = None
    message: str | None = None
    warnings: list[str] = Field(default_factory=list)
    uncertified_segments: list[str] = Field(default_factory=list)
    escalated_always: dict[str, int] = Field(default_factory=dict)
    p_value_path: list[list[float | None]] | None = None
    path: list[Json] | None = None
    certified_thresholds: list[float] | None = None
    certified_range: list[float] | None = None
    cases_needed: Json | None = None
    segments: dict[str, SegmentThreshold] = Field(default_factory=dict)
    metrics: Json = Field(default_factory=dict, description="Calibration metrics (evalkit.calibrate).")
    recalibration: Json | None = Field(None, description="The recalibration map (evalkit.calibrate).")
    cost_optimal: Json | None = Field(None, description="Cost-optimal thresholds (evalkit.calibrate).")


class Thresholds(RunFile):
    FILE: ClassVar[str] = "thresholds.json"
    run_id: str | None = None
    created: str | None = None
    outcome: Literal["good", "correct"] = "good"
    alpha: float | None = None
    delta: float | None = None
    mode: Literal["global", "all_segments", "per_segment"] | None = None
    seed: int | None = None
    folds: int | None = None
    spec: Json = Field(default_factory=dict)
    economics: Json | None = None
    guarantee: Json | None = None
    bin_convention: str | None = None
    name: str | None = Field(None, description="Threshold set name: 'suite' (thresholds.json, the suite's own "
                             "calibration) or the name of RUN/thresholds/<name>.json.")
    configs: dict[str, ConfigThresholds]


# ---- projection.json -------------------------------------------------------------------------------------


class MonthlyCost(_Format):
    known: bool
    mean: float | None = None
    p50: float | None = None
    p95: float | None = None
    naive: float | None = None
    naive_cases: int | None = None
    naive_source: str | None = None
    months_simulated: int | None = None
    p95_to_naive_ratio: float | None = None
    tail_to_naive_ratio: float | None = None


class ConfigProjection(_Format):
    n: int
    outcome: str
    threshold: float | None = None
    threshold_source: str
    threshold_mode: str | None = None
    value_optimal_threshold: float | None = None
    risk_target_threshold: float | None = None
    risk_target_segments: dict[str, float | None] = Field(default_factory=dict)
    automation_rate: Rate
    naive_automation_rate: Rate | None = None
    escalated_rate: Rate | None = None
    automated_error_rate: Rate | None = None
    automated_per_month: Rate | None = None
    automated_errors_per_month: Rate | None = None
    review_cost_per_month: Rate | None = None
    review_hours_per_month: Rate | None = None
    net_value_per_month: Rate | None = None
    net_value_escalate_all: Rate | None = None
    escalation_breakdown: dict[str, Rate] = Field(default_factory=dict)
    monthly_cost: MonthlyCost | None = None
    cost_per_case: Json = Field(default_factory=dict)
    tokens_per_case: Json = Field(default_factory=dict)
    naive_tokens_per_case: float | None = None
    input_price_per_token: float | None = None
    input_price_source: str | None = None
    effective_sample_size: float | None = None
    unestimated_share: float = 0.0
    unmixed_segments: list[str] = Field(default_factory=list)
    flagged_segments: list[str] = Field(default_factory=list)
    flag_reasons: dict[str, str] = Field(default_factory=dict)
    same_run_optimism: Json | None = Field(
        None, description="Thresholds certified on this run: in-sample vs cross-fitted error rate among automated "
        "cases at the mix, and their gap (evalkit.project).")
    segments: dict[str, Json] = Field(default_factory=dict)
    curve: list[Json] = Field(default_factory=list)
    context_caps: list[Json] = Field(default_factory=list)


class Projection(RunFile):
    FILE: ClassVar[str] = "projection.json"
    run_id: str | None = None
    created: str | None = None
    volume_per_month: float
    mix: dict[str, float]
    outcome: str
    bootstrap: Json
    monte_carlo: Json
    sweep: list[Any] | None = None
    spec: Json = Field(default_factory=dict)
    economics: Json = Field(default_factory=dict)
    threshold_set: Json | None = Field(None, description="The threshold set the projection applied: name "
                                       "('suite' = thresholds.json), description, alpha, delta, mode.")
    configs: dict[str, ConfigProjection]
    warnings: list[str] = Field(default_factory=list)


# ---- gates.json ------------------------------------------------------------------------------------------


class GateOutcome(_Format):
    name: str
    kind: str
    config: str
    status: Literal["pass", "fail", "skip"]
    passed: bool
    observed: Rate | None = None
    limit: float
    message: str
    segments: list[str] = Field(default_factory=list)
    details: list[Json] = Field(default_factory=list)
    seconds: float = 0.0
    unit: Literal["rate", "points", "relative", "usd", "score"] = "score"


class Gates(RunFile):
    FILE: ClassVar[str] = "gates.json"
    run_id: str | None = None
    baseline_run_id: str | None = None
    created: str | None = None
    passed: bool
    simulated: bool = False
    n_gates: int
    n_failed: int
    headline: dict[str, Json] = Field(default_factory=dict)
    sequential: Json | None = None
    results: list[GateOutcome]


# ---- judge.json ------------------------------------------------------------------------------------------


class Agreement(_Format):
    n: int
    n_dropped: int = 0
    agreement: Rate | None = None
    kappa: float | None = None
    kappa_interval: list[float | None] | None = None
    confusion: list[list[int]] = Field(default_factory=list)
    confusion_axes: str | None = None


class Judge(RunFile):
    FILE: ClassVar[str] = "judge.json"
    judge_decides: bool = True
    judge_vs_human: Agreement | None = None
    judge_vs_rubric: Agreement | None = None
    n_model_decisions_judged: int | None = None
    n_rejected_by_judge: int | None = None
    note: str | None = None


RUN_FILES: tuple[type[RunFile], ...] = (Manifest, Summary, Thresholds, Projection, Gates, Judge)
"""Every JSON file a run writes, with its typed owner."""
