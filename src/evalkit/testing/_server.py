"""A loopback model server for tests and benchmarks.

OpenAI-compatible ``POST /v1/chat/completions`` and Anthropic-compatible
``POST /v1/messages``, answering with a pluggable responder (the sim brain by default),
with injectable latency, faults and an enforced tokens-per-minute limit. Binds
127.0.0.1 only, on an ephemeral port.

    with LoopbackServer(latency_s=0.01) as srv:        # in a background thread
        client = AsyncOpenAI(base_url=srv.openai_base_url, api_key="k", max_retries=0)
    async with LoopbackServer() as srv: ...             # on the running loop

Every attempt is logged (``srv.log``) and counted per request key (``srv.hits``,
key = ``request_key(ModelRequest)``: the conversation and the sample index) so tests
can assert that nothing was sent twice.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Self

from aiohttp import web

from evalkit.providers import Message, ModelResponse
from evalkit.testing._faults import FaultPlan
from evalkit.testing._responders import Responder, default_responder
from evalkit.testing._wire import anthropic_body, from_anthropic, from_openai, openai_body, request_key

SAMPLE_HEADER = "x-evalkit-sample"


@dataclass(kw_only=True)
class Hit:
    key: str
    route: str
    attempt: int
    status: int
    fault: str | None
    usage_reported: dict[str, int] | None = None
    """Usage the client was sent (a 200 answer, or a billed 500): what it must account for."""
    billed: dict[str, int] | None = None
    """What the server charged: the reported usage, or the usage of an answer it generated but
    the client never read (timed out, dropped, truncated, unreadable, or a killed client)."""
    at: float = field(default_factory=time.monotonic)
    """When the request arrived (monotonic seconds): how long clients waited between attempts."""


@dataclass(kw_only=True)
class _Bucket:
    per_minute: float
    burst_s: float
    level: float = field(init=False)
    stamp: float = field(init=False, default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.level = self.capacity

    @property
    def rate(self) -> float:
        return self.per_minute / 60.0

    @property
    def capacity(self) -> float:
        return self.rate * self.burst_s

    def headers(self, route: str) -> dict[str, str]:
        """The rate-limit headers a real provider sends (OpenAI or Anthropic spelling)."""
        now = time.monotonic()
        level = max(min(self.capacity, self.level + (now - self.stamp) * self.rate), 0.0)
        reset = (self.capacity - level) / self.rate
        if route == "openai":
            return {"x-ratelimit-limit-tokens": str(int(self.per_minute)),
                    "x-ratelimit-remaining-tokens": str(int(level)), "x-ratelimit-reset-tokens": f"{reset:.3f}s"}
        from datetime import UTC, datetime, timedelta

        at = (datetime.now(UTC) + timedelta(seconds=reset)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        return {"anthropic-ratelimit-tokens-limit": str(int(self.per_minute)),
                "anthropic-ratelimit-tokens-remaining": str(int(level)), "anthropic-ratelimit-tokens-reset": at}

    def take(self, tokens: int) -> float | None:
        """Charge ``tokens``; None when allowed, else seconds until they would be."""
        now = time.monotonic()
        self.level = min(self.capacity, self.level + (now - self.stamp) * self.rate)
        self.stamp = now
        need = min(tokens, self.capacity)
        if self.level < need:
            return (need - self.level) / self.rate
        self.level -= tokens
        return None


class LoopbackServer:
    def __init__(
        self,
        *,
        responder: Responder | None = None,
        faults: FaultPlan | None = None,
        latency_s: float = 0.0,
        tpm_limit: float | None = None,
        tpm_burst_s: float = 1.0,
        retry_after_s: float | None = 0.05,
        reset_after_s: float | None = None,
        slow_s: float = 3.0,
        port: int = 0,
        redirect_to: str | None = None,
        extensions: Sequence[Callable[[web.Application, LoopbackServer], None]] = (),
    ) -> None:
        self.responder = responder or default_responder()
        self.faults = faults or FaultPlan()
        self.latency_s = latency_s
        self.retry_after_s = retry_after_s
        self.reset_after_s = reset_after_s
        """Injected 429s carry ``x-ratelimit-remaining-requests: 0`` and ``x-ratelimit-reset-requests`` of this
        many seconds (OpenAI's form), e.g. with ``retry_after_s=None``: a limit said only in reset headers."""
        self.slow_s = slow_s
        self.tpm = _Bucket(per_minute=tpm_limit, burst_s=tpm_burst_s) if tpm_limit else None
        self.tokens_served = 0
        self.served: list[tuple[float, int]] = []
        """(monotonic time, tokens) of each answer counted against the TPM limit."""
        self.hits: Counter[str] = Counter()
        self.log: list[Hit] = []
        self._port = port
        self.redirect_to = redirect_to
        """Origin the ``redirect`` fault sends the client to (``http://127.0.0.1:PORT``; the path and query are kept)."""
        self.extensions = tuple(extensions)
        """Hooks that add routes (e.g. testing._batch.BatchAPIs.install), called when the app is built."""
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopped: asyncio.Event | None = None

    # -- addresses -------------------------------------------------------------------
    @property
    def port(self) -> int:
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    @property
    def openai_base_url(self) -> str:
        return self.base_url + "/v1"

    anthropic_base_url = base_url

    def reset(self) -> None:
        self.hits.clear()
        self.log.clear()
        self.tokens_served = 0
        self.served.clear()
        if self.tpm is not None:
            self.tpm = _Bucket(per_minute=self.tpm.per_minute, burst_s=self.tpm.burst_s)

    # -- lifecycle -------------------------------------------------------------------
    async def start(self) -> Self:
        app = web.Application(client_max_size=512 * 1024**2)  # batch uploads are large
        app.router.add_post("/v1/chat/completions", self._openai)
        app.router.add_post("/v1/messages", self._anthropic)
        app.router.add_get("/_stats", self._stats)  # for benchmarks running the server in another process
        app.router.add_post("/_reset", self._reset)
        for extension in self.extensions:
            extension(app, self)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self._port)  # loopback only, by design
        await site.start()
        self._port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def __enter__(self) -> Self:
        started = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            self._stopped = asyncio.Event()
            try:
                loop.run_until_complete(self.start())
            except BaseException as exc:  # noqa: BLE001 - reported to the caller below
                failure.append(exc)
                started.set()
                return
            started.set()
            loop.run_until_complete(self._stopped.wait())
            loop.run_until_complete(self.stop())
            loop.close()

        self._thread = threading.Thread(target=run, name="evalkit-loopback", daemon=True)
        self._thread.start()
        started.wait(10)
        if failure:
            raise failure[0]
        return self

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None and self._stopped is not None:
            self._loop.call_soon_threadsafe(self._stopped.set)
        if self._thread is not None:
            self._thread.join(10)

    # -- handlers --------------------------------------------------------------------
    def stats(self) -> dict[str, Any]:
        statuses = Counter(h.status for h in self.log)
        return {"requests": len(self.log), "statuses": {str(k): v for k, v in statuses.items()},
                "tokens_served": self.tokens_served, "served": self.served}

    async def _stats(self, request: web.Request) -> web.Response:
        return web.json_response(self.stats())

    async def _reset(self, request: web.Request) -> web.Response:
        self.reset()
        return web.json_response({"ok": True})

    async def _openai(self, request: web.Request) -> web.StreamResponse:
        return await self._handle(request, "openai")

    async def _anthropic(self, request: web.Request) -> web.StreamResponse:
        return await self._handle(request, "anthropic")

    async def _handle(self, request: web.Request, route: str) -> web.StreamResponse:
        body = await request.json()
        sample = int(request.headers.get(SAMPLE_HEADER, "0"))
        model_request = from_openai(body, sample) if route == "openai" else from_anthropic(body, sample)
        key = request_key(model_request)
        attempt = self.hits[key]
        self.hits[key] += 1
        fault = self.faults.pick(key, attempt)
        hit = Hit(key=key, route=route, attempt=attempt, status=200, fault=fault)
        self.log.append(hit)
        if self.latency_s:
            await asyncio.sleep(self.latency_s)
        response = self.responder(model_request)
        usage = response.usage
        if self.tpm is not None and fault is None:
            tokens = (usage.input_tokens or 0) + (usage.output_tokens or 0) if usage else 0
            wait = self.tpm.take(tokens)
            if wait is not None:
                hit.status, hit.fault = 429, "tpm"
                return _error(route, 429, "rate_limit_error", "tokens per minute limit exceeded",
                              retry_after=max(wait, 0.001), headers=self.tpm.headers(route))
            self.tokens_served += tokens
            self.served.append((time.monotonic(), tokens))
        if fault is not None:
            return await self._fault(request, route, fault, hit, body, response)
        payload = openai_body(body, response) if route == "openai" else anthropic_body(body, response)
        hit.usage_reported = hit.billed = _usage_dict(response)
        headers = {"x-request-id": f"req_{uuid.uuid4().hex[:12]}"}
        if self.tpm is not None:
            headers.update(self.tpm.headers(route))
        return web.json_response(payload, headers=headers)

    async def _fault(self, request: web.Request, route: str, fault: str, hit: Hit, body: dict[str, Any],
                     response: ModelResponse) -> web.StreamResponse:
        if fault == "429":
            hit.status = 429
            reset = ({"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": f"{self.reset_after_s:g}s"}
                     if self.reset_after_s is not None else None)
            return _error(route, 429, "rate_limit_error", "rate limited (injected)", retry_after=self.retry_after_s,
                          headers=reset)
        if fault == "500":
            hit.status = 500
            return _error(route, 500, "api_error", "internal error (injected)")
        if fault in ("slow", "nonjson", "drop", "truncate"):
            hit.billed = _usage_dict(response)  # generated (and charged), never delivered whole
        if fault == "no_choices":  # a 200 that reports (and bills) usage but carries no answer to read
            hit.usage_reported = hit.billed = _usage_dict(response)
            payload = openai_body(body, response) if route == "openai" else anthropic_body(body, response)
            payload.pop("choices" if route == "openai" else "content", None)
            return web.json_response(payload)
        if fault == "500_billed":
            hit.status = 500
            hit.usage_reported = hit.billed = _usage_dict(response)
            return _error(route, 500, "api_error", "internal error after generation (injected)",
                          usage=_wire_usage(route, body, response))
        if fault == "529":
            hit.status = 529
            return _error(route, 529, "overloaded_error", "overloaded (injected)")
        if fault == "400":
            hit.status = 400
            return _error(route, 400, "invalid_request_error", "bad request (injected)")
        if fault == "echo_key":  # like a real 401 "Incorrect API key provided: sk-...", but unmasked
            hit.status = 401
            auth = request.headers.get("authorization", "")
            key = request.headers.get("x-api-key") or auth.removeprefix("Bearer ").strip()
            return _error(route, 401, "authentication_error",
                          f"Incorrect API key provided: {key}. Sent: authorization={auth!r} "
                          f"x-api-key={request.headers.get('x-api-key')!r} url={request.url}")
        if fault == "redirect":  # like a proxy or a moved endpoint: 307 keeps the method, body and headers
            hit.status = 307
            target = (self.redirect_to or self.base_url).rstrip("/") + request.path_qs
            return web.Response(status=307, headers={"location": target}, text="moved")
        if fault == "slow":
            await asyncio.sleep(self.slow_s)
            payload = openai_body(body, response) if route == "openai" else anthropic_body(body, response)
            return web.json_response(payload)  # usually nobody is listening any more
        if fault == "nonjson":
            return web.Response(status=200, text="<html><body>502 Bad Gateway</body></html>",
                                content_type="application/json")
        # drop / truncate: break the connection mid-answer
        payload = openai_body(body, response) if route == "openai" else anthropic_body(body, response)
        data = json.dumps(payload).encode()
        stream = web.StreamResponse(status=200, headers={"content-type": "application/json"})
        stream.content_length = len(data)
        if fault == "truncate":
            await stream.prepare(request)
            await stream.write(data[: len(data) // 2])
        if request.transport is not None:
            request.transport.close()
        hit.status = 0
        return stream


def _usage_dict(response: ModelResponse) -> dict[str, int] | None:
    if response.usage is None:
        return None
    return {k: v for k, v in response.usage.model_dump().items() if v is not None}


def _wire_usage(route: str, body: dict[str, Any], response: ModelResponse) -> Any:
    payload = openai_body(body, response) if route == "openai" else anthropic_body(body, response)
    return payload.get("usage")


def _error(route: str, status: int, etype: str, message: str, *, retry_after: float | None = None,
           usage: Any = None, headers: dict[str, str] | None = None) -> web.Response:
    headers = {"x-request-id": f"req_{uuid.uuid4().hex[:12]}", **(headers or {})}
    if retry_after is not None:
        headers["retry-after"] = f"{retry_after:.3f}"
        headers["retry-after-ms"] = str(int(retry_after * 1000))
    if route == "openai":
        payload: dict[str, Any] = {"error": {"message": message, "type": etype, "param": None, "code": None}}
    else:
        payload = {"type": "error", "error": {"type": etype, "message": message}, "request_id": headers["x-request-id"]}
    if usage is not None:
        payload["usage"] = usage
    return web.json_response(payload, status=status, headers=headers)


__all__ = ["SAMPLE_HEADER", "Hit", "LoopbackServer", "Message"]
