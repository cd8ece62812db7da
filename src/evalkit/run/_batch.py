"""Batch execution: send a run's calls through the providers' batch APIs (OpenAI Batch,
Anthropic Message Batches) at batch prices, then finish everything else the normal way.

1. Calls already in the journal are done. Calls the response cache can answer, calls to
   providers without a batch API (sim, rules, litellm) and everything under ``--replay`` go
   the direct path (``execute``), unchanged.
2. The rest is grouped per configuration and split into batches within the provider's
   request-count and payload-size limits (``BatchOptions`` can lower them).
3. Every batch is recorded in the run's batch ledger (``batches.jsonl``, appended and fsynced)
   before and after it is created: ``submitting`` (its chunk id and custom ids), then
   ``submitted`` (the provider's batch id). A resumed run polls the batches it finds there
   and never creates them again. A run killed between creating a batch and recording its id
   finds it again by its chunk id in the batch metadata (OpenAI); for Anthropic that window
   is one HTTP response long.
4. When a batch ends, each answered line becomes a CallRecord (``execution="batch"``, cost
   at the batch price) in the journal; then ``collected`` is recorded.
5. Lines that failed or expired, lines missing from the results, and batches that could not
   be created or failed as a whole fall back to the direct path with its retries, at the
   standard price: every call ends with an answer or a recorded failure.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evalkit._secrets import redact_text
from evalkit.errors import RunFailed
from evalkit.pricing import ModelPrice, batch_price, call_cost
from evalkit.providers import Usage, batch_api_for
from evalkit.run._cache import ResponseCache
from evalkit.run._journal import JOURNAL_NAME, JournalWriter, read_journal
from evalkit.run._records import CallRecord, ExecutionOptions, PlannedCall

LEDGER_NAME = "batches.jsonl"
Key = tuple[str, str, int]


@dataclass(frozen=True, kw_only=True)
class BatchOptions:
    poll_s: float = 30.0
    """Seconds between polls of pending batches (tests use a few milliseconds)."""
    max_requests: int | None = None
    """At most this many requests per batch (default: the provider's limit)."""
    max_bytes: int | None = None
    """At most this many bytes of request lines per batch (default: the provider's limit)."""
    max_poll_errors: int = 20
    """Consecutive failed polls of one batch before its calls fall back to the direct path."""


@dataclass(kw_only=True)
class BatchReport:
    """What batch mode did, for the manifest."""

    batches_created: int = 0
    batches_resumed: int = 0
    batch_answers: int = 0
    failed_lines: int = 0
    expired_lines: int = 0
    fallback_calls: int = 0
    direct_calls: int = 0
    submit_failed_calls: int = 0
    """Calls whose batch the provider refused to create (sent directly instead)."""
    batch_ids: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"mode": "batch", "batches_created": self.batches_created, "batches_resumed": self.batches_resumed,
                "batch_answers": self.batch_answers, "failed_lines": self.failed_lines,
                "expired_lines": self.expired_lines, "fallback_calls": self.fallback_calls,
                "direct_calls": self.direct_calls, "submit_failed_calls": self.submit_failed_calls,
                "batch_ids": self.batch_ids}


def custom_id(call: PlannedCall) -> str:
    """Stable, provider-safe id of a call inside a batch; ``-s<N>`` carries the sample index."""
    digest = hashlib.sha256(f"{call.config}\x00{call.case_id}\x00{call.sample_index}".encode()).hexdigest()[:40]
    return f"{digest}-s{call.sample_index}"


