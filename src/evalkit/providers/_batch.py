"""Provider batch APIs through the official SDKs: OpenAI Batch (upload a JSONL file, create a
batch, poll, download the output and error files) and Anthropic Message Batches.

The run engine (evalkit.run, batch mode) only sees ``BatchAPI``: build one request line per
call, submit lines as one batch, poll its state, read its per-line results. Requests are
built by the same provider objects as direct calls (same body, same structured output), and
answers are parsed by the same functions, so a batch answer is the answer a direct call gets.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from evalkit.providers._base import ModelRequest, ModelResponse
from evalkit.providers._errors import ProviderError, kind_for_status


@dataclass(frozen=True, kw_only=True)
class BatchState:
    batch_id: str
    ended: bool
    status: str
    """The provider's word: in_progress, completed, expired, failed, cancelled (OpenAI); in_progress, ended."""


@dataclass(frozen=True, kw_only=True)
class BatchLineResult:
    custom_id: str
    response: ModelResponse | None = None
    error_kind: str | None = None
    """None when answered; else 'expired', 'canceled', 'server_error', 'client_error', ..."""
    error_message: str | None = None


class BatchAPI(Protocol):
    max_requests: int
    """Most requests one batch may hold."""
    max_bytes: int
    """Largest batch payload the provider accepts."""
    supports_find: bool
    """True when a batch can be found again by the metadata it was created with."""

    def line(self, custom_id: str, request: ModelRequest) -> dict[str, Any]: ...

    async def submit(self, lines: list[dict[str, Any]], *, metadata: dict[str, str]) -> str: ...

    async def find(self, metadata: dict[str, str]) -> str | None: ...

    async def state(self, batch_id: str) -> BatchState: ...

    async def results(self, batch_id: str) -> list[BatchLineResult]: ...

    async def cancel(self, batch_id: str) -> None:
        """Ask the provider to stop the batch (lines already done are still billed)."""


TRANSIENT_STATUSES = frozenset({408, 409, 429})
"""HTTP statuses below 500 worth another try (with 5xx): timeout, conflict, rate limited."""


def transient_wait(exc: BaseException) -> float | None:
    """For an exception a batch API call raised: None when trying again cannot help (a refused request,
    a bad key, a bug); else the seconds the server asked to wait (0 when it did not say)."""
    import asyncio

    from evalkit.providers._errors import parse_retry_after

    if isinstance(exc, ProviderError):
        return (exc.retry_after_s or 0.0) if exc.retryable else None
    status = getattr(exc, "status_code", None)
    if isinstance(status, int):
        if status in TRANSIENT_STATUSES or status >= 500:
            return parse_retry_after(getattr(getattr(exc, "response", None), "headers", None)) or 0.0
        return None
    if type(exc).__name__ in ("APIConnectionError", "APITimeoutError") or isinstance(
            exc, (ConnectionError, TimeoutError, asyncio.TimeoutError)):
        return 0.0
    return None


def _no_headers(kwargs: dict[str, Any]) -> dict[str, Any]:
    body = {k: v for k, v in kwargs.items() if k not in ("extra_headers", "extra_body")}
    body.update(kwargs.get("extra_body") or {})
    return body


