"""``rules``: the written policy as code, a non-LLM baseline. Offline; costs nothing
(its price is a known zero, not an unknown)."""

from __future__ import annotations

import time
from typing import Any, ClassVar

from evalkit.providers._base import ModelRequest, ModelResponse, Usage
from evalkit.providers._sim import prompt_text


class RulesProvider:
    name: ClassVar[str] = "rules"
    simulated: ClassVar[bool] = False
    offline: ClassVar[bool] = True
    free: ClassVar[bool] = True
    """Its price is a known zero (no model call), not an unknown."""
    requires_task: ClassVar[str] = "rules baseline"

    def __init__(self, *, task: Any, **_: Any) -> None:
        self.task = task
        """A task name, or the run's task object (bound to the run's catalogue)."""

    def price_model(self, model: str) -> str | None:
        return None

    async def complete(self, request: ModelRequest) -> ModelResponse:
        return self.answer(request)

    def answer(self, request: ModelRequest) -> ModelResponse:
        """The rules' decision (a pure function of the request: evalkit.run may compute it in a worker)."""
        from evalkit.tasks import get_task, require_capability

        started = time.perf_counter()
        task = get_task(self.task) if isinstance(self.task, str) else self.task
        rules = require_capability(task, "rules baseline", needed_by="provider rules")
        text = rules.rules_decide(prompt_text(request))
        return ModelResponse(text=text, usage=Usage(input_tokens=0, output_tokens=0, cached_tokens=0),
                             model_version="rules-written-policy", finish_reason="stop",
                             latency_s=time.perf_counter() - started)

    async def aclose(self) -> None:
        return None
