"""The provider interface: one request in, one response out.

Everything a model provider returns is normalised here, at the edge, into pydantic
models. Token counts follow the OpenAI convention: ``input_tokens`` counts *all*
input tokens including cached ones; ``cached_tokens`` says how many of them were
read from the provider's prompt cache. Adapters for providers with another
convention (Anthropic reports cache reads outside ``input_tokens``) convert.
A usage field that the provider did not report is ``None`` (unknown), never 0.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Message(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    role: Literal["system", "user", "assistant"]
    content: str


class ModelRequest(BaseModel):
    """Everything that can change a model's answer. Its hash is the cache key."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    provider: str
    model: str
    messages: tuple[Message, ...]
    params: dict[str, Any] = Field(default_factory=dict)
    """Sampling parameters sent to the provider (temperature, max_tokens, top_p, seed...)."""
    response_schema: dict[str, Any] | None = None
    """JSON Schema for structured output, when the configuration asks for it."""
    logprobs: bool = False
    sample_index: int = 0
    """0 for the main answer; 1..k-1 for self-consistency samples."""
    endpoint: str | None = None
    """Base URL for OpenAI-compatible servers: a different server may be a different model."""
    template_version: str | None = None
    """Hash of the prompt template source, so a template edit never reuses a stale answer."""
    request_shape: dict[str, Any] = Field(default_factory=dict)
    """Provider options that change what is sent, where not at their defaults (``structured_output`` as
    a tool or as JSON in the prompt, ``strict_schema``...): an answer bought in another shape is stale."""

    def cache_key(self) -> str:
        """sha256 over the canonical JSON of every field above (an empty ``request_shape`` is left out, so
        the keys of requests in the default shape are those they always were)."""
        data = self.model_dump(mode="json")
        if not data["request_shape"]:
            del data["request_shape"]
        blob = json.dumps(data, sort_keys=True, separators=(",", ":"))
        return "sha256:" + hashlib.sha256(blob.encode()).hexdigest()


def estimate_input_tokens(texts: Iterable[str], response_schema: Mapping[str, Any] | None = None, *,
                          counted: bool = False) -> int:
    """A prompt's tokens, estimated before it is sent (the budget's worst case, rate limits and context
    windows start from it; the ledger adds its margin). ~4 characters a token for ASCII text; a
    character outside ASCII counts by its UTF-8 bytes (CJK: 1.25 a character against 0.7 to 1 in the
    tokenizers: at 1/4 a character a Chinese prompt's cost was under half its bill). A structured-output
    schema is sent with the prompt (``response_format``, an Anthropic tool) and billed as input too.

    ``counted`` (a run under ``--max-cost``): at least the tokenizer's count (o200k_base, with OpenAI's
    framing), since no rule of thumb bounds every text: a table of digits is ~1 token per 2 characters,
    Ethiopic ~1.75 a character."""
    texts = list(texts)
    schema = json.dumps(response_schema, separators=(",", ":"), default=str) if response_schema is not None else ""
    tokens = 8
    for text in texts:
        tokens += len(text) // 4
        if not text.isascii():
            tokens += (len(text.encode("utf-8", "surrogatepass")) - len(text)) // 2
    if schema:
        tokens += len(schema) // 3 + 8
    if counted:
        from evalkit._tokens import count_tokens

        exact = sum(count_tokens(t) + 4 for t in texts) + 2 + (count_tokens(schema) + 8 if schema else 0)
        tokens = max(tokens, exact)
    return tokens


def output_cap(params: Mapping[str, Any]) -> int | None:
    """The output-token cap a request's parameters set, if any (OpenAI and Anthropic spellings)."""
    for name in ("max_tokens", "max_completion_tokens", "max_output_tokens"):
        if params.get(name) is not None:
            return int(params[name])
    return None


class Usage(BaseModel):
    model_config = ConfigDict(extra="forbid")
    input_tokens: int | None = None
    output_tokens: int | None = None
    cached_tokens: int | None = None
    cache_write_tokens: int | None = None
    reasoning_tokens: int | None = None

    @field_validator("input_tokens", "output_tokens", "cached_tokens", "cache_write_tokens", "reasoning_tokens",
                     mode="before")
    @classmethod
    def _a_count_or_unknown(cls, value: Any) -> Any:
        """A negative count a server reports is not a count: unknown (its cost unknown), never a negative
        cost subtracted from the run's spend."""
        return None if isinstance(value, (int, float)) and not isinstance(value, bool) and value < 0 else value

    @property
    def total_tokens(self) -> int | None:
        if self.input_tokens is None or self.output_tokens is None:
            return None
        return self.input_tokens + self.output_tokens


class TokenLogprob(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: str
    logprob: float
    top: list[tuple[str, float]] = Field(default_factory=list)


TRUNCATED_FINISH_REASONS = frozenset({"length", "max_tokens"})
"""``finish_reason`` values that mean the answer was cut at the output cap: OpenAI's (and litellm's,
on every route) ``length``, Anthropic's ``max_tokens`` stop reason."""


class ModelResponse(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str
    """The answer text; for tool-use answers, the tool arguments as JSON text."""
    usage: Usage | None = None
    model_version: str | None = None
    """The model id the provider says answered (may differ from the requested alias)."""
    finish_reason: str | None = None
    token_logprobs: list[TokenLogprob] | None = None
    latency_s: float | None = None
    rate_limits: dict[str, str] | None = Field(default=None, exclude=True)
    """The server's rate-limit headers on this answer, for the executor's limiter only:
    never cached or journaled (excluded from dumps)."""

    @property
    def truncated(self) -> bool:
        """The answer was cut at ``max_tokens``: its text is incomplete (often unparseable)."""
        return self.finish_reason in TRUNCATED_FINISH_REASONS


@runtime_checkable
class Provider(Protocol):
    """A model provider. Implementations are registered with ``register_provider``."""

    name: ClassVar[str]
    simulated: ClassVar[bool]
    """True when numbers come from a simulation: reports label them "simulated"."""
    offline: ClassVar[bool]
    """True when the provider never touches the network (allowed under --replay)."""

    async def complete(self, request: ModelRequest) -> ModelResponse: ...

    async def aclose(self) -> None: ...

    # Optional: ``prepare(self) -> None`` does slow one-time work (importing the SDK) that must not
    # count against the first call's timeout; the executor calls it before any attempt is timed.
    # Optional: ``worker_safe: ClassVar[bool] = True`` lets a run send this provider's calls from its
    # forked sender processes (the object is pickled before its first call; ``complete`` then runs
    # there on the sender's own event loop).
