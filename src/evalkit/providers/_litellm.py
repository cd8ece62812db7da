"""Any model string litellm accepts, through ``litellm.acompletion``.

litellm is imported lazily (2-3 s, ~165 MB) and configured for offline, deterministic
use *before* import: the bundled price map (no fetch, no background retry thread that
could swap prices mid-run), no Hugging Face tokenizer downloads, no debug chatter,
and no retries of its own (they stack with the SDK's and silently depend on tenacity).
litellm reports a missing ``usage`` as 0 tokens; evalkit records it as unknown.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import weakref
from typing import Any, ClassVar

from pydantic import Field

from evalkit.providers._base import ModelRequest, ModelResponse, TokenLogprob
from evalkit.providers._errors import (
    ProviderError,
    error_body,
    error_fields,
    is_redirect,
    kind_for_status,
    never_sent,
    parse_retry_after,
    rate_limit_headers,
    redirect_error,
    unreadable,
)
from evalkit.providers._openai import SAMPLE_HEADER, _schema_name, usage_from_openai
from evalkit.providers._options import (
    NetworkOptions,
    check_options,
    env_endpoint,
    key_from_env,
    request_shape,
    required_key_env,
    unusable_key,
)

_OFFLINE_ENV = {
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    "LITELLM_LOCAL_ANTHROPIC_BETA_HEADERS": "True",
    "HF_HUB_OFFLINE": "1",
}


def import_litellm() -> Any:
    """Import litellm configured for offline use (idempotent)."""
    for key, value in _OFFLINE_ENV.items():
        os.environ.setdefault(key, value)
    import litellm

    litellm.disable_hf_tokenizer_download = True
    litellm.suppress_debug_info = True
    litellm.num_retries = 0
    return litellm


class LiteLLMOptions(NetworkOptions):
    structured_output: bool = True
    top_logprobs: int = Field(default=5, ge=0, le=20)
    drop_params: bool = True


class LiteLLMProvider:
    name: ClassVar[str] = "litellm"
    simulated: ClassVar[bool] = False
    offline: ClassVar[bool] = False

    def __init__(self, **options: Any) -> None:
        opts = check_options(self.name, LiteLLMOptions, options)
        self.drop_params = opts.drop_params
        """Let litellm drop parameters a route does not support (logprobs on Anthropic)
        instead of failing the call; the answer then simply has no logprobs."""
        self.base_url = opts.base_url
        self.api_key_env = opts.api_key_env
        self.structured_output = opts.structured_output
        self.top_logprobs = opts.top_logprobs
        self.timeout_s = opts.timeout_s
        self.request_shape = request_shape(opts, ("structured_output", "top_logprobs", "drop_params"))
        """Options that change what is sent (part of the cache key: ``ModelRequest.request_shape``)."""
        self._clients: Any = None
        """{event loop: {route: client}}: HTTP clients that never follow a redirect (see ``_client``)."""

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_clients": None}  # clients belong to their process and event loop

    def key_problem(self) -> str | None:
        """Why the key this provider would send cannot be sent (None: it can, or there is none)."""
        return unusable_key(self.api_key_env)

    def missing_key(self) -> str | None:
        """The variable the suite names for the key when it is unset (None: it can send). Without
        ``api_key_env`` litellm looks up its route's own variable, which evalkit cannot know."""
        return required_key_env(self.api_key_env, None, self.base_url)

    def endpoint_for(self, model: str) -> str | None:
        """Where this provider's requests for ``model`` go: ``base_url``, else the base URL litellm reads
        from the environment for the model's route (None: the route's own default)."""
        if self.base_url:
            return self.base_url
        route = model.split("/", 1)[0] if "/" in model else "openai"
        names = {"openai": ("OPENAI_BASE_URL", "OPENAI_API_BASE"),
                 "anthropic": ("ANTHROPIC_BASE_URL", "ANTHROPIC_API_BASE")}.get(route, ())
        return env_endpoint(*names)

    def prepare(self) -> None:
        """Import litellm now (seconds, once): the executor calls this before the first timed attempt."""
        import_litellm()

    def _kwargs(self, request: ModelRequest) -> dict[str, Any]:
        kwargs: dict[str, Any] = dict(request.params)
        kwargs.update(model=request.model, timeout=self.timeout_s, num_retries=0, max_retries=0,
                      messages=[{"role": m.role, "content": m.content} for m in request.messages],
                      extra_headers={SAMPLE_HEADER: str(request.sample_index)},
                      drop_params=self.drop_params)
        if self.base_url:
            kwargs["api_base"] = self.base_url
        if self.api_key_env:
            missing = self.missing_key()
            if missing is not None:  # a placeholder would only earn 401s from the real server
                raise ProviderError(f"environment variable {missing} is not set (provider litellm)",
                                    kind="auth_error", provider=self.name)
            kwargs["api_key"] = key_from_env(self.api_key_env)
        elif self.base_url:
            kwargs["api_key"] = "not-needed"
        if request.response_schema is not None and self.structured_output:
            kwargs["response_format"] = {"type": "json_schema", "json_schema": {
                "name": _schema_name(request.response_schema), "schema": request.response_schema}}
        if request.logprobs:
            kwargs["logprobs"] = True
            kwargs["top_logprobs"] = self.top_logprobs
        return kwargs

    def _client(self, litellm: Any, kwargs: dict[str, Any]) -> Any:
        """An HTTP client for this call's route that never follows a redirect, or None (litellm's own).

        litellm's clients follow redirects, and on its Anthropic route httpx carries ``x-api-key`` to
        whatever origin a 3xx names. A model API answering 3xx is a wrong ``base_url``, so evalkit hands
        litellm its own client for the routes it knows: the openai SDK client for the ``openai`` route,
        litellm's HTTP handler for the ``anthropic`` route, both with ``follow_redirects=False``.
        Clients are kept per event loop (an httpx pool belongs to one loop)."""
        try:
            route = litellm.get_llm_provider(model=kwargs["model"], api_base=kwargs.get("api_base"))[1]
        except Exception:  # noqa: BLE001 - an unknown model string: litellm's own call reports it
            return None
        if route not in ("openai", "anthropic"):
            return None
        if self._clients is None:
            self._clients = weakref.WeakKeyDictionary()
        per_loop = self._clients.setdefault(asyncio.get_running_loop(), {})
        if route not in per_loop:
            if route == "anthropic":
                from litellm.llms.custom_httpx.http_handler import AsyncHTTPHandler

                per_loop[route] = AsyncHTTPHandler(timeout=self.timeout_s, follow_redirects=False)
            else:
                import openai

                try:  # no key and no OPENAI_API_KEY: let litellm raise its own authentication error
                    per_loop[route] = openai.AsyncOpenAI(
                        api_key=kwargs.get("api_key"), base_url=kwargs.get("api_base"), max_retries=0,
                        timeout=self.timeout_s, http_client=openai.DefaultAsyncHttpxClient(follow_redirects=False))
                except openai.OpenAIError:
                    return None
        return per_loop[route]

    async def complete(self, request: ModelRequest) -> ModelResponse:
        litellm = import_litellm()
        kwargs = self._kwargs(request)
        client = self._client(litellm, kwargs)
        if client is not None:
            kwargs["client"] = client
        try:
            resp = await litellm.acompletion(**kwargs)
        except Exception as exc:  # noqa: BLE001 - litellm maps every SDK error to its own classes
            raise _to_provider_error(exc, self.name) from None
        try:
            return _response(resp)
        except (AttributeError, TypeError, ValueError, KeyError, IndexError) as exc:
            raise unreadable(exc, self.name) from None  # e.g. no choices: litellm hands it back as is

    async def aclose(self) -> None:
        clients = self._clients.pop(asyncio.get_running_loop(), {}) if self._clients is not None else {}
        for client in clients.values():
            await client.close()


