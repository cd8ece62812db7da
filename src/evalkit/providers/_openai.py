"""OpenAI (and any OpenAI-compatible server: vLLM, Ollama, llama.cpp) through the
official async SDK. SDK retries are 0: evalkit's executor owns the retry policy."""

from __future__ import annotations

import re
from typing import Any, ClassVar, Literal

from pydantic import Field

from evalkit.providers._base import ModelRequest, ModelResponse, TokenLogprob, Usage
from evalkit.providers._errors import (
    ProviderError,
    an_object,
    error_body,
    error_fields,
    field_of,
    is_redirect,
    kind_for_status,
    never_sent,
    parse_retry_after,
    rate_limit_headers,
    redirect_error,
    unreadable,
)
from evalkit.providers._options import (
    NetworkOptions,
    check_options,
    env_endpoint,
    key_from_env,
    request_shape,
    required_key_env,
    unusable_key,
)

SAMPLE_HEADER = "x-evalkit-sample"
"""Tells the loopback server which self-consistency sample this is; real APIs ignore it."""


def _schema_name(schema: dict[str, Any]) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", str(schema.get("title") or "decision"))[:64]


DEFAULT_KEY_ENV = "OPENAI_API_KEY"


class OpenAIOptions(NetworkOptions):
    structured_output: bool = True
    strict_schema: bool = False
    top_logprobs: int = Field(default=5, ge=0, le=20)
    http_client: Literal["httpx", "aiohttp"] = "httpx"
    organization: str | None = None


