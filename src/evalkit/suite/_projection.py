"""What a projection needs to know about production: volume, segment mix, bootstrap, what-ifs.

Read from the suite's ``projection:`` section (recorded in the run manifest), a ``--mix`` file,
or built in code. Validation errors name the file and the key.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from evalkit.errors import ConfigError
from evalkit.suite._seed import SEED_MAX

MIX_TOLERANCE = 1e-3
"""Shares may be written with a few decimals; more drift than this is a typo, not rounding."""


class ContextCap(BaseModel):
    """What-if: keep at most ``turns`` most-recent history turns and/or ``tokens`` history tokens."""

    model_config = ConfigDict(extra="forbid")
    turns: int | None = Field(None, ge=0)
    tokens: int | None = Field(None, ge=0)

    @model_validator(mode="after")
    def _one_limit(self) -> ContextCap:
        if self.turns is None and self.tokens is None:
            raise ValueError("a context cap needs `turns` or `tokens` (or both)")
        return self

    @property
    def label(self) -> str:
        parts = []
        if self.turns is not None:
            parts.append(f"turns<={self.turns}")
        if self.tokens is not None:
            parts.append(f"tokens<={self.tokens}")
        return ",".join(parts)


class ProjectionSpec(BaseModel):
    """Production assumptions for ``project_run``. All shares are of monthly case volume."""

    model_config = ConfigDict(extra="forbid")

    volume_per_month: int = Field(..., gt=0, description="Cases per month in production.")
    mix: dict[str, float] = Field(..., description="Production share of each segment; >=0, sums to 1.")
    resamples: int = Field(1000, ge=50, description="Ignored: every interval is analytic (docs/projection.md); "
                           "accepted so that earlier suites and the runs made with them still load.")
    seed: int = Field(0, ge=0, le=SEED_MAX, description="Seed for the monthly-spend Monte Carlo; recorded in "
                      "projection.json.")
    min_cases_per_segment: int = Field(
        30, ge=1, description="A segment with production share > 0 and fewer cases is flagged."
    )
    naive_typical_cases: int = Field(
        5, ge=1, description="How many typical cases the naive cost projection averages."
    )
    naive_segment: str | None = Field(None, description=(
        "Segment the naive projection's typical cases come from [default: the most common segment in the run]."))
    months_simulated: int = Field(2000, ge=100, description="Monte Carlo months for the monthly-spend tail.")
    context_caps: list[ContextCap] = Field(default_factory=list, description="Context-cap what-ifs.")
    threshold_source: Literal["auto", "calibrated", "fixed", "value_optimal"] = Field(
        "auto",
        description="auto: thresholds.json when present else the value-optimal threshold; "
        "fixed: `threshold` for every config.",
    )
    threshold: float | None = Field(None, ge=0, le=1, description="Used when threshold_source is 'fixed'.")
    outcome: Literal["good", "correct"] | None = Field(
        None, description="What counts as an automated error; None: thresholds.json's outcome, else good."
    )
    curve_points: int = Field(101, ge=2, le=1001, description="Evenly spaced thresholds in [0,1] for the curve.")

    @field_validator("mix")
    @classmethod
    def _valid_mix(cls, mix: dict[str, float]) -> dict[str, float]:
        if not mix:
            raise ValueError("mix is empty: give the production share of at least one segment")
        bad = [f"{k}={v}" for k, v in mix.items() if not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0)]
        if bad:
            raise ValueError(f"shares must be finite and >= 0: {', '.join(bad)}")
        total = sum(mix.values())
        if abs(total - 1.0) > MIX_TOLERANCE:
            raise ValueError(
                f"shares sum to {total:.6g}, not 1 (segments: {', '.join(sorted(mix))})"
            )
        return {k: float(v) for k, v in mix.items()}

    @model_validator(mode="after")
    def _fixed_needs_threshold(self) -> ProjectionSpec:
        if self.threshold_source == "fixed" and self.threshold is None:
            raise ValueError("threshold_source 'fixed' needs `threshold`")
        return self


def _format_errors(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
        parts.append(f"{loc}: {err['msg']}")
    return "; ".join(parts)


def build_spec(data: dict[str, Any], *, where: str) -> ProjectionSpec:
    """Validate a projection mapping; ``where`` names its origin (file or 'suite projection')."""
    try:
        return ProjectionSpec.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{where}: invalid projection: {_format_errors(exc)}") from exc


def _read_mapping(path: Path) -> Any:
    if not path.exists():
        raise ConfigError(f"{path}: mix file not found")
    text = path.read_text(encoding="utf-8")
    try:
        if path.suffix.lower() == ".json":
            return json.loads(text)
        from evalkit import _yaml

        return _yaml.load(text, source=path)
    except Exception as exc:  # yaml and json raise different types; both mean "not parseable"
        raise ConfigError(f"{path}: cannot parse mix file: {exc}") from exc


def load_mix_file(path: Path | str) -> dict[str, Any]:
    """Read ``--mix FILE`` (YAML or JSON).

    Either ``{segment: share, ...}`` or ``{mix: {...}, volume_per_month: N}``. Returns a dict with
    ``mix`` and optionally ``volume_per_month``, validated; errors name the file and key.
    """
    path = Path(path)
    raw = _read_mapping(path)
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: a mix file must be a mapping of segment -> share")
    out: dict[str, Any] = {}
    if "mix" in raw:
        extra = sorted(set(raw) - {"mix", "volume_per_month"})
        if extra:
            raise ConfigError(f"{path}: unknown key(s) {extra}; expected `mix` and optional `volume_per_month`")
        mix = raw["mix"]
        if "volume_per_month" in raw:
            vol = raw["volume_per_month"]
            if not isinstance(vol, int) or isinstance(vol, bool) or vol <= 0:
                raise ConfigError(f"{path}: key `volume_per_month` must be a positive integer, got {vol!r}")
            out["volume_per_month"] = vol
        key_prefix = "mix."
    else:
        mix, key_prefix = raw, ""
    if not isinstance(mix, dict):
        raise ConfigError(f"{path}: key `{key_prefix.rstrip('.') or 'mix'}` must map segment -> share")
    for seg, share in mix.items():
        if isinstance(share, bool) or not isinstance(share, (int, float)) or not math.isfinite(share) or share < 0:
            raise ConfigError(f"{path}: key `{key_prefix}{seg}` must be a share >= 0, got {share!r}")
    total = float(sum(mix.values()))
    if not mix or abs(total - 1.0) > MIX_TOLERANCE:
        raise ConfigError(f"{path}: shares under `{key_prefix or '(top level)'}` sum to {total:.6g}, not 1")
    out["mix"] = {str(k): float(v) for k, v in mix.items()}
    return out


def load_sweep_file(path: Path | str) -> dict[str, Any] | list[float]:
    """Read ``--thresholds FILE``: a thresholds.json-shaped mapping (``configs``) or a list of thresholds.

    A list (or ``{thresholds: [...]}``) is a sweep; a mapping with ``configs`` is a per-config policy.
    """
    path = Path(path)
    raw = _read_mapping(path)
    if isinstance(raw, dict) and "thresholds" in raw and "configs" not in raw:
        raw = raw["thresholds"]
    if isinstance(raw, list):
        for i, t in enumerate(raw):
            if isinstance(t, bool) or not isinstance(t, (int, float)) or not 0 <= t <= 1:
                raise ConfigError(f"{path}: thresholds[{i}] must be a number in [0, 1], got {t!r}")
        if not raw:
            raise ConfigError(f"{path}: the threshold list is empty")
        return sorted({float(t) for t in raw})
    if isinstance(raw, dict) and isinstance(raw.get("configs"), dict):
        return raw
    raise ConfigError(f"{path}: expected a list of thresholds, {{thresholds: [...]}}, or a thresholds.json")