def _response(resp: Any) -> ModelResponse:
    """litellm's ModelResponse -> evalkit's."""
    choice = resp.choices[0]
    message = choice.message
    text = message.content
    if not text and getattr(message, "tool_calls", None):
        text = message.tool_calls[0].function.arguments
    usage = usage_from_openai(getattr(resp, "usage", None))
    if usage is not None and not usage.input_tokens and not usage.output_tokens:
        usage = None  # litellm fills a missing usage with zeros: that is "unknown", not free
    token_logprobs = None
    lp = getattr(choice, "logprobs", None)
    content = lp.get("content") if isinstance(lp, dict) else getattr(lp, "content", None)
    if content:
        token_logprobs = [_token_logprob(t) for t in content]
    hidden = getattr(resp, "_hidden_params", None) or {}
    return ModelResponse(text=text or "", usage=usage, model_version=getattr(resp, "model", None),
                         finish_reason=choice.finish_reason, token_logprobs=token_logprobs,
                         rate_limits=rate_limit_headers(hidden.get("additional_headers")))


def _token_logprob(t: Any) -> TokenLogprob:
    get = t.get if isinstance(t, dict) else (lambda k, d=None: getattr(t, k, d))
    tops = []
    for x in get("top_logprobs") or []:
        xg = x.get if isinstance(x, dict) else (lambda k, d=None, x=x: getattr(x, k, d))
        tops.append((xg("token"), xg("logprob")))
    return TokenLogprob(token=get("token"), logprob=get("logprob"), top=tops)


