"""Gate declarations as they appear in a suite's ``gates:`` list (pydantic, extra=forbid).

A discriminated union on ``kind`` so a typo in a kind or a field is a config error
naming the YAML path, not a silently ignored gate.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from evalkit.errors import ConfigError

Outcome = Literal["good", "correct"]


class _Gate(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str | None = Field(None, description="Shown in JUnit/summary; defaults to a name built from the kind.")
    configs: list[str] | None = Field(None, description="Configurations this gate applies to (default: all).")

    NAME: ClassVar[str] = ""
    """The default name, formatted with the gate's fields (``{max:.1%}``)."""

    def display_name(self) -> str:
        return self.name or self.default_name()

    def default_name(self) -> str:
        return self.NAME.format(**dict(self)) if self.NAME else self.kind  # type: ignore[attr-defined]


class MinGoodRate(_Gate):
    """Minimum good (or correct) rate, overall, for one segment, or for every segment."""

    kind: Literal["min_good_rate"]
    min: float = Field(ge=0, le=1)
    outcome: Outcome = "good"
    segment: str | None = Field(None, description="Only this segment.")
    per_segment: bool = Field(False, description="Apply the limit to every segment separately.")
    bound: Literal["point", "lower"] = Field(
        "point", description="Compare the point estimate, or the Wilson 95% lower bound (stricter).")

    def default_name(self) -> str:
        where = f"segment {self.segment}" if self.segment else ("every segment" if self.per_segment else "overall")
        return f"min {self.outcome} rate {self.min:.0%} ({where})"


class MaxGoodRateDrop(_Gate):
    """Maximum drop against the baseline per segment, counted only when significant."""

    kind: Literal["max_good_rate_drop"]
    max_drop: float = Field(0.0, ge=0, le=1, description="Allowed drop as a fraction (0.02 = 2 points).")
    outcome: Outcome = "good"
    alpha: float = Field(0.05, gt=0, lt=1)
    correction: Literal["holm", "none"] = "holm"
    segments: list[str] | None = Field(None, description="Segments to check (default: all).")
    NAME: ClassVar[str] = "max {outcome} rate drop {max_drop:.0%} per segment vs baseline"


class MaxInvalidShare(_Gate):
    kind: Literal["max_invalid_share"]
    max: float = Field(ge=0, le=1)
    include_failed: bool = Field(False, description="Count failed calls as well as invalid outputs.")
    NAME: ClassVar[str] = "max invalid-output share {max:.1%}"


class MaxCostP95Increase(_Gate):
    kind: Literal["max_cost_p95_increase"]
    max_increase: float = Field(ge=0, description="Relative (0.2 = +20%) or USD, per `mode`.")
    mode: Literal["relative", "absolute"] = "relative"
    on_unknown: Literal["fail", "skip"] = Field(
        "fail", description="What to do when some case's cost is unknown (p95 is then unknown).")

    def default_name(self) -> str:
        lim = f"{self.max_increase:.0%}" if self.mode == "relative" else f"${self.max_increase:g}"
        return f"max p95 cost/case increase {lim} vs baseline"


class MaxCalibrationError(_Gate):
    kind: Literal["max_calibration_error"]
    max_ece: float = Field(gt=0, le=1)
    bins: int = Field(10, ge=2, le=100)
    outcome: Outcome = "good"
    NAME: ClassVar[str] = "max calibration error (ECE) {max_ece:.3f}"


class MinAutomationRate(_Gate):
    kind: Literal["min_automation_rate"]
    min: float = Field(ge=0, le=1)
    require_certified: bool = Field(True, description="An uncertified threshold counts as 0% automation.")
    NAME: ClassVar[str] = "min automation at risk target {min:.0%}"


GateSpec = Annotated[
    MinGoodRate | MaxGoodRateDrop | MaxInvalidShare | MaxCostP95Increase | MaxCalibrationError | MinAutomationRate,
    Field(discriminator="kind"),
]


class GatesSection(BaseModel):
    """What a suite file holds about gates; the suite schema embeds ``gates: list[GateSpec]``."""

    model_config = ConfigDict(extra="forbid")
    gates: list[GateSpec] = Field(default_factory=list)


_GATE_LIST = TypeAdapter(list[GateSpec])


def parse_gates(raw: Any, *, source: str = "gates") -> list[Any]:
    """Validate a ``gates:`` list; errors name the YAML path (e.g. ``gates[2].max_drop``)."""
    try:
        return _GATE_LIST.validate_python(raw or [])
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err["loc"])
            problems.append(f"{source}{loc}: {err['msg']}")
        raise ConfigError("invalid gates: " + "; ".join(problems)) from exc


def load_gates_from_suite(path: Path | str) -> list[Any]:
    """Read only the ``gates:`` key of a suite YAML (the rest belongs to the suite schema)."""
    import yaml

    from evalkit import _yaml

    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"suite file not found: {path}")
    try:
        doc = _yaml.load(path.read_text(encoding="utf-8"), source=path) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(_yaml.describe(exc, path)) from None
    if not isinstance(doc, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    return parse_gates(doc.get("gates"), source=f"{path}: gates")
