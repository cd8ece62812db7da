"""`calibration:` section of a suite: what to measure, how to recalibrate, what to certify."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from evalkit.suite._seed import SEED_MAX

SIGNAL_COLUMNS = ("confidence_stated", "confidence_logprob", "confidence_consistency")


class CalibrationSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: Literal["good", "correct"] = Field(
        "good", description="Which outcome confidence should predict and thresholds should protect."
    )
    alpha: float | None = Field(
        0.05, gt=0, lt=1,
        description="Target error rate among automated decisions; null = no guarantee (metrics and cost only).",
    )
    delta: float = Field(0.05, gt=0, lt=1, description="Allowed probability that the guarantee fails.")
    mode: Literal["global", "per_segment", "all_segments"] = Field(
        "global",
        description=(
            "global: one threshold certifying the pooled error rate (segments reported, not certified); "
            "per_segment: a threshold per segment, delta split by Bonferroni over segments; "
            "all_segments: one threshold certified for every segment at once (max p-value across segments)."
        ),
    )
    method: Literal["auto", "platt", "isotonic", "multi", "none"] = Field(
        "auto",
        description="Recalibration map: auto = platt below `isotonic_min_n` cases, isotonic from there; "
        "multi = cross-fitted logistic on several confidence signals.",
    )
    isotonic_min_n: int = Field(1000, ge=10, description="auto switches to isotonic at this many cases.")
    folds: int = Field(5, ge=2, le=50, description="K of the stratified K-fold cross-fitting.")
    signals: list[str] = Field(
        default_factory=lambda: list(SIGNAL_COLUMNS),
        description="Columns combined by method=multi (missing values fall back to `confidence`).",
    )
    grid: Literal["fixed", "distinct"] | list[float] = Field(
        "fixed",
        description="Threshold grid, fixed before outcomes are seen: fixed = 0.00..1.00 in `grid_step` "
        "steps; distinct = the distinct confidence values (label-free but data-dependent); or a list.",
    )
    grid_step: float = Field(0.01, gt=0, le=0.5)
    bins: int = Field(10, ge=2, le=100, description="Bins for ECE/MCE/reliability diagrams.")
    bootstrap: int = Field(500, ge=0, le=10000, description="Bootstrap resamples for the ECE interval (0 = off).")
    seed: int = Field(0, ge=0, le=SEED_MAX, description="Seed for folds and bootstrap; recorded in thresholds.json.")
    never_automate: list[str] = Field(
        default_factory=list,
        description="Segments never handed off to automation, whatever the confidence (always reviewed); "
        "honoured in per_segment and all_segments modes.",
    )
    min_segment_n: int | None = Field(
        None, ge=1,
        description="Segments with fewer automatable cases are escalated without testing; "
        "default = the zero-error minimum ceil(ln(delta') / ln(1 - alpha)).",
    )

    @field_validator("grid")
    @classmethod
    def _grid_in_unit(cls, v: object) -> object:
        if isinstance(v, list):
            if not v:
                raise ValueError("grid list is empty")
            if any(not (0.0 <= float(x) <= 1.0) for x in v):
                raise ValueError("grid thresholds must lie in [0, 1]")
        return v

    @field_validator("signals")
    @classmethod
    def _known_signals(cls, v: list[str]) -> list[str]:
        bad = [s for s in v if s not in (*SIGNAL_COLUMNS, "confidence")]
        if bad:
            raise ValueError(f"unknown confidence signal(s) {bad}; choose from {list(SIGNAL_COLUMNS)}")
        return v
