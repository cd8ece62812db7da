"""``sim``: the simulated LLM as a provider. Offline, deterministic, labelled simulated.

The model name is a profile (``small`` or ``large``, also accepted as ``sim-small``), or
``judge`` for the simulated LLM judge;
the decision domain comes from the ``task`` option (default ``upgrades``). Usage is
counted from the real prompt and output text with the o200k tokenizer.
"""

from __future__ import annotations

import math
import time
from typing import Any, ClassVar

from evalkit._tokens import count_message_tokens, count_tokens
from evalkit.providers._base import ModelRequest, ModelResponse, TokenLogprob, Usage


def _profile(model: str) -> str:
    return model.removeprefix("sim-")


def prompt_text(request: ModelRequest) -> str:
    return "\n\n".join(m.content for m in request.messages)


def sim_respond(request: ModelRequest, *, task: str = "upgrades", seed: int = 0) -> ModelResponse:
    """Answer one request with the simulated model (also used by the loopback server)."""
    from evalkit.tasks import get_task

    started = time.perf_counter()
    text = prompt_text(request)
    if _profile(request.model) == "judge":  # the simulated LLM judge
        verdict = get_task(task).simulate_judge(text, seed=int(request.params.get("seed", seed)))  # type: ignore[attr-defined]
        return ModelResponse(text=verdict, usage=Usage(input_tokens=count_message_tokens(request.messages),
                                                       output_tokens=count_tokens(verdict), cached_tokens=0),
                             model_version="sim-judge-2026.11", finish_reason="stop",
                             latency_s=time.perf_counter() - started)
    answer = get_task(task).simulate(  # type: ignore[attr-defined]
        text, profile=_profile(request.model), seed=int(request.params.get("seed", seed)),
        sample_index=request.sample_index, temperature=float(request.params.get("temperature", 0.0)))
    logprobs = _logprobs(answer.text, answer.action, answer.action_probability) if request.logprobs else None
    usage = Usage(input_tokens=count_message_tokens(request.messages), output_tokens=count_tokens(answer.text),
                  cached_tokens=0, reasoning_tokens=0)
    return ModelResponse(text=answer.text, usage=usage, model_version=f"sim-{_profile(request.model)}-2026.11",
                         finish_reason="stop", token_logprobs=logprobs, latency_s=time.perf_counter() - started)


def _logprobs(text: str, action: str | None, probability: float) -> list[TokenLogprob] | None:
    """Token logprobs spelling the whole output, as real APIs return them: the action value
    carries the model's probability, the surrounding tokens are certain."""
    if not action:
        return None
    at = text.find(f'"action": "{action}"')
    if at < 0:
        return None
    start = at + len('"action": "')
    end = start + len(action)
    return [TokenLogprob(token=text[:start], logprob=0.0),
            TokenLogprob(token=text[start:end], logprob=math.log(probability)),
            TokenLogprob(token=text[end:], logprob=0.0)]


class SimProvider:
    name: ClassVar[str] = "sim"
    simulated: ClassVar[bool] = True
    offline: ClassVar[bool] = True

    def __init__(self, *, task: str = "upgrades", seed: int = 0, **_: Any) -> None:
        self.task = task
        self.seed = seed

    def price_model(self, model: str) -> str | None:
        """The real model whose bundled list price the simulation is charged at."""
        from evalkit.tasks.upgrades import PROFILES

        if _profile(model) == "judge":
            return "gpt-4o-mini"
        profile = PROFILES.get(_profile(model))
        return profile.price_as if profile else None

    async def complete(self, request: ModelRequest) -> ModelResponse:
        return sim_respond(request, task=self.task, seed=self.seed)

    async def aclose(self) -> None:
        return None
