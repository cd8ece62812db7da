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
   be created (after ``submit_attempts`` tries of a transient error) or failed as a whole fall
   back to the direct path with its retries, at the standard price: every call ends with an
   answer or a recorded failure. A batch whose polls fail ``max_poll_errors`` times in a row is
   abandoned: cancelled (best effort: the provider would go on and bill it) and its calls sent
   directly. Each such fallback is said on stderr and counted in the manifest.

``--max-cost`` is checked once, before any batch is created, against everything the run will
pay: batched calls at the batch price, calls that stay direct at theirs, and what the run
already spent.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evalkit.errors import RunFailed
from evalkit.pricing import ModelPrice, batch_price
from evalkit.providers import batch_api_for, transient_wait
from evalkit.run._batch_collect import _collect, _Pending, _warn
from evalkit.run._batch_ledger import LEDGER_NAME, BatchReport, Ledger, custom_id_of, report_from_ledger
from evalkit.run._cache import ResponseCache
from evalkit.run._journal import JOURNAL_NAME, read_journal
from evalkit.run._records import CallRecord, ExecutionOptions, PlannedCall

__all__ = ["LEDGER_NAME", "BatchOptions", "BatchReport", "Ledger", "custom_id", "execute_batch", "run_batched"]

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
    """Consecutive failed polls of one batch before it is abandoned: cancelled, its calls sent directly."""
    submit_attempts: int = 4
    """Tries to create one batch when the provider answers with a transient error (5xx, 429, timeout)."""
    submit_backoff_s: float = 2.0
    """First wait before creating a batch again; doubled after each failure (with jitter)."""


def custom_id(call: PlannedCall) -> str:
    """Stable, provider-safe id of a call inside a batch; ``-s<N>`` carries the sample index."""
    return custom_id_of(call.config, call.case_id, call.sample_index)


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
    if options.max_cost_usd is not None:  # the whole run, before any batch is created
        _check_run_budget(calls, providers, prices, options, run_dir, cache_root=cache_root,
                          batched={name for name, api in apis.items()
                                   if api is not None and options.cache_mode != "replay"})

    ledger = Ledger(run_dir / LEDGER_NAME)
    by_id = {custom_id(c): c for group in batchable.values() for c in group}
    pending = await _resume_or_submit(batchable, apis, ledger, run_dir.name, opts, report, by_id)
    fallback = await _collect(pending, apis, ledger, journal_path, by_id, batch_prices, cache, options, opts, report)
    report.fallback_calls = len(fallback) + report.submit_failed_calls
    records = await execute(calls, providers=providers, prices=prices, options=options, run_dir=run_dir,
                            seed=seed, cache_root=cache_root)
    whole = report_from_ledger(ledger.read(), records)
    summary = whole.fallback_summary()
    if summary and report.fallback_calls:  # this session sent some directly: say what it cost
        _warn(summary)
    return records, whole


def _check_run_budget(calls: Sequence[PlannedCall], providers: Mapping[str, Any],
                      prices: Mapping[str, ModelPrice | None], options: ExecutionOptions, run_dir: Path, *,
                      batched: set[str], cache_root: Path | str | None) -> None:
    """Refuse before any batch is created when the whole run would pass ``max_cost_usd``: what the run
    already spent, the calls of the ``batched`` configurations at the batch price and every other call
    (providers without a batch API, ...) at its own price, counted as the direct path counts them (a
    journaled call is done, a cached answer is free). The direct path checks again what is left to it."""
    from evalkit.run._executor import _check_budget, _keys, _ledger, _resumed

    assert options.max_cost_usd is not None
    keys = _keys(calls, providers)
    resumed = _resumed(calls, keys, run_dir / JOURNAL_NAME, retry_failed=False)
    cache = None if options.cache_mode == "off" else ResponseCache(cache_root)
    offline = {name: bool(getattr(p, "offline", False)) for name, p in providers.items()}
    at = {name: batch_price(prices.get(name)) if name in batched else prices.get(name) for name in providers}
    _check_budget(resumed.todo, keys, cache, offline, _ledger(providers, at, options, resumed, offline),
                  options.max_cost_usd)


