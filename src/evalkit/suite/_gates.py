"""Gate declarations as they appear in a suite's ``gates:`` list (pydantic, extra=forbid).

A discriminated union on ``kind`` so a typo in a kind or a field is a config error
naming the YAML path, not a silently ignored gate.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
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
    max_increase: float = Field(ge=0, allow_inf_nan=False, description="Relative (0.2 = +20%) or USD, per `mode`.")
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


def check_gate_configs(gates: Sequence[Any], known: Collection[str], *,
                       where: Callable[[int, int], str] | None = None) -> None:
    """Every configuration a gate's ``configs:`` names must be one of ``known`` (the suite's): a
    misspelt name (``configs: [lrage]``) would leave the gate applying to nothing, a vacuous pass.
    ConfigError (exit 2) naming each unknown name, where it is (``where(gate, item)``: file:line
    when known) and the known configurations."""
    where = where or (lambda i, j: f"gates[{i}].configs[{j}]")
    problems = [f"{where(i, j)}: configuration {name!r} is not one of the suite's configurations "
                f"({', '.join(sorted(known)) or 'none'})"
                for i, gate in enumerate(gates) for j, name in enumerate(gate.configs or ())
                if name not in known]
    if problems:
        raise ConfigError("invalid gates: a gate names a configuration the suite does not have, so it would "
                          "check nothing:\n  " + "\n  ".join(problems))


def load_gates_from_suite(path: Path | str, *, known_configs: Collection[str] | None = None) -> list[Any]:
    """Read only the ``gates:`` key of a suite YAML (the rest belongs to the suite schema).

    The configurations the gates name are checked (``check_gate_configs``, with file:line) against
    the file's own ``configs:`` names and ``known_configs`` (e.g. the run's), when either is given."""
    import yaml

    from evalkit import _yaml

    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"suite file not found: {path}")
    try:
        text = path.read_text(encoding="utf-8")
        doc = _yaml.load(text, source=path) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(_yaml.describe(exc, path)) from None
    if not isinstance(doc, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    gates = parse_gates(doc.get("gates"), source=f"{path}: gates")
    own = doc.get("configs")
    named = {c["name"] for c in own if isinstance(c, dict) and isinstance(c.get("name"), str)} \
        if isinstance(own, list) else set()
    if named or known_configs is not None:
        from evalkit.suite._load import _line_of

        tree = yaml.compose(text)

        def where(i: int, j: int) -> str:
            line = _line_of(tree, ("gates", i, "configs", j))
            return f"{path}:{line}: gates[{i}].configs[{j}]" if line else f"{path}: gates[{i}].configs[{j}]"

        check_gate_configs(gates, named | set(known_configs or ()), where=where)
    return gates
