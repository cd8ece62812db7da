"""projection.json: the production projection of each configuration (written by evalkit.project)."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field

from evalkit.runs._base import Json, Rate, RunFile, _Format


class MonthlyCost(_Format):
    known: bool
    mean: float | None = None
    p50: float | None = None
    p95: float | None = None
    naive: float | None = Field(None, description="Naive monthly spend; null when any projected cost is "
                                "unknown (see naive_known_rows_only).")
    naive_known_rows_only: float | None = Field(None, description="With unknown costs: the naive figure over "
                                                "the known-cost rows only, n_unknown rows left out.")
    n_unknown: int | None = None
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
    estimated_volume_per_month: float | None = Field(
        None, description="Cases per month the monthly figures cover: volume_per_month without the "
        "unestimated share (segments with no cases are flagged, not extrapolated).")
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
    what_if: list[str] = Field(default_factory=list, description="Settings that differ from the suite's "
                               "(a hand-given threshold or thresholds file, another volume or mix); empty for the "
                               "suite's projection. A what-if is written only with `evalkit project --save`.")
    configs: dict[str, ConfigProjection]
    warnings: list[str] = Field(default_factory=list)

