"""``sim``: the simulated LLM as a provider. Offline, deterministic, labelled simulated.

The model name is one of the task's simulation profiles (``sim-`` prefix optional), or
``judge`` for the simulated LLM judge. The decision domain comes from the ``task`` option
(the suite's task); it must offer a simulated model (evalkit.tasks.SimulatedModel). Usage
is counted from the real prompt and output text with the o200k tokenizer.
"""

from __future__ import annotations

import math
import time
from typing import Any, ClassVar

from evalkit._tokens import count_message_tokens, count_tokens
from evalkit.providers._base import ModelRequest, ModelResponse, TokenLogprob, Usage
from evalkit.tasks import DEFAULT_TASK


def _profile(model: str) -> str:
    return model.removeprefix("sim-")


def prompt_text(request: ModelRequest) -> str:
    return "\n\n".join(m.content for m in request.messages)


def _simulator(task: Any, capability: str = "simulated model") -> Any:
    """``task``: a task name, or the run's task object (bound to the run's catalogue)."""
    from evalkit.tasks import get_task, require_capability

    return require_capability(get_task(task) if isinstance(task, str) else task, capability,
                              needed_by="provider sim")


def sim_respond(request: ModelRequest, *, task: Any = DEFAULT_TASK, seed: int = 0) -> ModelResponse:
    """Answer one request with the simulated model (also used by the loopback server)."""
    started = time.perf_counter()
    text = prompt_text(request)
    if _profile(request.model) == "judge":  # the simulated LLM judge
        judge = _simulator(task, "simulated judge")
        verdict = judge.simulate_judge(text, seed=int(request.params.get("seed", seed)))
        return ModelResponse(text=verdict, usage=Usage(input_tokens=count_message_tokens(request.messages),
                                                       output_tokens=count_tokens(verdict), cached_tokens=0),
                             model_version="sim-judge-2026.11", finish_reason="stop",
                             latency_s=time.perf_counter() - started)
    simulator = _simulator(task)
    answer = simulator.simulate(
        text, profile=_profile(request.model), seed=int(request.params.get("seed", seed)),
        sample_index=request.sample_index, temperature=float(request.params.get("temperature", 0.0)))
    logprobs = _logprobs(answer.text, simulator.label_field, answer.label, answer.label_probability) \
        if request.logprobs else None
    usage = Usage(input_tokens=count_message_tokens(request.messages), output_tokens=count_tokens(answer.text),
                  cached_tokens=0, reasoning_tokens=0)
    return ModelResponse(text=answer.text, usage=usage, model_version=f"sim-{_profile(request.model)}-2026.11",
                         finish_reason="stop", token_logprobs=logprobs, latency_s=time.perf_counter() - started)


def _logprobs(text: str, field: str, label: str | None, probability: float) -> list[TokenLogprob] | None:
    """Token logprobs spelling the whole output, as real APIs return them: the label's value
    carries the model's probability, the surrounding tokens are certain."""
    if not label:
        return None
    at = text.find(f'"{field}": "{label}"')
    if at < 0:
        return None
    start = at + len(f'"{field}": "')
    end = start + len(label)
    return [TokenLogprob(token=text[:start], logprob=0.0),
            TokenLogprob(token=text[start:end], logprob=math.log(probability)),
            TokenLogprob(token=text[end:], logprob=0.0)]


class SimProvider:
    name: ClassVar[str] = "sim"
    simulated: ClassVar[bool] = True
    offline: ClassVar[bool] = True
    requires_task: ClassVar[str] = "simulated model"

    def __init__(self, *, task: Any, seed: int = 0, **_: Any) -> None:
        self.task = task
        self.seed = seed

    def check_model(self, model: str) -> None:
        """Called when the provider is created for a configuration (before anything is planned): a model
        that names no simulation profile of the task is a ConfigError naming the profiles, not a
        provider error on every call of the run."""
        from evalkit.errors import ConfigError

        profiles = list(_simulator(self.task).sim_profiles)
        if _profile(model) not in [*profiles, "judge"]:
            task = getattr(self.task, "name", self.task)
            raise ConfigError(f"model {model!r} is not a simulated model of task {task!r}; profiles: "
                              f"{', '.join(profiles)} (sim- prefix optional), or judge for the LLM judge")

    def price_model(self, model: str) -> str | None:
        """The real model whose bundled list price the simulation is charged at."""
        if _profile(model) == "judge":
            return "gpt-4o-mini"
        profile = _simulator(self.task).sim_profiles.get(_profile(model))
        return getattr(profile, "price_as", None)

    def answer(self, request: ModelRequest) -> ModelResponse:
        """The answer, computed (a pure function of the request: evalkit.run may compute it in a worker)."""
        return sim_respond(request, task=self.task, seed=self.seed)

    async def complete(self, request: ModelRequest) -> ModelResponse:
        return self.answer(request)

    async def aclose(self) -> None:
        return None
