"""The openai provider sends through the SDK's ``client.post`` instead of ``chat.completions.create``
(it skips create()'s per-request param transform and response models). What goes over the wire and
what comes back must be the same: a raw loopback server records both SDK calls' requests."""

from __future__ import annotations

import asyncio
import json

import openai
import pytest
from aiohttp import web

from evalkit.providers._base import Message, ModelRequest
from evalkit.providers._openai import OpenAIProvider

SCHEMA = {"title": "Upgrade decision", "type": "object",
          "properties": {"action": {"type": "string", "enum": ["approve", "deny"]}, "confidence": {"type": "number"}},
          "required": ["action", "confidence"], "additionalProperties": False}

ANSWER = {
    "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "small-2026-01-01",
    "choices": [{"index": 0, "finish_reason": "stop",
                 "message": {"role": "assistant", "content": '{"action": "approve", "confidence": 0.9}'},
                 "logprobs": {"content": [{"token": "{", "logprob": -0.01, "bytes": [123],
                                           "top_logprobs": [{"token": "{", "logprob": -0.01, "bytes": [123]},
                                                            {"token": "The", "logprob": -4.6, "bytes": [84]}]}]}}],
    "usage": {"prompt_tokens": 812, "completion_tokens": 17, "total_tokens": 829,
              "prompt_tokens_details": {"cached_tokens": 512},
              "completion_tokens_details": {"reasoning_tokens": 3}},
}
RATE_HEADERS = {"x-ratelimit-remaining-requests": "99", "x-ratelimit-reset-tokens": "6ms"}

# Headers that name the call site or a per-call value, not the request.
VARYING = {"x-stainless-raw-response", "x-stainless-async"}


def _requests() -> list[ModelRequest]:
    long_history = "\n".join(f"2026-0{1 + i % 9}-1{i % 9} customer: seats → {i} «ünïcode» \"quoted\"" for i in range(200))
    return [
        ModelRequest(provider="openai", model="small",
                     messages=(Message(role="system", content="Decide upgrade requests."),
                               Message(role="user", content=long_history)),
                     params={"temperature": 0, "max_tokens": 300, "seed": 7, "stop": ["\n\n", "END"], "top_p": 0.9},
                     response_schema=SCHEMA, logprobs=True, sample_index=3),
        ModelRequest(provider="openai", model="large", messages=(Message(role="user", content="Add 3 seats?"),),
                     params={"temperature": 0.7, "max_tokens": 50, "n": 1, "presence_penalty": 0.1,
                             "frequency_penalty": 0.2, "logit_bias": {"1734": -100}, "user": "case-17"}),
        ModelRequest(provider="openai", model="small", messages=(Message(role="system", content=""),
                                                                 Message(role="user", content="x" * 20_000)),
                     params={}, response_schema=SCHEMA),
    ]


def _round_trip(strict: bool):
    """What the server saw and what the caller got, by way: the SDK's create() (the reference) and
    the provider, against one server."""
    async def go():
        seen: list[tuple[dict, dict[str, str]]] = []

        async def handle(request: web.Request) -> web.Response:
            seen.append((json.loads(await request.read()), {k.lower(): v for k, v in request.headers.items()}))
            return web.json_response(ANSWER, headers=RATE_HEADERS)

        app = web.Application()
        app.router.add_post("/v1/chat/completions", handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        base = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/v1"
        provider = OpenAIProvider(base_url=base, strict_schema=strict)
        sent: dict[str, list] = {}
        got: dict[str, list] = {}
        try:
            client = openai.AsyncOpenAI(api_key="not-needed", base_url=base, max_retries=0, timeout=60.0)
            got["create"] = [await client.chat.completions.create(**provider._kwargs(r))
                             for r in _requests()]
            await client.close()
            sent["create"] = seen[:]
            seen.clear()
            got["provider"] = [await provider.complete(r) for r in _requests()]
            await provider.aclose()
            sent["provider"] = seen[:]
        finally:
            await runner.cleanup()
        return sent, got

    return asyncio.run(go())


@pytest.mark.parametrize("strict", [False, True])
def test_provider_sends_what_create_sends(strict):
    sent, _got = _round_trip(strict)
    assert len(sent["create"]) == len(sent["provider"]) == len(_requests())
    for (ref_body, ref_headers), (body, headers) in zip(sent["create"], sent["provider"]):
        assert body == ref_body  # the same JSON (create() orders its keys differently)
        drop = VARYING | {k for k in ref_headers if k.startswith("x-stainless-retry")}
        assert {k: v for k, v in headers.items() if k not in drop} == \
            {k: v for k, v in ref_headers.items() if k not in drop}
    assert sent["provider"][0][1]["x-evalkit-sample"] == "3"
    assert sent["provider"][0][0]["response_format"]["json_schema"]["strict"] is strict


def test_provider_reads_what_create_reads():
    _sent, got = _round_trip(False)
    for ref, mine in zip(got["create"], got["provider"]):
        choice = ref.choices[0]
        assert mine.text == choice.message.content
        assert mine.finish_reason == choice.finish_reason
        assert mine.model_version == ref.model
        assert mine.usage.input_tokens == ref.usage.prompt_tokens
        assert mine.usage.output_tokens == ref.usage.completion_tokens
        assert mine.usage.cached_tokens == ref.usage.prompt_tokens_details.cached_tokens
        assert mine.usage.reasoning_tokens == ref.usage.completion_tokens_details.reasoning_tokens
        assert [(t.token, t.logprob) for t in mine.token_logprobs] == \
            [(t.token, t.logprob) for t in choice.logprobs.content]
        assert mine.token_logprobs[0].top == [(x.token, x.logprob) for x in choice.logprobs.content[0].top_logprobs]
        assert mine.rate_limits == RATE_HEADERS
