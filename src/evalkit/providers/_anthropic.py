"""Anthropic through the official async SDK (which runs on httpx2). SDK retries are 0.

Structured output: ``structured_output="tool"`` (default) forces one tool whose
``input_schema`` is the response schema and returns the tool input as JSON text;
``"json"`` asks for JSON in the system prompt; ``False`` sends the messages as-is.
Usage is converted to evalkit's convention: Anthropic reports cache reads and writes
*outside* ``input_tokens``; evalkit's ``input_tokens`` includes them.
"""

from __future__ import annotations

import inspect
import json
from typing import Any, ClassVar, Literal

from pydantic import Field

from evalkit.providers._base import ModelRequest, ModelResponse, Usage
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
TOOL_NAME = "record_decision"
_PASSED_PARAMS = ("stop_sequences", "metadata", "service_tier", "thinking")
# anthropic 2.x dropped the sampling arguments from ``messages.create`` (newer models
# reject them); older models still accept them in the body, so they go in extra_body.
_BODY_PARAMS = ("temperature", "top_p", "top_k")


DEFAULT_KEY_ENV = "ANTHROPIC_API_KEY"


class AnthropicOptions(NetworkOptions):
    structured_output: bool | Literal["tool", "json", "off"] = "tool"
    max_tokens: int = Field(default=1024, gt=0)


class AnthropicProvider:
    name: ClassVar[str] = "anthropic"
    simulated: ClassVar[bool] = False
    offline: ClassVar[bool] = False
    worker_safe: ClassVar[bool] = True
    """May send from a forked sender process (run/_senders): picklable before its first call."""

    def __init__(self, **options: Any) -> None:
        opts = check_options(self.name, AnthropicOptions, options)
        so = opts.structured_output
        self.base_url = opts.base_url
        self.api_key_env = opts.api_key_env or DEFAULT_KEY_ENV
        self._key_env_named = opts.api_key_env is not None
        self.structured_output = "tool" if so is True else ("off" if so is False else so)
        self.max_tokens = opts.max_tokens
        self.timeout_s = opts.timeout_s
        self.request_shape = request_shape(opts, ("structured_output", "max_tokens"),
                                           structured_output=self.structured_output)
        """Options that change what is sent (part of the cache key: ``ModelRequest.request_shape``)."""
        self._client: Any = None

    def key_problem(self) -> str | None:
        """Why the key this provider would send cannot be sent (None: it can, or there is none)."""
        return unusable_key(self.api_key_env)

    def missing_key(self) -> str | None:
        """The key variable this provider needs to send but finds unset (None: it can send)."""
        return required_key_env(self.api_key_env if self._key_env_named else None, DEFAULT_KEY_ENV,
                                self.base_url)

    def endpoint_for(self, model: str) -> str | None:
        """Where this provider's requests go: ``base_url``, else the SDK's ``ANTHROPIC_BASE_URL``."""
        del model
        return self.base_url or env_endpoint("ANTHROPIC_BASE_URL")

    def prepare(self) -> None:
        """Import the SDK now: the executor calls this before the first timed attempt."""
        import anthropic  # noqa: F401

    def _get_client(self) -> Any:
        if self._client is None:
            import anthropic

            missing = self.missing_key()
            if missing is not None:
                raise ProviderError(f"environment variable {missing} is not set (provider anthropic)",
                                    kind="auth_error", provider=self.name)
            key = key_from_env(self.api_key_env) or "not-needed"  # a local server (base_url) takes any key
            # the SDK's default client, except that it never follows a redirect (see _openai._get_client)
            self._client = anthropic.AsyncAnthropic(
                api_key=key, base_url=self.base_url, max_retries=0, timeout=self.timeout_s,
                http_client=anthropic.DefaultAsyncHttpxClient(follow_redirects=False))
        return self._client

    def _kwargs(self, request: ModelRequest) -> dict[str, Any]:
        system = "\n\n".join(m.content for m in request.messages if m.role == "system")
        params = dict(request.params)
        kwargs: dict[str, Any] = {k: params[k] for k in _PASSED_PARAMS if k in params}
        if "stop" in params and "stop_sequences" not in kwargs:
            stop = params["stop"]
            kwargs["stop_sequences"] = [stop] if isinstance(stop, str) else list(stop)
        body = {k: params[k] for k in _BODY_PARAMS if k in params}
        if body:
            kwargs["extra_body"] = body
        kwargs["model"] = request.model
        kwargs["max_tokens"] = int(params.get("max_tokens") or params.get("max_completion_tokens") or self.max_tokens)
        kwargs["messages"] = [{"role": m.role, "content": m.content} for m in request.messages if m.role != "system"]
        schema = request.response_schema
        if schema is not None and self.structured_output == "tool":
            kwargs["tools"] = [{"name": TOOL_NAME, "description": "Record the decision for this case.",
                                "input_schema": schema}]
            kwargs["tool_choice"] = {"type": "tool", "name": TOOL_NAME}
        elif schema is not None and self.structured_output == "json":
            system = (system + "\n\n" if system else "") + (
                "Answer with one JSON object matching this JSON Schema and nothing else:\n"
                + json.dumps(schema, sort_keys=True))
        if system:
            kwargs["system"] = system
        kwargs["extra_headers"] = {SAMPLE_HEADER: str(request.sample_index)}
        return kwargs

    async def complete(self, request: ModelRequest) -> ModelResponse:
        import anthropic

        client = self._get_client()
        try:
            raw = await client.messages.with_raw_response.create(**self._kwargs(request))
            resp = raw.parse()  # sync in openai's legacy raw response, a coroutine in anthropic's
            if inspect.isawaitable(resp):
                resp = await resp
        except anthropic.APIStatusError as exc:
            raise _status_error(exc, self.name) from None
        except anthropic.APITimeoutError as exc:
            raise ProviderError(f"timed out after {self.timeout_s}s: {exc}", kind="timeout", provider=self.name) from None
        except anthropic.APIConnectionError as exc:
            raise ProviderError(f"connection failed: {exc.__cause__ or exc}", kind="connection",
                                provider=self.name, sent=not never_sent(exc)) from None
        except (ValueError, anthropic.APIResponseValidationError) as exc:
            raise ProviderError(f"unreadable response: {type(exc).__name__}: {str(exc)[:200]}",
                                kind="bad_response", provider=self.name) from None
        return response_from_anthropic(resp, self.name).model_copy(
            update={"rate_limits": rate_limit_headers(raw.headers)})

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None


