"""What evaluating gates produces: one result per gate x configuration, and the report of a run."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from evalkit.stats import Estimate

Status = Literal["pass", "fail", "skip"]


@dataclass(frozen=True, kw_only=True)
class GateResult:
    name: str
    kind: str
    config: str
    status: Status
    observed: Estimate | None
    limit: float
    message: str
    segments: tuple[str, ...] = ()
    """Segments that failed (empty when passed or not per segment)."""
    details: tuple[dict[str, Any], ...] = ()
    seconds: float = 0.0
    """Time spent evaluating this gate (JUnit ``time``)."""
    unit: Literal["rate", "points", "relative", "usd", "score"] = "score"
    """How ``observed`` and ``limit`` read: a rate (%), a drop (percentage points), a relative
    change (%), dollars, or a plain score (ECE)."""

    @property
    def passed(self) -> bool:
        return self.status != "fail"

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "config": self.config, "status": self.status,
                "passed": self.passed, "observed": self.observed.to_dict() if self.observed else None,
                "limit": self.limit, "message": self.message, "segments": list(self.segments),
                "details": list(self.details), "seconds": round(self.seconds, 4), "unit": self.unit}


@dataclass(frozen=True, kw_only=True)
class GateReport:
    run_id: str
    run_dir: Path
    baseline_run_id: str | None
    results: tuple[GateResult, ...]
    created: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    simulated: bool = False
    headline: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Per configuration: good rate, the paired delta against the baseline, cost (see ``headline``)."""
    run_seconds: float | None = None
    """Wall time of the run itself (manifest created -> finished), for JUnit ``time``."""
    sequential: dict[str, Any] | None = None
    """Set by a sequential run: looks, calls and dollars saved (evalkit.gate sequential)."""

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)

    @property
    def failed(self) -> tuple[GateResult, ...]:
        return tuple(r for r in self.results if not r.passed)

    def to_dict(self) -> dict[str, Any]:
        return {"schema": 1, "run_id": self.run_id, "baseline_run_id": self.baseline_run_id,
                "created": self.created, "passed": self.passed, "simulated": self.simulated,
                "n_gates": len(self.results), "n_failed": len(self.failed), "headline": self.headline,
                "sequential": self.sequential, "results": [r.to_dict() for r in self.results]}
