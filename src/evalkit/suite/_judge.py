"""``scoring.judge`` of a suite: which model grades each decision, with which rubric."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from evalkit.suite._params import check_params


class JudgeSpec(BaseModel):
    """``scoring.judge`` in the suite YAML: which model grades, with which rubric prompt."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    provider: str
    model: str
    prompt: Path | None = None
    """Path of a rubric/instructions template file (relative to the suite)."""
    template: str | None = None
    """Inline rubric/instructions text (instead of ``prompt``)."""
    params: dict[str, Any] = Field(default_factory=lambda: {"temperature": 0})
    options: dict[str, Any] = Field(default_factory=dict)
    """Provider-specific options (endpoint, structured output...)."""
    endpoint: str | None = None

    _sensible_params = field_validator("params")(check_params)

    @model_validator(mode="after")
    def _one_prompt(self) -> JudgeSpec:
        if self.prompt is not None and self.template is not None:
            raise ValueError("give either 'prompt' (a file) or 'template' (inline text), not both")
        return self
