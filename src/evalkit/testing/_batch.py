"""Batch APIs on the loopback server: OpenAI (files + batches) and Anthropic Message Batches.

    batches = BatchAPIs(delay_s=0.2, fail_rate=0.05, expire=(1,))
    with LoopbackServer(extensions=[batches.install]) as srv: ...

Endpoints (as the official SDKs call them):

- OpenAI: ``POST /v1/files`` (multipart, purpose=batch), ``POST /v1/batches``,
  ``GET /v1/batches/{id}``, ``GET /v1/batches`` (list), ``POST /v1/batches/{id}/cancel``,
  ``GET /v1/files/{id}/content``.
- Anthropic: ``POST /v1/messages/batches``, ``GET /v1/messages/batches/{id}``,
  ``POST /v1/messages/batches/{id}/cancel``, ``GET /v1/messages/batches/{id}/results``.
- ``GET /_batches``: the counts below, as JSON (for a server run with ``python -m evalkit.testing``).

A batch stays in progress for ``delay_s`` after it was created, then ends, answering each
line with the server's responder (the same answers as the streaming endpoints). Each line
fails with a server error when a seeded hash of its custom_id falls under ``fail_rate``; the
batches whose creation ordinal (0-based, per API) is in ``expire`` end as *expired*: the
first half of their lines are answered, the rest are expired. ``created`` counts batches
created per API: the server-side count a test checks to prove nothing was resubmitted.
``refuse_creates`` answers the first N creations (per API) with a 500; ``poll_errors`` answers
the first N status polls of each batch with a 500 (a batch the client may abandon); a
cancelled batch ends at once, its unfinished lines *canceled*, and counts in ``cancelled``.

Self-consistency samples: batch lines carry no headers, so the sample index travels as a
``-s<N>`` suffix of the custom_id (real APIs ignore it; evalkit always adds it).
"""

from __future__ import annotations

import hashlib
import json
import re
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from evalkit.testing._wire import anthropic_body, from_anthropic, from_openai, openai_body

_SAMPLE = re.compile(r"-s(\d+)$")


def _sample(custom_id: str) -> int:
    m = _SAMPLE.search(custom_id)
    return int(m.group(1)) if m else 0


@dataclass(kw_only=True)
class _Batch:
    id: str
    api: str
    ordinal: int
    lines: list[dict[str, Any]]
    created: float
    metadata: dict[str, Any] | None = None
    input_file_id: str | None = None
    ended: bool = False
    expired: bool = False
    cancelled: bool = False
    polls: int = 0
    results: list[dict[str, Any]] = field(default_factory=list)
    output_file_id: str | None = None
    error_file_id: str | None = None
    key: str = ""
    """The API key the batch was created with (echoed in its errors when ``echo_key``)."""


