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
    settled: bool = True
    """False for a sequential run's gate left open when the run stopped early (status ``skip``):
    counted as "not settled", never as passed or skipped (gates.json: ``settled``; files written
    before that field existed say so only by a message starting with "not settled")."""

    @property
    def passed(self) -> bool:
        return self.status != "fail"

    @property
    def outcome(self) -> Literal["passed", "failed", "skipped", "not settled"]:
        """What a verdict line counts this result as (a skip is not a pass, nor is an open gate)."""
        if self.status == "fail":
            return "failed"
        if self.status == "pass":
            return "passed"
        return "skipped" if self.settled else "not settled"

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "config": self.config, "status": self.status,
                "passed": self.passed, "observed": self.observed.to_dict() if self.observed else None,
                "limit": self.limit, "message": self.message, "segments": list(self.segments),
                "details": list(self.details), "seconds": round(self.seconds, 4), "unit": self.unit,
                "settled": self.settled}


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
    simulated_configs: tuple[str, ...] | None = None
    """The configurations whose numbers come from a simulated provider (None: unknown, then
    ``simulated`` applies to every configuration)."""

    def is_simulated(self, config: str) -> bool:
        if self.simulated_configs is None:
            return self.simulated
        return config in self.simulated_configs

    def counts(self) -> dict[str, int]:
        """How many gate x configuration results passed, failed, were skipped or are not settled."""
        out = {"passed": 0, "failed": 0, "skipped": 0, "not settled": 0}
        for r in self.results:
            out[r.outcome] += 1
        return out

    def tally(self) -> str:
        """'2 passed, 1 failed, 6 skipped, 3 not settled' (zero counts left out, except passed and failed)."""
        c = self.counts()
        return ", ".join(f"{v} {k}" for k, v in c.items() if v or k in ("passed", "failed"))

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)

    @property
    def checked(self) -> bool:
        """Whether any gate x configuration was checked (passed or failed). A report whose every result
        was skipped or left open - or that has none - checked nothing: it is not failed (exit 0, as
        docs/ci.md says of skipped gates), but it is never reported as a pass either."""
        return any(r.status in ("pass", "fail") for r in self.results)

    @property
    def verdict(self) -> Literal["PASSED", "FAILED", "NOTHING CHECKED"]:
        """The verdict every output states: a report that checked nothing says so, not PASSED."""
        if not self.passed:
            return "FAILED"
        return "PASSED" if self.checked else "NOTHING CHECKED"

    @property
    def failed(self) -> tuple[GateResult, ...]:
        return tuple(r for r in self.results if not r.passed)

    def to_dict(self) -> dict[str, Any]:
        return {"schema": 1, "run_id": self.run_id, "baseline_run_id": self.baseline_run_id,
                "created": self.created, "passed": self.passed, "verdict": self.verdict.lower(),
                "simulated": self.simulated, "n_gates": len(self.results), "n_failed": len(self.failed),
                "counts": self.counts(), "headline": self.headline,
                "sequential": self.sequential, "results": [r.to_dict() for r in self.results]}


def stored_report(run: Any) -> GateReport | None:
    """The gate report a run folder holds (``gates.json``, read through ``evalkit.runs``), or None. A
    sequential run's open gates come back as not settled (``settled``, or in older files their
    message)."""
    doc = run.gates
    if doc is None:
        return None
    results = tuple(GateResult(name=g.name, kind=g.kind, config=g.config, status=g.status,
                               observed=g.observed.estimate() if g.observed is not None else None, limit=g.limit,
                               message=g.message, segments=tuple(g.segments), details=tuple(g.details),
                               seconds=g.seconds, unit=g.unit, settled=g.settled and not g.message.startswith("not settled"))
                    for g in doc.results)
    simulated = tuple(c for c, h in doc.headline.items() if isinstance(h, dict) and h.get("simulated"))
    return GateReport(run_id=doc.run_id or run.run_id, run_dir=run.path, baseline_run_id=doc.baseline_run_id,
                      results=results, created=doc.created or "", simulated=doc.simulated, headline=dict(doc.headline),
                      sequential=doc.sequential, simulated_configs=simulated if doc.headline else None)