class OpenAIProvider:
    name: ClassVar[str] = "openai"
    simulated: ClassVar[bool] = False
    offline: ClassVar[bool] = False
    worker_safe: ClassVar[bool] = True
    """May send from a forked sender process (run/_senders): picklable before its first call."""

    def __init__(self, **options: Any) -> None:
        opts = check_options(self.name, OpenAIOptions, options)
        self.base_url = opts.base_url
        self.api_key_env = opts.api_key_env or DEFAULT_KEY_ENV
        self._key_env_named = opts.api_key_env is not None
        self.structured_output = opts.structured_output
        self.strict_schema = opts.strict_schema
        self.top_logprobs = opts.top_logprobs
        self.timeout_s = opts.timeout_s
        self.http_client = opts.http_client
        self.organization = opts.organization
        self.request_shape = request_shape(opts, ("structured_output", "strict_schema", "top_logprobs"))
        """Options that change what is sent (part of the cache key: ``ModelRequest.request_shape``)."""
        self._client: Any = None  # created on first call: a --replay run never needs a key

    def key_problem(self) -> str | None:
        """Why the key this provider would send cannot be sent (None: it can, or there is none)."""
        return unusable_key(self.api_key_env)

    def missing_key(self) -> str | None:
        """The key variable this provider needs to send but finds unset (None: it can send)."""
        return required_key_env(self.api_key_env if self._key_env_named else None, DEFAULT_KEY_ENV,
                                self.base_url)

    def _api_key(self) -> str:
        missing = self.missing_key()
        if missing is not None:
            raise ProviderError(f"environment variable {missing} is not set (provider openai)",
                                kind="auth_error", provider=self.name)
        # a local OpenAI-compatible server (base_url) usually takes any key
        return key_from_env(self.api_key_env) or "not-needed"

    def endpoint_for(self, model: str) -> str | None:
        """Where this provider's requests go: ``base_url``, else the SDK's ``OPENAI_BASE_URL`` (None: OpenAI)."""
        del model
        return self.base_url or env_endpoint("OPENAI_BASE_URL")

    def prepare(self) -> None:
        """Import the SDK (or the lean transport) now: the executor calls this before the first timed attempt."""
        if self.http_client == "aiohttp":
            import evalkit.providers._aiohttp  # noqa: F401
        else:
            import openai  # noqa: F401

    def _get_client(self) -> Any:
        if self._client is None:
            if self.http_client == "aiohttp":  # the lean transport: same JSON, no SDK machinery per request
                from evalkit.providers._aiohttp import AiohttpChatTransport

                # the SDK's OPENAI_BASE_URL too: the same suite and environment reach the same server
                self._client = AiohttpChatTransport(base_url=self.endpoint_for(""), api_key=self._api_key(),
                                                    organization=self.organization, timeout_s=self.timeout_s,
                                                    provider=self.name)
                return self._client
            import openai

            # the SDK's own default client (its pool limits and timeouts), except that it never follows a
            # redirect: the request carries the key, and a 3xx from an API is a wrong base_url
            self._client = openai.AsyncOpenAI(api_key=self._api_key(), base_url=self.base_url,
                                              organization=self.organization, max_retries=0, timeout=self.timeout_s,
                                              http_client=openai.DefaultAsyncHttpxClient(follow_redirects=False))
        return self._client

    def _kwargs(self, request: ModelRequest) -> dict[str, Any]:
        kwargs: dict[str, Any] = dict(request.params)
        kwargs["model"] = request.model
        kwargs["messages"] = [{"role": m.role, "content": m.content} for m in request.messages]
        if request.response_schema is not None and self.structured_output:
            kwargs["response_format"] = {"type": "json_schema", "json_schema": {
                "name": _schema_name(request.response_schema), "schema": request.response_schema,
                "strict": self.strict_schema}}
        if request.logprobs:
            kwargs["logprobs"] = True
            kwargs["top_logprobs"] = self.top_logprobs
        kwargs["extra_headers"] = {SAMPLE_HEADER: str(request.sample_index)}
        return kwargs

    async def complete(self, request: ModelRequest) -> ModelResponse:
        body = self._kwargs(request)
        headers = body.pop("extra_headers")
        send = self._get_client().post if self.http_client == "aiohttp" else self._post_sdk
        data, rate_limits = await send(body, headers)
        return response_from_json(data, self.name).model_copy(update={"rate_limits": rate_limits})

    async def _post_sdk(self, body: dict[str, Any], headers: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
        """The response JSON and rate-limit headers of one chat completion sent through the openai SDK.

        The SDK's documented call for a raw request (``client.post``), not ``chat.completions.create``:
        the same client, auth, default headers, HTTP stack and status errors, without create()'s
        per-request param transform and response-model build (~40% of the SDK's CPU per call), whose
        output we would not use. Our bodies are plain JSON, for which that transform is the identity:
        tests/providers/test_openai_wire.py checks the bytes sent equal create()'s."""
        import openai

        try:
            # AsyncAPIResponse: the SDK's public raw-response wrapper (what with_raw_response returns),
            # so no HTTP library is named here (openai moved from httpx to httpx2).
            raw = await self._get_client().post("/chat/completions", cast_to=openai.AsyncAPIResponse[dict],
                                                body=body, options={"headers": headers})
            data = raw.http_response.json()
        except openai.APIStatusError as exc:
            raise _status_error(exc, self.name) from None
        except openai.APITimeoutError as exc:
            raise ProviderError(f"timed out after {self.timeout_s}s: {exc}", kind="timeout", provider=self.name) from None
        except openai.APIConnectionError as exc:
            raise ProviderError(f"connection failed: {exc.__cause__ or exc}", kind="connection",
                                provider=self.name, sent=not never_sent(exc)) from None
        except UnicodeEncodeError:  # a header (the key) that HTTP cannot carry: raised before anything is sent
            raise ProviderError(self.key_problem() or "a request header holds a character HTTP cannot carry",
                                kind="client_error", provider=self.name, sent=False) from None
        except ValueError as exc:  # a non-JSON body
            raise ProviderError(f"unreadable response: {type(exc).__name__}: {str(exc)[:200]}",
                                kind="bad_response", provider=self.name) from None
        if not isinstance(data, dict):
            raise ProviderError(f"unreadable response: a JSON {type(data).__name__}, not an object",
                                kind="bad_response", provider=self.name)
        return data, rate_limit_headers(raw.headers)

    async def aclose(self) -> None:
        if self._client is not None:
            await (self._client.aclose() if self.http_client == "aiohttp" else self._client.close())
            self._client = None


def response_from_json(data: dict[str, Any], provider: str = "openai") -> ModelResponse:
    """A chat.completion JSON body (the SDK path, the aiohttp transport, batch result lines) -> ModelResponse;
    a body of the wrong shape is a ``bad_response``."""
    try:
        return _response_from_json(data, provider)
    except ProviderError:
        raise
    except (AttributeError, TypeError, ValueError, KeyError, IndexError) as exc:  # pydantic's errors are ValueErrors
        raise unreadable(exc, provider, _reported_usage(data)) from None


def _reported_usage(data: dict[str, Any]) -> Usage | None:
    """The usage a body without a readable answer still reports (the call was billed for it), else None."""
    usage = data.get("usage")
    try:
        return usage_from_openai(usage) if isinstance(usage, dict) else None
    except (AttributeError, TypeError, ValueError, ProviderError):
        return None


def _response_from_json(data: dict[str, Any], provider: str) -> ModelResponse:
    choices = data.get("choices")
    if not choices or not isinstance(choices, list) or not isinstance(choices[0], dict):
        # billed: the usage the body reports is what the call cost (else the worst case)
        raise ProviderError("response has no choices", kind="bad_response", provider=provider,
                            usage=_reported_usage(data))
    choice = choices[0]
    message = choice.get("message") or {}
    text = message.get("content")
    if not text and message.get("tool_calls"):
        text = ((message["tool_calls"][0] or {}).get("function") or {}).get("arguments")
    return ModelResponse(text=text or "", usage=usage_from_openai(data.get("usage")), model_version=data.get("model"),
                         finish_reason=choice.get("finish_reason"), token_logprobs=_logprobs(choice))


def _logprobs(choice: dict[str, Any]) -> list[TokenLogprob] | None:
    content = (choice.get("logprobs") or {}).get("content")
    if not content:
        return None
    return [TokenLogprob(token=t.get("token", ""), logprob=t.get("logprob"),
                         top=[(x.get("token", ""), x.get("logprob")) for x in (t.get("top_logprobs") or [])])
            for t in content]


def usage_from_openai(u: Any) -> Usage | None:
    """OpenAI usage (object or dict) -> evalkit Usage; None when not reported."""
    if u is None:
        return None
    an_object(u, "usage")
    pdet = field_of(u, "prompt_tokens_details")
    cdet = field_of(u, "completion_tokens_details")
    return Usage(input_tokens=field_of(u, "prompt_tokens"), output_tokens=field_of(u, "completion_tokens"),
                 cached_tokens=field_of(pdet, "cached_tokens"), cache_write_tokens=field_of(pdet, "cache_write_tokens"),
                 reasoning_tokens=field_of(cdet, "reasoning_tokens"))


def _status_error(exc: Any, provider: str) -> ProviderError:
    if is_redirect(exc.status_code):
        return redirect_error(exc.status_code, exc.response.headers.get("location"), provider,
                              rate_limits=rate_limit_headers(exc.response.headers))
    body = error_body(exc)
    message, code, etype = error_fields(body)
    usage = usage_from_openai(body["usage"]) if isinstance(body, dict) and isinstance(body.get("usage"), dict) else None
    return ProviderError(message or str(exc)[:300], kind=kind_for_status(exc.status_code, code, etype),
                         status=exc.status_code, retry_after_s=parse_retry_after(exc.response.headers),
                         usage=usage, provider=provider, rate_limits=rate_limit_headers(exc.response.headers))