_TRACEBACK = "Traceback (most recent call last)"
_LITELLM_PREFIX = re.compile(r"^(litellm\.\w+:\s*)+")
# A connection that broke after the request left: the answer may have been generated (and billed).
# litellm wraps these as a 500 InternalServerError (openai route: "Connection error."; anthropic
# route over aiohttp: "Response payload is not completed", "Server disconnected").
_BROKEN_CONNECTION = ("connection error", "payload is not completed", "contentlengtherror",
                      "server disconnected", "serverdisconnectederror", "clientpayloaderror",
                      "remoteprotocolerror", "incomplete chunked read", "connection reset",
                      "clientoserror", "readerror")
# What litellm says when a 200 arrived whose body it could not read (not JSON, or no answer in it). On
# its OpenAI route a body without ``choices`` (or with ``choices`` that is not a list) is an APIError
# "LiteLLM: provider returned a response with no 'choices'" / "... returned 'choices' that is not a
# list", re-raised as a 500 InternalServerError: no server said 500, the body was unreadable.
_UNREADABLE = ("jsondecodeerror", "expecting value", "unable to get json response",
               "empty or invalid response from llm endpoint", "invalid response object",
               "provider returned a response with no 'choices'", "provider returned 'choices' that is not")
_INNER_PREFIXES = re.compile(r"\w+Exception - |litellm\.\w+:\s*|LiteLLM:\s*")  # wrapped exceptions' names
_SSL_CONTEXT = re.compile(r" ?ssl:<[^>]*>")  # aiohttp names the SSLContext object and its address
# Exceptions raised while litellm reads an answer that did arrive (a field missing, a wrong type):
# litellm reports them as APIConnectionError with a traceback in the message.
_READ_BUGS = (KeyError, TypeError, AttributeError, IndexError, ValueError)


def clean_message(text: str) -> str:
    """A litellm exception message as one line for a person: the first meaningful line, without
    litellm's class-name prefixes and never with the Python traceback litellm appends."""
    text = str(text).split(_TRACEBACK, 1)[0]
    for line in text.splitlines():
        line = _LITELLM_PREFIX.sub("", line.strip()).strip()
        if line:
            return line.removesuffix(". Handle with `litellm.InternalServerError`.")[:300]
    return ""


