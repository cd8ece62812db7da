"""The real openai, anthropic and litellm clients against the loopback server give
the same answers and usage as calling the responder in-process; SDK errors become
classified ProviderErrors with status and Retry-After."""

from __future__ import annotations

import asyncio
import json

import pytest

from evalkit.providers._anthropic import AnthropicProvider
from evalkit.providers._base import Message, ModelRequest
from evalkit.providers._errors import ProviderError
from evalkit.providers._litellm import LiteLLMProvider
from evalkit.providers._openai import OpenAIProvider
from evalkit.testing import FaultPlan, LoopbackServer, echo_responder, request_key

SCHEMA = {"type": "object", "properties": {"action": {"type": "string"}, "confidence": {"type": "number"}},
          "required": ["action", "confidence"]}


def _responders():
    out = [pytest.param(echo_responder, id="echo")]
    try:
        from evalkit.providers._sim import sim_respond
    except ImportError:  # the lead's sim brain not present in this tree
        return out
    return out + [pytest.param(sim_respond, id="sim")]


def _requests(model: str, n: int = 6) -> list[ModelRequest]:
    return [ModelRequest(provider="x", model=model,
                         messages=(Message(role="system", content="You decide subscription upgrade requests."),
                                   Message(role="user", content=f"Customer {i} on plan basic asks to add {i + 1} seats.")),
                         params={"temperature": 0, "max_tokens": 300}, response_schema=SCHEMA,
                         logprobs=True, sample_index=i % 2) for i in range(n)]


def _decision(text: str):
    try:
        return json.loads(text)
    except ValueError:  # the sim sometimes answers in prose, like a real model
        return text


def _clients(srv):
    return {
        "openai": (OpenAIProvider(base_url=srv.openai_base_url), "small"),
        "openai-aiohttp": (OpenAIProvider(base_url=srv.openai_base_url, http_client="aiohttp"), "small"),
        "anthropic": (AnthropicProvider(base_url=srv.base_url), "small"),
        "litellm-openai": (LiteLLMProvider(base_url=srv.openai_base_url), "openai/small"),
        "litellm-anthropic": (LiteLLMProvider(base_url=srv.base_url), "anthropic/small"),
    }


@pytest.mark.parametrize("responder", _responders())
def test_clients_match_in_process(responder):
    async def go():
        async with LoopbackServer(responder=responder) as srv:
            results = {}
            for name, (prov, model) in _clients(srv).items():
                reqs = _requests(model)
                results[name] = await asyncio.gather(*(prov.complete(r) for r in reqs))
                await prov.aclose()
            return results

    results = asyncio.run(go())
    expected = [responder(r) for r in _requests("small")]
    for name, got in results.items():
        for want, have in zip(expected, got):
            # decisions equal (anthropic tool_use round-trips the JSON object)
            assert _decision(have.text) == _decision(want.text), name
            assert have.usage.input_tokens == want.usage.input_tokens, name
            assert have.usage.output_tokens == want.usage.output_tokens, name
            assert (have.usage.cached_tokens or 0) == (want.usage.cached_tokens or 0), name
            assert have.model_version == want.model_version, name
            if name in ("openai", "openai-aiohttp", "litellm-openai") and want.token_logprobs:
                assert have.token_logprobs[0].token == want.token_logprobs[0].token
                assert have.token_logprobs[0].logprob == pytest.approx(want.token_logprobs[0].logprob)


def test_anthropic_usage_converted_to_openai_convention():
    from evalkit.providers._anthropic import usage_from_anthropic

    u = usage_from_anthropic({"input_tokens": 17, "cache_read_input_tokens": 4, "cache_creation_input_tokens": 3,
                              "output_tokens": 5})
    assert (u.input_tokens, u.cached_tokens, u.cache_write_tokens, u.output_tokens) == (24, 4, 3, 5)


def _one_fault(kind: str, provider: str, **srv_kw):
    req = _requests("openai/small" if provider == "litellm" else "small", 1)[0]

    async def go():
        sched = FaultPlan(schedule={request_key(req): (kind,)})
        async with LoopbackServer(responder=echo_responder, faults=sched, retry_after_s=1.5, **srv_kw) as srv:
            prov = {"openai": OpenAIProvider(base_url=srv.openai_base_url, timeout_s=0.5),
                    "openai-aiohttp": OpenAIProvider(base_url=srv.openai_base_url, timeout_s=0.5,
                                                     http_client="aiohttp"),
                    "anthropic": AnthropicProvider(base_url=srv.base_url, timeout_s=0.5),
                    "litellm": LiteLLMProvider(base_url=srv.openai_base_url, timeout_s=0.5)}[provider]
            try:
                with pytest.raises(ProviderError) as err:
                    await prov.complete(req)
                ok = await prov.complete(req)  # the schedule faults attempt 0 only
            finally:
                await prov.aclose()
            return err.value, ok

    return asyncio.run(go())


