"""Translate between provider wire formats and evalkit's ModelRequest/ModelResponse
(the server side of the loopback: the inverse of the provider adapters)."""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from typing import Any

from evalkit.providers import Message, ModelRequest, ModelResponse

_OPENAI_PARAMS = ("temperature", "max_tokens", "max_completion_tokens", "top_p", "seed", "stop")
_ANTHROPIC_PARAMS = ("temperature", "max_tokens", "top_p", "top_k", "stop_sequences")


def request_key(request: ModelRequest) -> str:
    """What identifies 'the same call' on the server: conversation + sample index.
    (Model names differ by route — litellm strips 'openai/' — so they are left out.)"""
    blob = json.dumps([[m.role, m.content] for m in request.messages] + [request.sample_index])
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return "" if content is None else str(content)


def from_openai(body: dict[str, Any], sample_index: int) -> ModelRequest:
    schema = None
    fmt = body.get("response_format") or {}
    if fmt.get("type") == "json_schema":
        schema = (fmt.get("json_schema") or {}).get("schema")
    return ModelRequest(
        provider="openai",
        model=body.get("model", ""),
        messages=tuple(Message(role=m["role"] if m["role"] != "developer" else "system", content=_text(m.get("content")))
                       for m in body.get("messages", [])),
        params={k: body[k] for k in _OPENAI_PARAMS if k in body},
        response_schema=schema,
        logprobs=bool(body.get("logprobs")),
        sample_index=sample_index,
    )


def from_anthropic(body: dict[str, Any], sample_index: int) -> ModelRequest:
    messages = []
    if body.get("system"):
        messages.append(Message(role="system", content=_text(body["system"])))
    messages += [Message(role=m["role"], content=_text(m.get("content"))) for m in body.get("messages", [])]
    tools = body.get("tools") or []
    return ModelRequest(
        provider="anthropic",
        model=body.get("model", ""),
        messages=tuple(messages),
        params={k: body[k] for k in _ANTHROPIC_PARAMS if k in body},
        response_schema=tools[0].get("input_schema") if tools else None,
        sample_index=sample_index,
    )


def _openai_finish(reason: str | None) -> str:
    """A responder's finish reason in OpenAI's words (a responder may speak Anthropic's ``max_tokens``)."""
    return "length" if reason == "max_tokens" else (reason or "stop")


def openai_body(body: dict[str, Any], response: ModelResponse) -> dict[str, Any]:
    logprobs = None
    if body.get("logprobs") and response.token_logprobs is not None:
        k = int(body.get("top_logprobs") or 0)
        logprobs = {"content": [
            {"token": t.token, "logprob": t.logprob, "bytes": list(t.token.encode()),
             "top_logprobs": [{"token": tok, "logprob": lp, "bytes": list(tok.encode())} for tok, lp in t.top[:k]]}
            for t in response.token_logprobs], "refusal": None}
    out: dict[str, Any] = {
        "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": response.model_version or body.get("model", ""),
        "system_fingerprint": "fp_loopback",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": response.text, "refusal": None},
                     "logprobs": logprobs, "finish_reason": _openai_finish(response.finish_reason)}],
    }
    u = response.usage
    if u is not None:
        out["usage"] = {
            "prompt_tokens": u.input_tokens or 0,
            "completion_tokens": u.output_tokens or 0,
            "total_tokens": (u.input_tokens or 0) + (u.output_tokens or 0),
            "prompt_tokens_details": {"cached_tokens": u.cached_tokens or 0},
            "completion_tokens_details": {"reasoning_tokens": u.reasoning_tokens or 0},
        }
    return out


def anthropic_body(body: dict[str, Any], response: ModelResponse) -> dict[str, Any]:
    tools = body.get("tools") or []
    content: list[dict[str, Any]] = []
    stop = "end_turn"
    parsed: Any = None
    if tools:
        try:
            parsed = json.loads(response.text)
        except ValueError:
            parsed = None
    if response.finish_reason in ("length", "max_tokens"):  # cut at the output cap: the text as far as it got
        content.append({"type": "text", "text": response.text})
        stop = "max_tokens"
    elif isinstance(parsed, dict):
        content.append({"type": "tool_use", "id": f"toolu_{uuid.uuid4().hex[:20]}", "name": tools[0]["name"],
                        "input": parsed})
        stop = "tool_use"
    else:
        content.append({"type": "text", "text": response.text})
    out: dict[str, Any] = {
        "id": f"msg_{uuid.uuid4().hex[:24]}", "type": "message", "role": "assistant",
        "model": response.model_version or body.get("model", ""), "content": content,
        "stop_reason": stop, "stop_sequence": None,
    }
    u = response.usage
    if u is not None:
        cached, written = u.cached_tokens or 0, u.cache_write_tokens or 0
        # Anthropic convention: input_tokens excludes cache reads and writes.
        out["usage"] = {"input_tokens": max((u.input_tokens or 0) - cached - written, 0),
                        "output_tokens": u.output_tokens or 0,
                        "cache_read_input_tokens": cached, "cache_creation_input_tokens": written}
    else:
        out["usage"] = {"input_tokens": 0, "output_tokens": 0}  # the SDK requires the field
    return out
