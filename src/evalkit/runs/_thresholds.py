"""thresholds.json: the certified automation thresholds per configuration and segment (evalkit.calibrate)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from evalkit.runs._base import SIMULATED_ANY, SIMULATED_CONFIG, Json, Rate, RunFile, _Format


class _Certification(_Format):
    """What calibration found at one threshold, for a configuration or one of its segments."""

    threshold: float | None = Field(None, ge=0, le=1, allow_inf_nan=False,
                                    description="On the raw confidence, in [0, 1]; null = no threshold (escalate).")
    threshold_calibrated: float | None = None
    n: int | None = None
    n_automatable: int | None = None
    n_automated: int | None = None
    n_errors: int | None = None
    n_min_automated: int | None = None
    coverage: Rate | None = None
    error_rate: Rate | None = None
    risk_upper_bound: float | None = None
    cases_needed: Json | None = Field(None, description="Sample-size estimate to certify.")
    message: str | None = None
    p_value_path: list[list[float | None]] | None = None
    path: list[Json] | None = None


class SegmentThreshold(_Certification):
    certified: bool | None = Field(None, description="null in global mode: only the pooled rate is certified.")
    excluded: bool = False
    never_automate: bool = False
    delta_used: float | None = None
    p_value_at_threshold: float | None = None
    reason: str | None = None


class ConfigThresholds(_Certification):
    certified: bool = False
    warnings: list[str] = Field(default_factory=list)
    uncertified_segments: list[str] = Field(default_factory=list)
    escalated_always: dict[str, int] = Field(default_factory=dict)
    certified_thresholds: list[float] | None = None
    certified_range: list[float] | None = None
    segments: dict[str, SegmentThreshold] = Field(default_factory=dict)
    metrics: Json = Field(default_factory=dict, description="Calibration metrics (evalkit.calibrate).")
    recalibration: Json | None = Field(None, description="The recalibration map (evalkit.calibrate).")
    cost_optimal: Json | None = Field(None, description="Cost-optimal thresholds (evalkit.calibrate).")
    simulated: bool = Field(False, description=SIMULATED_CONFIG)


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
    simulated: bool = Field(False, description=SIMULATED_ANY)
    configs: dict[str, ConfigThresholds]