@pytest.mark.parametrize("provider", ["openai", "openai-aiohttp", "anthropic", "litellm"])
@pytest.mark.parametrize("fault,kind,retryable,status", [
    ("429", "rate_limited", True, 429),
    ("529", "overloaded", True, None),
    ("500", "server_error", True, 500),
    ("400", "client_error", False, 400),
    ("drop", "connection", True, None),
    ("truncate", "connection", True, None),
    ("nonjson", "bad_response", True, None),
    ("no_choices", "bad_response", True, None),  # a 200 with usage but no answer: litellm said HTTP 500
])
def test_fault_classification(provider, fault, kind, retryable, status):
    err, ok = _one_fault(fault, provider)
    if provider == "litellm" and fault == "529":
        assert err.kind in ("overloaded", "server_error")  # litellm maps 529 to 500
    else:
        assert err.kind == kind, err
    assert err.retryable is retryable
    if status is not None:
        assert err.status == status
    if fault == "429" and provider != "litellm":
        assert err.retry_after_s == pytest.approx(1.5)
    assert ok.text  # the next attempt answers


@pytest.mark.parametrize("provider", ["openai", "openai-aiohttp"])
def test_timeout_is_classified(provider):
    err, _ = _one_fault("slow", provider, slow_s=1.0)
    assert err.kind == "timeout" and err.retryable


def test_billed_500_reports_usage():
    for provider in ("openai", "openai-aiohttp", "anthropic"):
        err, ok = _one_fault("500_billed", provider)
        assert err.usage is not None and err.usage.input_tokens == ok.usage.input_tokens


def test_quota_429_is_not_retryable():
    from evalkit.providers._errors import kind_for_status

    assert kind_for_status(429, "insufficient_quota", "insufficient_quota") == "quota_exceeded"
    assert kind_for_status(429, None, "rate_limit_error") == "rate_limited"
    assert kind_for_status(529, None, None) == "overloaded"


def test_missing_key_without_base_url_fails_at_call_not_construction(monkeypatch):
    monkeypatch.delenv("NOPE_KEY", raising=False)
    prov = OpenAIProvider(api_key_env="NOPE_KEY")  # constructing is fine: --replay needs no key
    with pytest.raises(ProviderError, match="NOPE_KEY is not set") as err:
        asyncio.run(prov.complete(_requests("gpt-4o-mini", 1)[0]))
    assert err.value.kind == "auth_error" and not err.value.retryable


@pytest.mark.parametrize("cls", [OpenAIProvider, AnthropicProvider, LiteLLMProvider])
def test_unknown_option_is_a_config_error(cls):
    from evalkit.errors import ConfigError

    with pytest.raises(ConfigError, match="unknown option.*base_ulr"):
        cls(base_ulr="http://127.0.0.1:1")


@pytest.mark.parametrize("cls", [OpenAIProvider, AnthropicProvider, LiteLLMProvider])
@pytest.mark.parametrize("option,value,needle", [
    ("timeout_s", "abc", "valid number"),
    ("timeout_s", -1, "greater than 0"),
    ("timeout_s", 0, "greater than 0"),
    ("base_url", "htp:/nonsense", "http:// or https://"),
    ("base_url", "http://", "http:// or https://"),
    ("base_url", "http://127.0.0.1:notaport/v1", "not a URL"),
    ("api_key_env", "sk-live-123", "NAME of an environment variable"),
    ("structured_output", "maybe", "structured_output"),
    ("base_url", "http://127.0.0.1:9/v1?tenant=42", "query"),  # the SDKs appended their path after the query
    ("base_url", "http://127.0.0.1:9/v1 ", "whitespace"),
])
def test_bad_option_value_is_a_config_error_naming_it(cls, option, value, needle):
    """A wrong option fails where the provider is created (exit 2 before any call), not as a TypeError or
    a negative timeout on every call."""
    from evalkit.errors import ConfigError

    with pytest.raises(ConfigError) as err:
        cls(**{option: value})
    text = str(err.value)
    shown = value.split("?")[0] + "?***" if option == "base_url" and "?" in value else value  # a query is masked
    assert f"option {option}={shown!r}" in text and needle in text, text
    assert cls.name in text


def test_good_options_still_construct():
    assert OpenAIProvider(timeout_s="5", base_url="https://api.example.com/v1").timeout_s == 5.0
    assert OpenAIProvider(http_client="aiohttp").http_client == "aiohttp"
    assert AnthropicProvider(structured_output=False).structured_output == "off"
    assert AnthropicProvider(structured_output="json", max_tokens=10).max_tokens == 10
    assert LiteLLMProvider(drop_params=False, top_logprobs=3).top_logprobs == 3


@pytest.mark.parametrize("cls,default_env", [(OpenAIProvider, "OPENAI_API_KEY"),
                                             (AnthropicProvider, "ANTHROPIC_API_KEY"), (LiteLLMProvider, None)])