class BatchAPIs:
    def __init__(self, *, delay_s: float = 0.05, fail_rate: float = 0.0, expire: tuple[int, ...] = (),
                 seed: int = 0, refuse_creates: int = 0, echo_key: bool = False, poll_errors: int = 0) -> None:
        self.delay_s = delay_s
        self.poll_errors = poll_errors
        """Answer the first N status polls of each batch with a 500."""
        self.cancelled: Counter[str] = Counter()
        """Batches cancelled per API."""
        self.echo_key = echo_key
        """Quote the caller's API key in error messages (refusals, errored lines), as some providers do."""
        self.refuse_creates = refuse_creates
        """Answer the first N batch creations (per API) with a 500, as an overloaded provider might."""
        self.refused: Counter[str] = Counter()
        self.fail_rate = fail_rate
        self.expire = {"openai": set(expire), "anthropic": set(expire)}
        self.seed = seed
        self.created: Counter[str] = Counter()
        """Batches created per API ('openai', 'anthropic')."""
        self.lines_submitted: Counter[str] = Counter()
        self.files: dict[str, bytes] = {}
        self.batches: dict[str, _Batch] = {}
        self._server: Any = None

    def install(self, app: web.Application, server: Any) -> None:
        """The LoopbackServer extension hook: add the batch routes."""
        self._server = server
        r = app.router
        r.add_post("/v1/files", self._openai_upload)
        r.add_get("/v1/files/{id}/content", self._openai_content)
        r.add_post("/v1/batches", self._openai_create)
        r.add_get("/v1/batches", self._openai_list)
        r.add_get("/v1/batches/{id}", self._openai_retrieve)
        r.add_post("/v1/batches/{id}/cancel", self._openai_cancel)
        r.add_post("/v1/messages/batches", self._anthropic_create)
        r.add_get("/v1/messages/batches/{id}", self._anthropic_retrieve)
        r.add_post("/v1/messages/batches/{id}/cancel", self._anthropic_cancel)
        r.add_get("/v1/messages/batches/{id}/results", self._anthropic_results)
        r.add_get("/_batches", self._counts)

    def counts(self) -> dict[str, Any]:
        """Batches created, refused and cancelled, and lines submitted, per API."""
        return {"created": dict(self.created), "refused": dict(self.refused), "cancelled": dict(self.cancelled),
                "lines_submitted": dict(self.lines_submitted)}

    async def _counts(self, request: web.Request) -> web.Response:
        return web.json_response(self.counts())

    # -- shared ------------------------------------------------------------------------
    def _error_text(self, message: str, key: str) -> str:
        return f"{message}; request made with API key {key}" if self.echo_key and key else message

    def _fails(self, custom_id: str) -> bool:
        if self.fail_rate <= 0:
            return False
        digest = hashlib.sha256(f"{self.seed}:batch:{custom_id}".encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2**64 < self.fail_rate

    def _new(self, api: str, lines: list[dict[str, Any]], **kw: Any) -> _Batch:
        prefix = "batch_" if api == "openai" else "msgbatch_"
        batch = _Batch(id=prefix + uuid.uuid4().hex[:24], api=api, ordinal=self.created[api], lines=lines,
                       created=time.time(), **kw)
        self.created[api] += 1
        self.lines_submitted[api] += len(lines)
        self.batches[batch.id] = batch
        return batch

    def _poll_fails(self, batch: _Batch) -> bool:
        batch.polls += 1
        return batch.polls <= self.poll_errors

    def _cancel(self, batch: _Batch) -> None:
        """Stop the batch: the lines already done (none before its delay has passed) keep their results."""
        if batch.ended:
            return
        batch.ended = batch.cancelled = True
        self.cancelled[batch.api] += 1
        batch.results = [{"custom_id": line["custom_id"], "outcome": "canceled"} for line in batch.lines]
        if batch.api == "openai":
            self._openai_files(batch)

    def _finish(self, batch: _Batch) -> None:
        """End the batch once its delay has passed: answer, fail or expire each line."""
        if batch.ended or time.time() - batch.created < self.delay_s:
            return
        expired = batch.ordinal in self.expire[batch.api]
        answered = len(batch.lines) // 2 if expired else len(batch.lines)
        responder = self._server.responder
        results: list[dict[str, Any]] = []  # a responder that raises leaves the batch in progress, not half-ended
        for i, line in enumerate(batch.lines):
            cid = line["custom_id"]
            if i >= answered:
                results.append({"custom_id": cid, "outcome": "expired"})
                continue
            if self._fails(cid):
                results.append({"custom_id": cid, "outcome": "errored"})
                continue
            body = line["body"] if batch.api == "openai" else line["params"]
            if batch.api == "openai":
                request = from_openai(body, _sample(cid))
                payload = openai_body(body, responder(request))
            else:
                request = from_anthropic(body, _sample(cid))
                payload = anthropic_body(body, responder(request))
            results.append({"custom_id": cid, "outcome": "succeeded", "body": payload})
        batch.results, batch.expired, batch.ended = results, expired, True
        if batch.api == "openai":
            self._openai_files(batch)

    # -- OpenAI ------------------------------------------------------------------------
    async def _openai_upload(self, request: web.Request) -> web.Response:
        form = await request.post()
        upload = form.get("file")
        data = upload.file.read() if hasattr(upload, "file") else str(upload or "").encode()
        file_id = "file-" + uuid.uuid4().hex[:24]
        self.files[file_id] = data
        return web.json_response({"id": file_id, "object": "file", "bytes": len(data), "created_at": int(time.time()),
                                  "filename": getattr(upload, "filename", "batch.jsonl"),
                                  "purpose": str(form.get("purpose", "batch")), "status": "processed"})

    async def _openai_content(self, request: web.Request) -> web.Response:
        data = self.files.get(request.match_info["id"])
        if data is None:
            return web.json_response({"error": {"message": "no such file", "type": "invalid_request_error"}},
                                     status=404)
        return web.Response(body=data, content_type="application/octet-stream")

    def _refuse(self, api: str) -> bool:
        if self.refused[api] < self.refuse_creates:
            self.refused[api] += 1
            return True
        return False

    async def _openai_create(self, request: web.Request) -> web.Response:
        body = await request.json()
        if self._refuse("openai"):
            return web.json_response({"error": {"message": self._error_text("batch creation failed (injected)",
                                                                            _key_of(request)),
                                                "type": "server_error"}}, status=500)
        data = self.files.get(body.get("input_file_id", ""))
        if data is None:
            return web.json_response({"error": {"message": "input file not found", "type": "invalid_request_error"}},
                                     status=400)
        lines = [json.loads(x) for x in data.decode().splitlines() if x.strip()]
        batch = self._new("openai", lines, metadata=body.get("metadata"), input_file_id=body["input_file_id"],
                          key=_key_of(request))
        return web.json_response(self._openai_json(batch))

    async def _openai_retrieve(self, request: web.Request) -> web.Response:
        batch = self.batches.get(request.match_info["id"])
        if batch is None or batch.api != "openai":
            return web.json_response({"error": {"message": "no such batch", "type": "invalid_request_error"}},
                                     status=404)
        if self._poll_fails(batch):
            return web.json_response({"error": {"message": "internal error (injected poll failure)",
                                                "type": "server_error"}}, status=500)
        self._finish(batch)
        return web.json_response(self._openai_json(batch))

    async def _openai_cancel(self, request: web.Request) -> web.Response:
        batch = self.batches.get(request.match_info["id"])
        if batch is None or batch.api != "openai":
            return web.json_response({"error": {"message": "no such batch", "type": "invalid_request_error"}},
                                     status=404)
        self._cancel(batch)
        return web.json_response(self._openai_json(batch))

    async def _openai_list(self, request: web.Request) -> web.Response:
        data = [self._openai_json(b) for b in reversed(list(self.batches.values())) if b.api == "openai"]
        return web.json_response({"object": "list", "data": data, "first_id": data[0]["id"] if data else None,
                                  "last_id": data[-1]["id"] if data else None, "has_more": False})

    def _openai_files(self, batch: _Batch) -> None:
        out, err = [], []
        for r in batch.results:
            rid = "batch_req_" + uuid.uuid4().hex[:20]
            if r["outcome"] == "succeeded":
                out.append({"id": rid, "custom_id": r["custom_id"], "error": None,
                            "response": {"status_code": 200, "request_id": rid, "body": r["body"]}})
            elif r["outcome"] == "errored":
                err.append({"id": rid, "custom_id": r["custom_id"], "error": None, "response": {
                    "status_code": 500, "request_id": rid,
                    "body": {"error": {"message": self._error_text("internal error (injected)", batch.key),
                                       "type": "server_error"}}}})
            elif r["outcome"] == "canceled":
                err.append({"id": rid, "custom_id": r["custom_id"], "response": None, "error": {
                    "code": "batch_cancelled", "message": "This request was cancelled with its batch."}})
            else:
                err.append({"id": rid, "custom_id": r["custom_id"], "response": None, "error": {
                    "code": "batch_expired",
                    "message": "This request could not be executed before the completion window expired."}})
        if out:
            batch.output_file_id = "file-" + uuid.uuid4().hex[:24]
            self.files[batch.output_file_id] = "".join(json.dumps(x) + "\n" for x in out).encode()
        if err:
            batch.error_file_id = "file-" + uuid.uuid4().hex[:24]
            self.files[batch.error_file_id] = "".join(json.dumps(x) + "\n" for x in err).encode()

    def _openai_json(self, b: _Batch) -> dict[str, Any]:
        done = sum(r["outcome"] == "succeeded" for r in b.results)
        status = ("in_progress" if not b.ended else "cancelled" if b.cancelled else "expired" if b.expired
                  else "completed")
        now = int(time.time())
        return {"id": b.id, "object": "batch", "endpoint": "/v1/chat/completions", "errors": None,
                "input_file_id": b.input_file_id, "completion_window": "24h", "status": status,
                "output_file_id": b.output_file_id, "error_file_id": b.error_file_id, "created_at": int(b.created),
                "in_progress_at": int(b.created), "expires_at": int(b.created) + 86400,
                "completed_at": now if status == "completed" else None,
                "expired_at": now if status == "expired" else None, "failed_at": None,
                "cancelled_at": now if status == "cancelled" else None,
                "request_counts": {"total": len(b.lines), "completed": done, "failed": len(b.results) - done},
                "metadata": b.metadata}

    # -- Anthropic ---------------------------------------------------------------------
    async def _anthropic_create(self, request: web.Request) -> web.Response:
        body = await request.json()
        if self._refuse("anthropic"):
            message = self._error_text("batch creation failed (injected)", _key_of(request))
            return web.json_response({"type": "error", "error": {"type": "api_error", "message": message}},
                                     status=500)
        batch = self._new("anthropic", list(body.get("requests") or []), key=_key_of(request))
        return web.json_response(self._anthropic_json(batch, request))

    async def _anthropic_retrieve(self, request: web.Request) -> web.Response:
        batch = self.batches.get(request.match_info["id"])
        if batch is None or batch.api != "anthropic":
            return web.json_response({"type": "error", "error": {"type": "not_found_error", "message": "no batch"}},
                                     status=404)
        if self._poll_fails(batch):
            return web.json_response({"type": "error", "error": {"type": "api_error",
                                                                 "message": "internal error (injected poll failure)"}},
                                     status=500)
        self._finish(batch)
        return web.json_response(self._anthropic_json(batch, request))

    async def _anthropic_cancel(self, request: web.Request) -> web.Response:
        batch = self.batches.get(request.match_info["id"])
        if batch is None or batch.api != "anthropic":
            return web.json_response({"type": "error", "error": {"type": "not_found_error", "message": "no batch"}},
                                     status=404)
        self._cancel(batch)
        return web.json_response(self._anthropic_json(batch, request))

    async def _anthropic_results(self, request: web.Request) -> web.Response:
        batch = self.batches.get(request.match_info["id"])
        if batch is None or not batch.ended:
            return web.json_response({"type": "error", "error": {"type": "not_found_error",
                                                                 "message": "results not ready"}}, status=404)
        lines = []
        for r in batch.results:
            if r["outcome"] == "succeeded":
                result: dict[str, Any] = {"type": "succeeded", "message": r["body"]}
            elif r["outcome"] == "errored":
                result = {"type": "errored", "error": {"type": "error", "error": {
                    "type": "api_error", "message": self._error_text("internal error (injected)", batch.key)}}}
            else:
                result = {"type": r["outcome"]}  # expired, canceled
            lines.append(json.dumps({"custom_id": r["custom_id"], "result": result}))
        return web.Response(body="".join(line + "\n" for line in lines).encode(), content_type="application/binary")

    def _anthropic_json(self, b: _Batch, request: web.Request) -> dict[str, Any]:
        counts = Counter(r["outcome"] for r in b.results)
        base = f"{request.scheme}://{request.host}"
        return {"id": b.id, "type": "message_batch", "processing_status": "ended" if b.ended else "in_progress",
                "request_counts": {"processing": 0 if b.ended else len(b.lines), "succeeded": counts["succeeded"],
                                   "errored": counts["errored"], "canceled": counts["canceled"],
                                   "expired": counts["expired"]},
                "created_at": _iso(b.created), "expires_at": _iso(b.created + 86400),
                "ended_at": _iso(time.time()) if b.ended else None, "archived_at": None,
                "cancel_initiated_at": _iso(b.created) if b.cancelled else None,
                "results_url": f"{base}/v1/messages/batches/{b.id}/results" if b.ended else None}


def _key_of(request: web.Request) -> str:
    """The API key a request carries (OpenAI: ``Authorization: Bearer``; Anthropic: ``x-api-key``)."""
    auth = request.headers.get("Authorization", "")
    return auth.removeprefix("Bearer ").strip() or request.headers.get("x-api-key", "")


def _iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))
