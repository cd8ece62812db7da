"""litellm classifies the faults the native providers classify, one rule per fault (docs/providers.md):
an answer litellm cannot read (Anthropic without ``usage``) is ``bad_response`` and possibly billed,
never a ``connection`` error with litellm's traceback in its message; a 429 ``insufficient_quota`` is
``quota_exceeded`` (final); a connection dropped mid-answer on the Anthropic route is ``connection``
(possibly billed), not a 500 ``server_error``. Real litellm over real HTTP against loopback servers."""

from __future__ import annotations

import asyncio
import contextlib
import json
import warnings
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiohttp import web
from providerhelpers import records_of_a_failing_call

from evalkit.providers._anthropic import AnthropicProvider
from evalkit.providers._base import Message, ModelRequest
from evalkit.providers._errors import ProviderError
from evalkit.providers._litellm import LiteLLMProvider, clean_message
from evalkit.providers._openai import OpenAIProvider
from evalkit.run._retry import classify
from evalkit.testing import FaultPlan, LoopbackServer, echo_responder, request_key

Handler = Callable[[str, dict[str, Any]], tuple[int, Any]]


@contextlib.asynccontextmanager
async def canned(handler: Handler) -> AsyncIterator[str]:
    """A loopback server on 127.0.0.1 answering ``/v1/chat/completions`` and ``/v1/messages`` with
    ``handler(route, body) -> (status, json)``: for faults ``evalkit.testing.LoopbackServer`` does not
    inject (a body without usage, a 429 insufficient_quota)."""
    async def serve(request: web.Request) -> web.Response:
        route = "anthropic" if request.path.endswith("/messages") else "openai"
        status, payload = handler(route, await request.json())
        return web.json_response(payload, status=status)

    app = web.Application()
    app.router.add_post("/v1/chat/completions", serve)
    app.router.add_post("/v1/messages", serve)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


def _answer(route: str, body: dict[str, Any], *, usage: bool = True) -> dict[str, Any]:
    text = json.dumps({"action": "approve", "confidence": 0.9})
    if route == "anthropic":
        out: dict[str, Any] = {"id": "msg_1", "type": "message", "role": "assistant", "model": body["model"],
                               "content": [{"type": "text", "text": text}], "stop_reason": "end_turn",
                               "stop_sequence": None, "usage": {"input_tokens": 12, "output_tokens": 7}}
    else:
        out = {"id": "c1", "object": "chat.completion", "created": 1, "model": body["model"],
               "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
               "usage": {"prompt_tokens": 12, "completion_tokens": 7, "total_tokens": 19}}
    if not usage:
        del out["usage"]
    return out


def _request(model: str, n: int = 0) -> ModelRequest:
    return ModelRequest(provider="x", model=model, params={"max_tokens": 50},
                        messages=(Message(role="user", content=f"Customer {n} asks to add seats."),))


def _providers(url: str) -> dict[str, tuple[Any, str]]:
    return {"anthropic": (AnthropicProvider(base_url=url), "claude-haiku-4-5"),
            "openai": (OpenAIProvider(base_url=url + "/v1"), "gpt-4o-mini"),
            "litellm-anthropic": (LiteLLMProvider(base_url=url), "anthropic/claude-haiku-4-5"),
            "litellm-openai": (LiteLLMProvider(base_url=url + "/v1"), "openai/gpt-4o-mini")}


def _outcomes(handler: Handler) -> dict[str, Any]:
    """Each provider's answer or ProviderError for one request to a canned server."""
    async def go() -> dict[str, Any]:
        out: dict[str, Any] = {}
        async with canned(handler) as url:
            for name, (prov, model) in _providers(url).items():
                try:
                    out[name] = await prov.complete(_request(model))
                except ProviderError as exc:
                    out[name] = exc
                finally:
                    await prov.aclose()
        return out

    return asyncio.run(go())


def test_anthropic_answer_without_usage_is_a_bad_response_without_traceback():
    got = _outcomes(lambda route, body: (200, _answer(route, body, usage=False)))
    assert got["anthropic"].usage is None  # native: an answer whose usage is unknown
    err = got["litellm-anthropic"]  # litellm cannot build its answer without usage
    assert isinstance(err, ProviderError), err
    assert err.kind == "bad_response" and err.retryable and err.status is None, err
    text = str(err)
    assert "Traceback" not in text and "File " not in text and "\n" not in text, text
    assert "usage" in text
    failure = classify(err)  # what the executor records: no usage came back, possibly billed
    assert failure.possibly_billed and failure.usage is None
    assert "Traceback" not in failure.message
    assert got["litellm-openai"].usage is None  # litellm's zero usage stays unknown


def test_insufficient_quota_is_final_on_every_route():
    body = {"error": {"message": "You exceeded your current quota", "type": "insufficient_quota",
                      "code": "insufficient_quota"}}
    got = _outcomes(lambda route, _: (429, body))
    for name, err in got.items():
        assert isinstance(err, ProviderError), name
        assert err.kind == "quota_exceeded" and not err.retryable, (name, err.kind, str(err))
        assert err.status == 429, name


def test_plain_429_is_still_rate_limited():
    body = {"error": {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}}
    got = _outcomes(lambda route, _: (429, body))
    assert {name: err.kind for name, err in got.items()} == dict.fromkeys(got, "rate_limited")


