"""Any model string litellm accepts, through ``litellm.acompletion``.

litellm is imported lazily (2-3 s, ~165 MB) and configured for offline, deterministic
use *before* import: the bundled price map (no fetch, no background retry thread that
could swap prices mid-run), no Hugging Face tokenizer downloads, no debug chatter,
and no retries of its own (they stack with the SDK's and silently depend on tenacity).
litellm reports a missing ``usage`` as 0 tokens; evalkit records it as unknown.
"""

from __future__ import annotations

import json
import os
from typing import Any, ClassVar

from evalkit.providers._base import ModelRequest, ModelResponse, TokenLogprob
from evalkit.providers._errors import (
    ProviderError,
    kind_for_status,
    never_sent,
    parse_retry_after,
    rate_limit_headers,
    reject_unknown_options,
)
from evalkit.providers._openai import SAMPLE_HEADER, _schema_name, usage_from_openai

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


class LiteLLMProvider:
    name: ClassVar[str] = "litellm"
    simulated: ClassVar[bool] = False
    offline: ClassVar[bool] = False

    def __init__(
        self,
        *,
        base_url: str | None = None,
        api_key_env: str | None = None,
        structured_output: bool = True,
        top_logprobs: int = 5,
        timeout_s: float = 60.0,
        drop_params: bool = True,
        **unknown: Any,
    ) -> None:
        reject_unknown_options(self.name, unknown)
        self.drop_params = drop_params
        """Let litellm drop parameters a route does not support (logprobs on Anthropic)
        instead of failing the call; the answer then simply has no logprobs."""
        self.base_url = base_url
        self.api_key_env = api_key_env
        self.structured_output = structured_output
        self.top_logprobs = top_logprobs
        self.timeout_s = timeout_s

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
            key = os.environ.get(self.api_key_env)
            if key:
                kwargs["api_key"] = key
        elif self.base_url:
            kwargs["api_key"] = "not-needed"
        if request.response_schema is not None and self.structured_output:
            kwargs["response_format"] = {"type": "json_schema", "json_schema": {
                "name": _schema_name(request.response_schema), "schema": request.response_schema}}
        if request.logprobs:
            kwargs["logprobs"] = True
            kwargs["top_logprobs"] = self.top_logprobs
        return kwargs

    async def complete(self, request: ModelRequest) -> ModelResponse:
        litellm = import_litellm()
        try:
            resp = await litellm.acompletion(**self._kwargs(request))
        except Exception as exc:  # noqa: BLE001 - litellm maps every SDK error to its own classes
            raise _to_provider_error(exc, self.name) from None
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

    async def aclose(self) -> None:
        return None


def _token_logprob(t: Any) -> TokenLogprob:
    get = t.get if isinstance(t, dict) else (lambda k, d=None: getattr(t, k, d))
    tops = []
    for x in get("top_logprobs") or []:
        xg = x.get if isinstance(x, dict) else (lambda k, d=None, x=x: getattr(x, k, d))
        tops.append((xg("token"), xg("logprob")))
    return TokenLogprob(token=get("token"), logprob=get("logprob"), top=tops)


def _to_provider_error(exc: Exception, provider: str) -> ProviderError:
    name = type(exc).__name__
    status = getattr(exc, "status_code", None)
    message = str(getattr(exc, "message", None) or exc)[:300]
    headers = getattr(exc, "litellm_response_headers", None)
    if headers is None:
        headers = getattr(getattr(exc, "response", None), "headers", None)
    if "Timeout" in name:
        kind = "timeout"
    elif ("APIConnectionError" in name or "connection error" in message.lower()) and "json" not in message.lower():
        kind = "connection"  # litellm wraps a dropped connection as a 500 InternalServerError
    elif isinstance(exc, json.JSONDecodeError) or "JSONDecodeError" in message or "Expecting value" in message:
        kind = "bad_response"
    else:
        # litellm reports Anthropic's 529 as 500 but keeps "overloaded_error" in the message
        kind = kind_for_status(status if isinstance(status, int) else None, None, message)
    return ProviderError(f"{name}: {message}", kind=kind, status=status if isinstance(status, int) else None,
                         retry_after_s=parse_retry_after(headers), provider=provider,
                         sent=False if kind == "connection" and never_sent(exc) else None,
                         rate_limits=rate_limit_headers(headers))
