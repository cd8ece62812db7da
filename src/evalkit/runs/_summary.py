"""summary.json: per configuration and segment, the scored rates with intervals (written by evalkit.score)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from evalkit.runs._base import SIMULATED_ANY, SIMULATED_CONFIG, Json, Rate, RunFile, _Format
from evalkit.runs._manifest import ErrorGroup


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
    simulated: bool = Field(False, description=SIMULATED_CONFIG)


class Summary(RunFile):
    FILE: ClassVar[str] = "summary.json"
    interval: str
    gap_interval: str
    denominator: str
    cost_policy: str
    simulated: bool = Field(False, description=SIMULATED_ANY)
    configs: dict[str, ConfigSummary]
    errors: list[ErrorGroup] = Field(default_factory=list, description="Failed calls by class and configuration.")
    truncated: dict[str, int] | None = Field(
        None, description="Answers cut at max_tokens per configuration (evalkit.run._records.truncated_counts): their text "
                          "is incomplete, so raise max_tokens. Absent when no answer was cut.")

    def dump(self) -> Json:
        """As written to disk; ``truncated`` only when some answer was cut (a run without any writes the
        same summary.json as before the field existed)."""
        doc = super().dump()
        if not doc.get("truncated"):
            doc.pop("truncated", None)
        return doc