@pytest.mark.parametrize("fault", ["drop", "truncate"])
@pytest.mark.parametrize("route", ["anthropic", "openai"])
def test_litellm_connection_dropped_mid_answer_is_possibly_billed(route, fault):
    model = "anthropic/small" if route == "anthropic" else "openai/small"
    req = _request(model)

    async def go() -> ProviderError:
        plan = FaultPlan(schedule={request_key(req.model_copy(update={"model": "small"})): (fault,)})
        async with LoopbackServer(responder=echo_responder, faults=plan) as srv:
            prov = LiteLLMProvider(base_url=srv.base_url if route == "anthropic" else srv.openai_base_url)
            with pytest.raises(ProviderError) as err:
                await prov.complete(req)
            assert srv.log[0].fault == fault  # the fault was served
            return err.value

    err = asyncio.run(go())
    assert err.kind == "connection" and err.status is None, (err.kind, err.status, str(err))
    assert err.sent is not False
    assert classify(err).possibly_billed


def test_fake_server_content_length_drop_is_a_connection():
    """The tester's server: headers promise 5000 bytes, 38 arrive, the socket closes."""
    async def go() -> ProviderError:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            while (await reader.readline()) not in (b"\r\n", b""):
                pass
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n"
                         b'{"id": "msg_x", "content": [{"ind')
            await writer.drain()
            writer.close()

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            with pytest.raises(ProviderError) as err:
                await LiteLLMProvider(base_url=f"http://127.0.0.1:{port}").complete(
                    _request("anthropic/claude-haiku-4-5"))
        finally:
            server.close()
        return err.value

    err = asyncio.run(go())
    assert err.kind == "connection", (err.kind, str(err))
    assert classify(err).possibly_billed


def test_clean_message_drops_tracebacks_and_prefixes():
    raw = ("litellm.APIConnectionError: 'usage'\nTraceback (most recent call last):\n  File \"x.py\", line 1\n"
           "KeyError: 'usage'\n\nThis looks like a bug in LiteLLM")
    assert clean_message(raw) == "'usage'"
    assert clean_message("\n\nlitellm.RateLimitError: RateLimitError: slow down") == "RateLimitError: slow down"


@pytest.mark.parametrize("route", ["openai", "anthropic", "litellm-openai", "litellm-anthropic"])
def test_a_200_without_an_answer_is_a_possibly_billed_bad_response_on_every_route(route, home, tmp_path):
    """A 200 with ``usage`` but no ``choices`` (OpenAI) or no ``content`` (Anthropic), the loopback's
    ``no_choices`` fault. litellm's openai route booked it as ``server_error`` "HTTP 500 ... provider returned
    a response with no 'choices'", cost $0.0 with nothing billed; the native providers book a possibly
    billed ``bad_response``. Every route now does: not a 500. The native providers book the usage the body
    reports (they used to count the worst case); litellm does not hand back the body's usage, so its worst
    case is counted: cost is unknown, never a known $0, and covers what was billed."""
    from evalkit.pricing import call_cost, lookup_price
    from evalkit.providers._base import Usage

    model = {"openai": "gpt-4o-mini", "anthropic": "claude-haiku-4-5", "litellm-openai": "openai/gpt-4o-mini",
             "litellm-anthropic": "anthropic/claude-haiku-4-5"}[route]
    req = _request(model)

    async def go() -> tuple[list[Any], list[Any]]:
        plan = FaultPlan(kinds=("no_choices",), first_attempts=99)
        async with LoopbackServer(responder=echo_responder, faults=plan) as srv:
            openai_like = route.endswith("openai")
            base = srv.openai_base_url if openai_like else srv.base_url
            provider = (OpenAIProvider(base_url=base) if route == "openai" else AnthropicProvider(base_url=base)
                        if route == "anthropic" else LiteLLMProvider(base_url=base))
            records = await records_of_a_failing_call(provider, req, tmp_path / "run", max_attempts=1)
            return records, list(srv.log)

    records, log = asyncio.run(go())
    assert [(h.status, h.fault) for h in log] == [(200, "no_choices")]
    assert log[0].usage_reported, "the fault must report usage: the answer was generated and billed"
    [rec] = records
    message = rec.error_message or ""
    assert rec.status == "failed" and rec.error_class == "bad_response", (rec.error_class, message)
    assert not message.startswith("HTTP") and "HTTP 500" not in message, message
    assert message.startswith(("unreadable response", "response has no choices")), message
    assert "Traceback" not in message and "\n" not in message
    billed = call_cost(Usage(**log[0].billed), lookup_price(model.split("/")[-1]))
    assert billed
    if route.startswith("litellm"):  # litellm does not hand back the body's usage: the worst case is counted
        assert rec.possibly_billed_attempts == 1 and not rec.billed_usage
        assert rec.cost_usd is None  # unknown, never a known $0
        assert rec.possibly_billed_usd is not None and rec.possibly_billed_usd >= billed
    else:  # the native providers read the usage the body reports: the call's cost is known
        assert rec.billed_usage and rec.possibly_billed_attempts == 0
        assert rec.cost_usd == pytest.approx(billed)


@pytest.mark.parametrize("choices", [None, {}, "x", 3])
def test_litellm_openai_choices_that_are_not_a_list_are_a_bad_response(choices):
    """litellm's other message for the same fault ("returned 'choices' that is not a list")."""
    def handler(route: str, body: dict[str, Any]) -> tuple[int, Any]:
        return 200, {**_answer(route, body), "choices": choices}

    async def go() -> Any:
        async with canned(handler) as url:
            prov = LiteLLMProvider(base_url=url + "/v1")
            try:
                return await prov.complete(_request("openai/gpt-4o-mini"))
            except ProviderError as exc:
                return exc
            finally:
                await prov.aclose()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # litellm's pydantic dump of the odd body
        err = asyncio.run(go())
    assert isinstance(err, ProviderError) and err.kind == "bad_response" and err.status is None, err
    assert "'choices' that is not a list" in str(err) and "litellm.APIError" not in str(err), str(err)
    assert classify(err).possibly_billed
