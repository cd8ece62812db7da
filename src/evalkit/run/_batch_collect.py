"""Batch mode's collecting side: poll the pending batches, journal each answered line at the batch
price, and hand every other call (failed, expired or missing lines; batches abandoned after
``max_poll_errors`` failed polls or results downloads, cancelled when they may still run) back
for the direct path, saying so on stderr."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evalkit._secrets import redact_text
from evalkit.pricing import ModelPrice, call_cost
from evalkit.providers import Usage
from evalkit.run._batch_ledger import BatchReport, Ledger
from evalkit.run._cache import ResponseCache
from evalkit.run._journal import JournalWriter
from evalkit.run._records import CallRecord, ExecutionOptions, PlannedCall

if TYPE_CHECKING:
    from evalkit.run._batch import BatchOptions


def _warn(message: str) -> None:
    """Said on stderr whatever the progress setting: each of these costs money."""
    print(redact_text(f"warning: batch mode: {message}"), file=sys.stderr, flush=True)  # errors may quote a key


@dataclass(kw_only=True)
class _Pending:
    chunk: str
    config: str
    batch_id: str
    ids: list[str]
    submitted_at: float
    poll_errors: int = 0


async def _abandon(p: _Pending, api: Any, ledger: Ledger, error: BaseException, opts: BatchOptions, *,
                   ended: bool) -> None:
    """Give up on a batch whose polls (or, once it ended, results downloads) keep failing: cancel it when
    it may still be running (best effort; a batch left running is billed while its calls are paid again
    directly), record and say it."""
    text = f"{type(error).__name__}: {error}"[:300]
    ledger.append({"event": "abandoned", "chunk": p.chunk, "batch_id": p.batch_id, "config": p.config,
                   "calls": len(p.ids), "ended": ended, "error": text, "at": time.time()})
    what = "its results could not be read" if ended else "it could not be polled"
    if ended:
        outcome = "it had ended, nothing to cancel"
    else:
        try:
            await api.cancel(p.batch_id)
        except Exception as exc:  # noqa: BLE001 - said below: the user may cancel it by hand
            cancel = f"{type(exc).__name__}: {exc}"[:300]
            ledger.append({"event": "cancel_failed", "batch_id": p.batch_id, "error": cancel, "at": time.time()})
            outcome = (f"cancelling it failed too ({cancel}): cancel batch {p.batch_id} with the provider, or it "
                       "may be billed as well")
        else:
            ledger.append({"event": "cancelled", "batch_id": p.batch_id, "at": time.time()})
            outcome = "cancelled it"
    _warn(f"batch {p.batch_id} ({p.config!r}): {what} {opts.max_poll_errors} times in a row ({text}); "
          f"{outcome}; sending its {len(p.ids)} calls directly at the standard price (about twice the batch price)")


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
                state = None
                failed, expired = report.failed_lines, report.expired_lines
                try:
                    state = await api.state(p.batch_id)
                    left = (await _take_results(p, api, state.status, journal, by_id, prices, cache, options, report)
                            if state.ended else None)
                except Exception as exc:  # noqa: BLE001 - a poll (or a results download) that fails is tried again
                    p.poll_errors += 1
                    if p.poll_errors >= opts.max_poll_errors:
                        await _abandon(p, api, ledger, exc, opts, ended=state is not None and state.ended)
                        fallback.extend(by_id[i] for i in p.ids)
                    else:
                        still.append(p)
                    continue
                p.poll_errors = 0
                if left is None:  # still running
                    still.append(p)
                    continue
                fallback.extend(left)
                if options.progress:
                    print(f"batch {p.batch_id} {state.status}: {len(p.ids) - len(left)} answers"
                          + (f", {len(left)} to send directly at the standard price" if left else ""), flush=True)
                ledger.append({"event": "collected", "batch_id": p.batch_id, "status": state.status,
                               "answers": len(p.ids) - len(left), "failed_lines": report.failed_lines - failed,
                               "expired_lines": report.expired_lines - expired, "fallback": len(left),
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