class Ledger:
    """The batch ledger: one JSON line per event, flushed and fsynced at once."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def read(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        out = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                event = json.loads(line)
            except ValueError:
                continue  # a torn last line from kill -9
            if isinstance(event, dict):
                out.append(event)
        return out

    def append(self, event: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        needs_newline = False
        if self.path.exists() and self.path.stat().st_size > 0:
            with open(self.path, "rb") as tail:
                tail.seek(-1, os.SEEK_END)
                needs_newline = tail.read(1) != b"\n"  # a torn line from kill -9 stays isolated
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write(("\n" if needs_newline else "") + redact_text(json.dumps(event, sort_keys=True)) + "\n")
            fh.flush()
            os.fsync(fh.fileno())


@dataclass(kw_only=True)
class _Pending:
    chunk: str
    config: str
    batch_id: str
    ids: list[str]
    submitted_at: float
    poll_errors: int = 0


def _chunks(calls: list[PlannedCall], api: Any, opts: BatchOptions) -> list[list[tuple[PlannedCall, dict]]]:
    max_n = min(opts.max_requests or api.max_requests, api.max_requests)
    max_b = min(opts.max_bytes or api.max_bytes, api.max_bytes)
    out: list[list[tuple[PlannedCall, dict]]] = []
    current: list[tuple[PlannedCall, dict]] = []
    size = 0
    for call in calls:
        line = api.line(custom_id(call), call.request)
        n = len(json.dumps(line, separators=(",", ":")).encode()) + 1
        if current and (len(current) >= max_n or size + n > max_b):
            out.append(current)
            current, size = [], 0
        current.append((call, line))
        size += n
    if current:
        out.append(current)
    return out


async def execute_batch(
    calls: Sequence[PlannedCall],
    *,
    providers: Mapping[str, Any],
    prices: Mapping[str, ModelPrice | None],
    options: ExecutionOptions,
    run_dir: Path,
    seed: int = 0,
    batch: BatchOptions | None = None,
    cache_root: Path | str | None = None,
) -> tuple[list[CallRecord], BatchReport]:
    """Run ``calls`` through the batch APIs where possible; one record per call, in planned order."""
    from evalkit.run import execute  # the direct path (public name: the executor's modules may move)

    opts = batch or BatchOptions()
    run_dir = Path(run_dir)
    report = BatchReport()
    journal_path = run_dir / JOURNAL_NAME
    journaled = read_journal(journal_path)
    keys = {c.key: c.request.cache_key() for c in calls}
    todo = [c for c in calls if not (c.key in journaled and journaled[c.key].cache_key == keys[c.key])]
    cache = None if options.cache_mode == "off" else ResponseCache(cache_root)
    apis = {name: batch_api_for(p) for name, p in providers.items()}

    batchable: dict[str, list[PlannedCall]] = {}
    for call in todo:
        api = apis.get(call.config)
        if api is None or options.cache_mode == "replay" or (cache is not None and cache.contains(keys[call.key])):
            report.direct_calls += 1
            continue
        batchable.setdefault(call.config, []).append(call)

    batch_prices = {name: batch_price(prices.get(name)) for name in providers}
    if options.max_cost_usd is not None:
        _check_batch_budget(batchable, batch_prices, options.max_cost_usd)

    ledger = Ledger(run_dir / LEDGER_NAME)
    by_id = {custom_id(c): c for group in batchable.values() for c in group}
    pending = await _resume_or_submit(batchable, apis, ledger, run_dir.name, opts, report, by_id)
    fallback = await _collect(pending, apis, ledger, journal_path, by_id, batch_prices, cache, options, opts, report)
    report.fallback_calls = len(fallback)
    records = await execute(calls, providers=providers, prices=prices, options=options, run_dir=run_dir,
                            seed=seed, cache_root=cache_root)
    return records, report


async def _resume_or_submit(batchable: dict[str, list[PlannedCall]], apis: Mapping[str, Any], ledger: Ledger,
                            run_id: str, opts: BatchOptions, report: BatchReport,
                            by_id: Mapping[str, PlannedCall]) -> list[_Pending]:
    events = ledger.read()
    collected = {e["batch_id"] for e in events if e.get("event") == "collected"}
    submitted = {e["chunk"]: e for e in events if e.get("event") == "submitted"}
    intents = {e["chunk"]: e for e in events if e.get("event") == "submitting"}
    covered: set[str] = set()
    pending: list[_Pending] = []
    for chunk, intent in intents.items():
        api = apis.get(intent["config"])
        ids = [i for i in intent["ids"] if i in by_id]
        if api is None:
            continue
        done = submitted.get(chunk)
        batch_id = done["batch_id"] if done else None
        if batch_id is None and api.supports_find:  # killed between create and record: find it again
            batch_id = await api.find({"evalkit_run": run_id, "evalkit_chunk": chunk})
            if batch_id is not None:
                ledger.append({"event": "submitted", "chunk": chunk, "config": intent["config"],
                               "batch_id": batch_id, "at": time.time(), "found_by_metadata": True})
        if batch_id is None:
            continue  # never created: its calls are submitted again below
        covered.update(intent["ids"])
        if batch_id in collected or not ids:
            continue
        report.batches_resumed += 1
        report.batch_ids.append(batch_id)
        pending.append(_Pending(chunk=chunk, config=intent["config"], batch_id=batch_id, ids=ids,
                                submitted_at=float(intent.get("at", time.time()))))
    for config, calls in batchable.items():
        api = apis[config]
        fresh = [c for c in calls if custom_id(c) not in covered]
        for chunk_calls in _chunks(fresh, api, opts):
            ids = [custom_id(c) for c, _ in chunk_calls]
            chunk = hashlib.sha256(f"{run_id}\x00{config}\x00{','.join(ids)}".encode()).hexdigest()[:16]
            ledger.append({"event": "submitting", "chunk": chunk, "config": config, "ids": ids, "at": time.time()})
            try:
                batch_id = await api.submit([line for _, line in chunk_calls],
                                            metadata={"evalkit_run": run_id, "evalkit_chunk": chunk})
            except Exception as exc:  # noqa: BLE001 - the calls fall back to the direct path
                ledger.append({"event": "submit_failed", "chunk": chunk, "error": f"{type(exc).__name__}: {exc}"[:300]})
                report.submit_failed_calls += len(ids)
                continue
            ledger.append({"event": "submitted", "chunk": chunk, "config": config, "batch_id": batch_id,
                           "at": time.time()})
            report.batches_created += 1
            report.batch_ids.append(batch_id)
            pending.append(_Pending(chunk=chunk, config=config, batch_id=batch_id, ids=ids, submitted_at=time.time()))
    return pending


async def _collect(pending: list[_Pending], apis: Mapping[str, Any], ledger: Ledger, journal_path: Path,
                   by_id: Mapping[str, PlannedCall], prices: Mapping[str, ModelPrice | None],
                   cache: ResponseCache | None, options: ExecutionOptions, opts: BatchOptions,
                   report: BatchReport) -> list[PlannedCall]:
    """Poll until every pending batch ended; journal its answers. Returns the calls left for the direct path."""
    journal = JournalWriter(journal_path)
    fallback: list[PlannedCall] = []
    try:
        while pending:
            still: list[_Pending] = []
            for p in pending:
                api = apis[p.config]
                try:
                    state = await api.state(p.batch_id)
                except Exception as exc:  # noqa: BLE001 - a poll that fails is tried again
                    p.poll_errors += 1
                    if p.poll_errors >= opts.max_poll_errors:
                        ledger.append({"event": "abandoned", "batch_id": p.batch_id, "error": str(exc)[:300]})
                        fallback.extend(by_id[i] for i in p.ids)
                    else:
                        still.append(p)
                    continue
                p.poll_errors = 0
                if not state.ended:
                    still.append(p)
                    continue
                left = await _take_results(p, api, state.status, journal, by_id, prices, cache, options, report)
                fallback.extend(left)
                if options.progress:
                    print(f"batch {p.batch_id} {state.status}: {len(p.ids) - len(left)} answers"
                          + (f", {len(left)} to send directly" if left else ""), flush=True)
                ledger.append({"event": "collected", "batch_id": p.batch_id, "status": state.status,
                               "at": time.time()})
            pending = still
            if pending:
                await asyncio.sleep(opts.poll_s)
    finally:
        journal.close()
    return fallback


async def _take_results(p: _Pending, api: Any, status: str, journal: JournalWriter,
                        by_id: Mapping[str, PlannedCall], prices: Mapping[str, ModelPrice | None],
                        cache: ResponseCache | None, options: ExecutionOptions,
                        report: BatchReport) -> list[PlannedCall]:
    answered: set[str] = set()
    latency = time.time() - p.submitted_at
    results = await api.results(p.batch_id) if status not in ("failed", "cancelled") else []
    for line in results:
        call = by_id.get(line.custom_id)
        if call is None or line.custom_id not in p.ids:
            continue
        if line.response is None:
            report.expired_lines += line.error_kind == "expired"
            report.failed_lines += line.error_kind != "expired"
            continue
        answered.add(line.custom_id)
        usage = line.response.usage
        cost = call_cost(usage, prices.get(call.config))
        if cache is not None and options.cache_mode == "read-write":
            cache.put(call.request, line.response, key=call.request.cache_key())
        journal.append(CallRecord(
            config=call.config, case_id=call.case_id, sample_index=call.sample_index,
            cache_key=call.request.cache_key(), status="ok", response=line.response, attempts=1,
            billed_usage=[usage if usage is not None else Usage()], cost_usd=cost, nominal_cost_usd=cost,
            latency_s=latency, execution="batch"))
        report.batch_answers += 1
    return [by_id[i] for i in p.ids if i not in answered]


def _check_batch_budget(batchable: Mapping[str, list[PlannedCall]], prices: Mapping[str, ModelPrice | None],
                        max_cost: float) -> None:
    total = 0.0
    for config, calls in batchable.items():
        for call in calls:
            est = call_cost(Usage(input_tokens=call.est_input_tokens, output_tokens=call.est_output_tokens),
                            prices.get(config))
            if est is None:
                raise RunFailed(f"cannot enforce max_cost_usd ${max_cost:.4f}: configuration {config!r} has no "
                                "known price; add a price override to the suite")
            total += est
    if total > max_cost:
        raise RunFailed(f"estimated batch cost ${total:.4f} exceeds max_cost_usd ${max_cost:.4f}; not submitting")


def run_batched(calls: Sequence[PlannedCall], providers: Mapping[str, Any], prices: Mapping[str, ModelPrice | None],
                options: ExecutionOptions, run_dir: Path, suite: Any, manifest: dict[str, Any]) -> list[CallRecord]:
    """The runner's entry point: batch-execute, close the providers, and note in the manifest that
    (and how) the run used batch APIs and at which batch prices."""
    exe = suite.execution
    opts = BatchOptions(poll_s=exe.batch_poll_s, max_requests=exe.batch_max_requests)

    async def go() -> tuple[list[CallRecord], BatchReport]:
        try:
            return await execute_batch(calls, providers=providers, prices=prices, options=options, run_dir=run_dir,
                                       seed=suite.seed, batch=opts)
        finally:
            for provider in providers.values():
                await provider.aclose()

    batched = any(batch_api_for(p) is not None for p in providers.values())
    if options.progress:
        if batched:
            print(f"batch mode: polling every {opts.poll_s:g}s; batch ids go to {Path(run_dir) / LEDGER_NAME} "
                  "(an interrupted run resumes by polling them)", flush=True)
        else:
            print("batch mode: no configuration's provider has a batch API in evalkit: every call is sent "
                  "directly", flush=True)
        direct = sorted(name for name, p in providers.items()
                        if batch_api_for(p) is None and not getattr(p, "offline", False))
        if direct and batched:
            print(f"batch mode: {', '.join(direct)} (provider without a batch API in evalkit) "
                  "run with direct calls at standard prices", flush=True)
    records, report = asyncio.run(go())
    manifest["execution"] = report.to_json()
    if not batched:  # asked for, but nothing went through a batch API: the run is a direct one
        manifest["execution"]["mode"] = "direct"
    for c in manifest.get("configs", []):
        if batch_api_for(providers.get(c.get("name"))) is None:
            c["execution"] = "direct"
            continue
        c["execution"] = "batch"
        bp = batch_price(prices.get(c.get("name")))
        c["batch_price"] = None if bp is None else {"input": bp.input, "output": bp.output,
                                                   "cache_read": bp.cache_read, "cache_write": bp.cache_write,
                                                   "source": bp.source, "model": bp.model}
    return records