class OpenAIBatchAPI:
    max_requests: ClassVar[int] = 50_000
    max_bytes: ClassVar[int] = 200 * 1024**2
    supports_find: ClassVar[bool] = True
    endpoint: ClassVar[str] = "/v1/chat/completions"

    def __init__(self, provider: Any) -> None:
        self.provider = provider

    def line(self, custom_id: str, request: ModelRequest) -> dict[str, Any]:
        return {"custom_id": custom_id, "method": "POST", "url": self.endpoint,
                "body": _no_headers(self.provider._kwargs(request))}

    async def submit(self, lines: list[dict[str, Any]], *, metadata: dict[str, str]) -> str:
        client = self.provider._get_client()
        data = "".join(json.dumps(x, separators=(",", ":")) + "\n" for x in lines).encode()
        file = await client.files.create(file=("evalkit-batch.jsonl", data), purpose="batch")
        batch = await client.batches.create(input_file_id=file.id, endpoint=self.endpoint,
                                            completion_window="24h", metadata=metadata)
        return str(batch.id)

    async def find(self, metadata: dict[str, str]) -> str | None:
        client = self.provider._get_client()
        seen = 0
        async for batch in client.batches.list(limit=100):
            seen += 1
            meta = dict(batch.metadata or {})
            if all(meta.get(k) == v for k, v in metadata.items()) and batch.status not in ("failed", "cancelled"):
                return str(batch.id)
            if seen >= 1000:
                break
        return None

    async def state(self, batch_id: str) -> BatchState:
        batch = await self.provider._get_client().batches.retrieve(batch_id)
        return BatchState(batch_id=batch_id, status=str(batch.status),
                          ended=batch.status in ("completed", "expired", "failed", "cancelled"))

    async def results(self, batch_id: str) -> list[BatchLineResult]:
        from evalkit.providers._openai import response_from_json

        client = self.provider._get_client()
        batch = await client.batches.retrieve(batch_id)
        out: list[BatchLineResult] = []
        for file_id in (batch.output_file_id, batch.error_file_id):
            if not file_id:
                continue
            content = await client.files.content(file_id)
            for raw in content.text.splitlines():
                if not raw.strip():
                    continue
                item = json.loads(raw)
                cid = str(item.get("custom_id"))
                resp, err = item.get("response") or {}, item.get("error") or {}
                if resp.get("status_code") == 200 and isinstance(resp.get("body"), dict):
                    try:
                        answer = response_from_json(resp["body"], "openai")
                    except (ProviderError, ValueError) as exc:
                        out.append(BatchLineResult(custom_id=cid, error_kind="bad_response", error_message=str(exc)))
                        continue
                    out.append(BatchLineResult(custom_id=cid, response=answer))
                elif err:
                    code = str(err.get("code") or "")
                    kind = "expired" if code == "batch_expired" else ("canceled" if "cancel" in code else "server_error")
                    out.append(BatchLineResult(custom_id=cid, error_kind=kind, error_message=str(err.get("message"))))
                else:
                    body = resp.get("body") if isinstance(resp.get("body"), dict) else {}
                    error = body.get("error") or {}
                    out.append(BatchLineResult(
                        custom_id=cid, error_kind=kind_for_status(int(resp.get("status_code") or 500),
                                                                  error.get("code"), error.get("type")),
                        error_message=str(error.get("message") or f"status {resp.get('status_code')}")))
        return out

    async def cancel(self, batch_id: str) -> None:
        await self.provider._get_client().batches.cancel(batch_id)


class AnthropicBatchAPI:
    max_requests: ClassVar[int] = 100_000
    max_bytes: ClassVar[int] = 256 * 1024**2
    supports_find: ClassVar[bool] = False

    def __init__(self, provider: Any) -> None:
        self.provider = provider

    def line(self, custom_id: str, request: ModelRequest) -> dict[str, Any]:
        return {"custom_id": custom_id, "params": _no_headers(self.provider._kwargs(request))}

    async def submit(self, lines: list[dict[str, Any]], *, metadata: dict[str, str]) -> str:
        batch = await self.provider._get_client().messages.batches.create(requests=lines)
        return str(batch.id)

    async def find(self, metadata: dict[str, str]) -> str | None:
        return None  # Message Batches carry no metadata to find them by

    async def state(self, batch_id: str) -> BatchState:
        batch = await self.provider._get_client().messages.batches.retrieve(batch_id)
        return BatchState(batch_id=batch_id, status=str(batch.processing_status),
                          ended=batch.processing_status == "ended")

    async def results(self, batch_id: str) -> list[BatchLineResult]:
        from evalkit.providers._anthropic import response_from_anthropic

        out: list[BatchLineResult] = []
        decoder = await self.provider._get_client().messages.batches.results(batch_id)
        async for entry in decoder:
            result = entry.result
            if result.type == "succeeded":
                try:
                    answer = response_from_anthropic(result.message)
                except ProviderError as exc:  # one unreadable line, not the whole batch's results
                    out.append(BatchLineResult(custom_id=entry.custom_id, error_kind="bad_response",
                                               error_message=str(exc)))
                    continue
                out.append(BatchLineResult(custom_id=entry.custom_id, response=answer))
            elif result.type == "errored":
                inner = getattr(getattr(result, "error", None), "error", None)
                etype = str(getattr(inner, "type", "api_error"))
                kind = {"invalid_request_error": "client_error", "overloaded_error": "overloaded",
                        "rate_limit_error": "rate_limited"}.get(etype, "server_error")
                out.append(BatchLineResult(custom_id=entry.custom_id, error_kind=kind,
                                           error_message=str(getattr(inner, "message", etype))))
            else:  # expired, canceled
                out.append(BatchLineResult(custom_id=entry.custom_id, error_kind=str(result.type),
                                           error_message=f"batch request {result.type}"))
        return out

    async def cancel(self, batch_id: str) -> None:
        await self.provider._get_client().messages.batches.cancel(batch_id)


def batch_api_for(provider: Any) -> BatchAPI | None:
    """The batch API of a provider instance, or None when it has none (sim, rules, litellm)."""
    from evalkit.providers._anthropic import AnthropicProvider
    from evalkit.providers._openai import OpenAIProvider

    if isinstance(provider, OpenAIProvider):
        return OpenAIBatchAPI(provider)
    if isinstance(provider, AnthropicProvider):
        return AnthropicBatchAPI(provider)
    return None