def _read_bug(exc: BaseException) -> BaseException | None:
    """The exception litellm hit while reading an answer that arrived, if that is what ``exc`` wraps."""
    cur, seen = exc.__cause__ or exc.__context__, 0
    while cur is not None and seen < 8:
        if isinstance(cur, _READ_BUGS) and not isinstance(cur, (ConnectionError, TimeoutError)):
            return cur
        cur, seen = cur.__cause__ or cur.__context__, seen + 1
    return None


def _redirect(exc: BaseException) -> tuple[int, Any] | None:
    """(status, Location) when the server answered 3xx (evalkit's clients do not follow it): litellm
    reports it as an APIError (openai route) or an APIConnectionError 500 (anthropic route) whose cause
    chain keeps the status and the response."""
    cur: BaseException | None = exc
    seen = 0
    while cur is not None and seen < 8:
        response = getattr(cur, "response", None)
        status = getattr(cur, "status_code", None)
        if not isinstance(status, int):
            status = getattr(response, "status_code", None)
        if isinstance(status, int) and is_redirect(status):
            headers = getattr(exc, "litellm_response_headers", None) or getattr(response, "headers", None)
            return status, (headers.get("location") if headers is not None else None)
        cur, seen = cur.__cause__ or cur.__context__, seen + 1
    return None


def _to_provider_error(exc: Exception, provider: str) -> ProviderError:
    """Classify a litellm exception like the native providers classify the same fault (one rule per
    fault, see docs/providers.md): the HTTP status and the server's error code/type when an answer
    arrived, the way the connection broke otherwise."""
    name = type(exc).__name__
    status = getattr(exc, "status_code", None)
    status = status if isinstance(status, int) else None
    raw = str(getattr(exc, "message", None) or exc)
    message = clean_message(raw)
    low = raw.split(_TRACEBACK, 1)[0].lower()
    headers = getattr(exc, "litellm_response_headers", None)
    if headers is None:
        headers = getattr(getattr(exc, "response", None), "headers", None)
    redirect = _redirect(exc)
    if redirect is not None:
        return redirect_error(*redirect, provider, rate_limits=rate_limit_headers(headers))
    bug = _read_bug(exc) if "APIConnectionError" in name else None
    if "Timeout" in name:
        kind, status = "timeout", None
    elif never_sent(exc):
        # refused, DNS, a failed TLS handshake: the request never left (litellm's Anthropic route
        # reports these as a 500 InternalServerError), so nothing can have been billed
        message = _SSL_CONTEXT.sub("", message.removeprefix(name + ": "))
        return ProviderError(f"connection failed, nothing sent: {message}", kind="connection", provider=provider,
                             sent=False)
    elif isinstance(exc, json.JSONDecodeError) or any(u in low for u in _UNREADABLE):
        # a 200 litellm could not read (litellm's OpenAI route reports a non-JSON body as a 500): like
        # an unreadable body for the native providers, retried and possibly billed
        kind, status = "bad_response", None
        message = f"unreadable response: {_INNER_PREFIXES.sub('', message.removeprefix(name + ': '))}"
    elif bug is not None:
        # the server answered, litellm could not read the answer (e.g. no usage): like an unreadable
        # body for the native providers. Nothing came back, so the attempt is possibly billed.
        kind, status = "bad_response", None
        message = f"unreadable response: litellm could not read the answer ({type(bug).__name__}: {bug})"[:300]
    elif "APIConnectionError" in name or any(b in low for b in _BROKEN_CONNECTION):
        kind, status = "connection", None  # litellm reports a dropped connection as a 500
    else:
        _, code, etype = error_fields(error_body(exc))
        if code is None and etype is None:
            _, code, etype = error_fields(getattr(exc, "body", None))
        # litellm reports Anthropic's 529 as 500 but keeps "overloaded_error" in the message
        kind = kind_for_status(status, code, f"{etype or ''} {low}")
    text = message if kind == "bad_response" else f"{name}: {message.removeprefix(name + ': ')}"
    return ProviderError(text, kind=kind, status=status, retry_after_s=parse_retry_after(headers), provider=provider,
                         rate_limits=rate_limit_headers(headers))
