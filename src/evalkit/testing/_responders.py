"""Responders: the brain behind the loopback server (request in, response out)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

from evalkit.providers import ModelRequest, ModelResponse, TokenLogprob, Usage

Responder = Callable[[ModelRequest], ModelResponse]

_ACTIONS = ("approve", "deny", "escalate", "counter_offer")


def approx_tokens(text: str) -> int:
    """~4 characters per token: what the echo responder bills (deterministic, no tokenizer)."""
    return max(1, (len(text) + 3) // 4)


def echo_responder(request: ModelRequest) -> ModelResponse:
    """A trivial deterministic model: the decision is a hash of the conversation and
    sample index. Reports cached and reasoning tokens so every usage field is exercised."""
    convo = "\n".join(f"{m.role}:{m.content}" for m in request.messages)
    digest = hashlib.sha256(f"{convo}|{request.sample_index}".encode()).digest()
    action = _ACTIONS[digest[0] % len(_ACTIONS)]
    confidence = round(0.5 + digest[1] / 510, 3)
    text = json.dumps({"action": action, "confidence": confidence})
    n_in = sum(approx_tokens(m.content) + 4 for m in request.messages)
    n_out = approx_tokens(text)
    logprobs = None
    if request.logprobs:
        lp = -round((1 - confidence) * 2, 4)
        logprobs = [TokenLogprob(token=action, logprob=lp,
                                 top=[(action, lp)] + [(a, lp - 2.0) for a in _ACTIONS if a != action][:2])]
    return ModelResponse(
        text=text,
        usage=Usage(input_tokens=n_in, output_tokens=n_out, cached_tokens=n_in // 2,
                    cache_write_tokens=0, reasoning_tokens=0),
        model_version=f"{request.model.split('/')[-1]}-loopback",
        finish_reason="stop",
        token_logprobs=logprobs,
    )


def default_responder() -> Responder:
    """The sim brain: the loopback server answers like the simulated provider."""
    from evalkit.providers import sim_respond

    return sim_respond


def memoized(responder: Responder) -> Responder:
    """``responder`` answering each distinct request once, then from memory: a benchmark's server
    (after a warm-up pass) then costs the client nothing but the wire, whatever the brain costs."""
    answers: dict[str, ModelResponse] = {}

    def respond(request: ModelRequest) -> ModelResponse:
        key = request.model_dump_json()
        if key not in answers:
            answers[key] = responder(request)
        return answers[key]

    return respond