def test_missing_key_names_the_variable(cls, default_env, monkeypatch):
    """A variable the suite names must be set even with a base_url (no placeholder key is sent); the
    default variable may stay unset for a local server."""
    monkeypatch.delenv("PROBE_MISSING_KEY", raising=False)
    for env in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY"):
        monkeypatch.delenv(env, raising=False)
    named = cls(api_key_env="PROBE_MISSING_KEY", base_url="http://127.0.0.1:9/v1")
    assert named.missing_key() == "PROBE_MISSING_KEY"
    with pytest.raises(ProviderError, match="PROBE_MISSING_KEY is not set") as err:
        asyncio.run(named.complete(_requests("openai/small" if cls is LiteLLMProvider else "small", 1)[0]))
    assert err.value.kind == "auth_error" and not err.value.retryable
    assert cls(base_url="http://127.0.0.1:9/v1").missing_key() is None  # local server: any key
    assert cls().missing_key() == default_env
    monkeypatch.setenv("PROBE_MISSING_KEY", "set-for-the-test")
    assert named.missing_key() is None


def test_a_blank_key_is_unset_and_a_pasted_newline_is_not_sent(monkeypatch):
    """A key variable holding only whitespace passed the up-front check, then failed every call under
    four different error classes; a key with its newline was an illegal header value."""
    from evalkit.providers._options import key_from_env, required_key_env

    monkeypatch.setenv("EVALKIT_TEST_KEY", "   ")
    assert required_key_env("EVALKIT_TEST_KEY", None, None) == "EVALKIT_TEST_KEY"
    monkeypatch.setenv("EVALKIT_TEST_KEY", "sk-abc\n")
    assert required_key_env("EVALKIT_TEST_KEY", None, None) is None and key_from_env("EVALKIT_TEST_KEY") == "sk-abc"


def test_an_unreadable_retry_after_is_ignored_not_a_final_failure():
    from evalkit.providers._errors import parse_retry_after

    assert parse_retry_after({"retry-after": "garbage"}) is None  # raised ValueError: the call failed for good
    assert parse_retry_after({"retry-after-ms": "soon"}) is None
    assert parse_retry_after({"retry-after": "2"}) == 2.0


def test_a_negative_token_count_is_unknown_never_a_negative_cost():
    from evalkit.pricing import call_cost, lookup_price
    from evalkit.providers._base import Usage

    usage = Usage(input_tokens=-500, output_tokens=20)
    assert usage.input_tokens is None and call_cost(usage, lookup_price("gpt-4o")) is None
    assert Usage(input_tokens=0, output_tokens=1).input_tokens == 0


@pytest.mark.parametrize("body", [
    {"choices": [{"message": "a string, not an object"}]},
    {"choices": [{"message": {"content": 42}}]},
    {"choices": "none"},
])
def test_an_openai_body_of_the_wrong_shape_is_a_bad_response(body):
    """Valid JSON of the wrong shape was a final provider_error with a pydantic text and a link (or an
    AttributeError): it is the same retried, possibly billed bad_response as a body that is not JSON."""
    from evalkit.providers._errors import ProviderError
    from evalkit.providers._openai import response_from_json

    with pytest.raises(ProviderError) as err:
        response_from_json(body)
    assert err.value.kind == "bad_response" and "errors.pydantic.dev" not in str(err.value)


def test_an_anthropic_body_that_is_not_a_message_is_a_bad_response_not_an_empty_answer():
    """The SDK builds a Message from any JSON object: {"foo": 1} was recorded as ok with empty text."""
    from types import SimpleNamespace

    from evalkit.providers._anthropic import response_from_anthropic
    from evalkit.providers._errors import ProviderError

    with pytest.raises(ProviderError) as err:
        response_from_anthropic(SimpleNamespace(foo=1, content=None, stop_reason=None, usage=None))
    assert err.value.kind == "bad_response"
    with pytest.raises(ProviderError) as err:
        response_from_anthropic(SimpleNamespace(content=[SimpleNamespace(type="text", text=5)], stop_reason="x",
                                                usage=None))
    assert err.value.kind == "bad_response"
    ok = response_from_anthropic(SimpleNamespace(content=[SimpleNamespace(type="text", text="hi")],
                                                 stop_reason="end_turn", usage=None))
    assert ok.text == "hi"


@pytest.mark.parametrize("http_client", ["httpx", "aiohttp"])
def test_a_refused_connection_was_never_sent_on_either_transport(http_client, monkeypatch):
    """Nothing listens on the port: the request never left, so it cannot have been billed (the aiohttp
    transport counted every such attempt as possibly billed)."""
    import asyncio
    import socket

    from evalkit.providers._errors import ProviderError

    with socket.socket() as probe:  # a port that was free a moment ago, closed again
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("OPENAI_API_KEY", "x")
    provider = OpenAIProvider(base_url=f"http://127.0.0.1:{port}/v1", http_client=http_client, timeout_s=5)

    async def go():
        try:
            await provider.complete(_requests("large", 1)[0])
        finally:
            await provider.aclose()

    with pytest.raises(ProviderError) as err:
        asyncio.run(go())
    assert err.value.kind == "connection" and err.value.sent is False