def response_from_anthropic(resp: Any, provider: str = "anthropic") -> ModelResponse:
    """A Message (SDK object) as a ModelResponse (shared with the Message Batches results); a body of
    the wrong shape (the SDK builds a Message from any JSON object) is a ``bad_response``."""
    if not isinstance(getattr(resp, "content", None), list):
        raise ProviderError("unreadable response: no content blocks (not a message)", kind="bad_response",
                            provider=provider, usage=_reported_usage(resp))
    try:
        return _response_from_anthropic(resp)
    except (AttributeError, TypeError, ValueError, KeyError, IndexError) as exc:  # pydantic's errors are ValueErrors
        raise unreadable(exc, provider, _reported_usage(resp)) from None


def _reported_usage(resp: Any) -> Usage | None:
    """The usage a body without an answer still reports (the call was billed for it), else None."""
    try:
        return usage_from_anthropic(getattr(resp, "usage", None))
    except (AttributeError, TypeError, ValueError, ProviderError):
        return None


def _response_from_anthropic(resp: Any) -> ModelResponse:
    text = ""
    for block in resp.content or []:
        if getattr(block, "type", None) == "tool_use":
            text = json.dumps(block.input)
            break
        if getattr(block, "type", None) == "text":
            text += block.text
    return ModelResponse(text=text, usage=usage_from_anthropic(resp.usage),
                         model_version=getattr(resp, "model", None), finish_reason=resp.stop_reason)


def usage_from_anthropic(u: Any) -> Usage | None:
    """Anthropic usage -> evalkit convention (input includes cache reads and writes)."""
    if u is None:
        return None
    an_object(u, "usage")
    fresh = field_of(u, "input_tokens")
    read = field_of(u, "cache_read_input_tokens") or 0
    written = field_of(u, "cache_creation_input_tokens") or 0
    thinking = field_of(field_of(u, "output_tokens_details"), "thinking_tokens")
    return Usage(input_tokens=None if fresh is None else fresh + read + written,
                 output_tokens=field_of(u, "output_tokens"), cached_tokens=read, cache_write_tokens=written,
                 reasoning_tokens=thinking)


def _status_error(exc: Any, provider: str) -> ProviderError:
    if is_redirect(exc.status_code):
        return redirect_error(exc.status_code, exc.response.headers.get("location"), provider,
                              rate_limits=rate_limit_headers(exc.response.headers))
    body = error_body(exc)
    message, code, etype = error_fields(body)
    usage = usage_from_anthropic(body["usage"]) if isinstance(body, dict) and isinstance(body.get("usage"), dict) else None
    return ProviderError(message or str(exc)[:300], kind=kind_for_status(exc.status_code, code, etype),
                         status=exc.status_code, retry_after_s=parse_retry_after(exc.response.headers),
                         usage=usage, provider=provider, rate_limits=rate_limit_headers(exc.response.headers))