async def _resume_or_submit(batchable: dict[str, list[PlannedCall]], apis: Mapping[str, Any], ledger: Ledger,
                            run_id: str, opts: BatchOptions, report: BatchReport,
                            by_id: Mapping[str, PlannedCall]) -> list[_Pending]:
    events = ledger.read()
    collected = {e["batch_id"] for e in events if e.get("event") in ("collected", "abandoned")}
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
        ledger.append({"event": "resumed", "chunk": chunk, "batch_id": batch_id, "at": time.time()})
        pending.append(_Pending(chunk=chunk, config=intent["config"], batch_id=batch_id, ids=ids,
                                submitted_at=float(intent.get("at", time.time()))))
    rng = random.Random(run_id)
    for config, calls in batchable.items():
        api = apis[config]
        fresh = [c for c in calls if custom_id(c) not in covered]
        for chunk_calls in _chunks(fresh, api, opts):
            ids = [custom_id(c) for c, _ in chunk_calls]
            chunk = hashlib.sha256(f"{run_id}\x00{config}\x00{','.join(ids)}".encode()).hexdigest()[:16]
            ledger.append({"event": "submitting", "chunk": chunk, "config": config, "ids": ids, "at": time.time()})
            try:
                batch_id = await _submit(api, [line for _, line in chunk_calls], opts, rng,
                                         metadata={"evalkit_run": run_id, "evalkit_chunk": chunk})
            except _SubmitFailed as failed:  # the calls fall back to the direct path
                error = f"{type(failed.error).__name__}: {failed.error}"[:300]
                ledger.append({"event": "submit_failed", "chunk": chunk, "config": config, "calls": len(ids),
                               "attempts": failed.attempts, "error": error, "at": time.time()})
                report.submit_failed_calls += len(ids)
                _warn(f"could not create a batch of {len(ids)} calls for configuration {config!r} "
                      f"({failed.attempts} attempt{'s' if failed.attempts > 1 else ''}; {error}); sending them "
                      "directly at the standard price (about twice the batch price)")
                continue
            ledger.append({"event": "submitted", "chunk": chunk, "config": config, "batch_id": batch_id,
                           "at": time.time()})
            report.batches_created += 1
            report.batch_ids.append(batch_id)
            pending.append(_Pending(chunk=chunk, config=config, batch_id=batch_id, ids=ids, submitted_at=time.time()))
    return pending


class _SubmitFailed(Exception):
    def __init__(self, error: BaseException, attempts: int) -> None:
        super().__init__(str(error))
        self.error = error
        self.attempts = attempts


async def _submit(api: Any, lines: list[dict[str, Any]], opts: BatchOptions, rng: random.Random, *,
                  metadata: dict[str, str]) -> str:
    """Create one batch; a transient error (5xx, 429, timeout, dropped connection) is tried again, up to
    ``opts.submit_attempts`` times with exponential backoff (honouring Retry-After, at most 2 min). Before
    trying again, a batch the provider created although its answer was lost is looked for by its metadata
    (OpenAI), so a retry never makes a second batch there."""
    attempt = 0
    while True:
        attempt += 1
        try:
            return await api.submit(lines, metadata=metadata)
        except Exception as exc:  # classified below
            wait = transient_wait(exc)
            if wait is None or attempt >= opts.submit_attempts:
                raise _SubmitFailed(exc, attempt) from exc
            backoff = opts.submit_backoff_s * 2 ** (attempt - 1) * rng.uniform(0.5, 1.0)
            await asyncio.sleep(min(max(wait, backoff), 120.0))
            if api.supports_find:
                try:
                    found = await api.find(metadata)
                except Exception:  # noqa: BLE001 - not found is what the retry assumes anyway
                    found = None
                if found is not None:
                    return str(found)


def run_batched(calls: Sequence[PlannedCall], providers: Mapping[str, Any], prices: Mapping[str, ModelPrice | None],
                options: ExecutionOptions, run_dir: Path, suite: Any, manifest: dict[str, Any]) -> list[CallRecord]:
    """The runner's entry point: batch-execute, close the providers, and note in the manifest that
    (and how) the whole run used batch APIs and at which batch prices."""
    exe = suite.execution
    opts = BatchOptions(poll_s=exe.batch_poll_s, max_requests=exe.batch_max_requests,
                        max_poll_errors=exe.batch_max_poll_errors, submit_backoff_s=min(2.0, exe.batch_poll_s))

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
    try:
        records, report = asyncio.run(go())
    except RunFailed as exc:  # stopped (budget, errors): the manifest still says what the batches did
        finished = getattr(exc, "records", None)
        if finished is not None:
            _note(manifest, report_from_ledger(Ledger(Path(run_dir) / LEDGER_NAME).read(), finished), batched,
                  providers, prices)
        raise
    _note(manifest, report, batched, providers, prices)
    return records


def _note(manifest: dict[str, Any], report: BatchReport, batched: bool, providers: Mapping[str, Any],
          prices: Mapping[str, ModelPrice | None]) -> None:
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
