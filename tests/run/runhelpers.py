from __future__ import annotations

from evalkit.providers._base import Message, ModelRequest
from evalkit.run._records import ExecutionOptions, PlannedCall
from evalkit.run._retry import RetryPolicy

SCHEMA = {"type": "object", "properties": {"action": {"type": "string"}, "confidence": {"type": "number"}},
          "required": ["action", "confidence"]}
FAST_RETRY = RetryPolicy(base_s=0.005, cap_s=0.05)


def make_calls(n: int, *, config: str = "cfg", provider: str = "openai", model: str = "gpt-4o-mini",
               samples: int = 1, tag: str = "", endpoint: str | None = None) -> list[PlannedCall]:
    calls = []
    for i in range(n):
        for s in range(samples):
            req = ModelRequest(
                provider=provider, model=model,
                messages=(Message(role="system", content="Decide the upgrade request."),
                          Message(role="user", content=f"case {tag}{i}: customer asks to upgrade plan {i % 7}")),
                params={"temperature": 0, "max_tokens": 200}, response_schema=SCHEMA, sample_index=s,
                endpoint=endpoint, template_version="t1")
            calls.append(PlannedCall(config=config, case_id=f"case-{i:04d}", segment=f"seg{i % 3}",
                                     sample_index=s, request=req, est_input_tokens=40, est_output_tokens=12,
                                     max_output_tokens=200))
    return calls


def opts(**kw) -> ExecutionOptions:
    base = {"concurrency": 8, "max_attempts": 6, "timeout_s": 5.0, "progress": False}
    base.update(kw)
    return ExecutionOptions(**base)


def run(coro):
    import asyncio

    return asyncio.run(coro)
