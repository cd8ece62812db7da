"""The run engine: send planned calls concurrently, within rate limits and budget,
with retries, a response cache and a durable journal.

Guarantees: every planned call ends as exactly one CallRecord (ok or failed with a
reason) unless the run is stopped early (error share, budget), in which case the
finished ones are already in the journal and ``execute`` raises ``RunFailed``; a call
found in the journal is never sent again; spend is counted per billed attempt.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evalkit.errors import ConfigError, RunFailed
from evalkit.pricing import ModelPrice, call_cost
from evalkit.providers import ModelResponse, Usage
from evalkit.run._cache import ResponseCache
from evalkit.run._journal import JOURNAL_NAME, JournalWriter, read_journal
from evalkit.run._limits import Limiters
from evalkit.run._progress import Progress
from evalkit.run._records import CallRecord, ExecutionOptions, PlannedCall
from evalkit.run._retry import Failure, RetryPolicy, backoff_s, classify

Key = tuple[str, str, int]


@dataclass(kw_only=True)
class _State:
    max_cost: float | None
    spent: float = 0.0
    reserved: float = 0.0
    finished: int = 0
    failed: int = 0
    stop: str | None = None
    """Why new calls are no longer started: 'errors' or 'budget'."""
    last_failure: tuple[PlannedCall, Failure] | None = None
    records: dict[Key, CallRecord] = field(default_factory=dict)

    def reserve(self, est: float) -> bool:
        if self.max_cost is None:
            return True
        if self.spent + self.reserved + est > self.max_cost:
            return False
        self.reserved += est
        return True

    def settle(self, est: float, actual: float | None) -> None:
        if self.max_cost is not None:
            self.reserved -= est
        self.spent += actual or 0.0


def _sum_cost(usages: list[Usage], price: ModelPrice | None) -> float | None:
    total = 0.0
    for usage in usages:
        cost = call_cost(usage, price)
        if cost is None:
            return None  # one unknown attempt makes the total unknown, never an undercount
        total += cost
    return total


def _est_cost(call: PlannedCall, price: ModelPrice | None) -> float | None:
    return call_cost(Usage(input_tokens=call.est_input_tokens, output_tokens=call.est_output_tokens), price)


async def execute(
    calls: Sequence[PlannedCall],
    *,
    providers: Mapping[str, Any],
    prices: Mapping[str, ModelPrice | None],
    options: ExecutionOptions,
    run_dir: Path | str | None = None,
    on_record: Callable[[CallRecord], None] | None = None,
    cache_root: Path | str | None = None,
    seed: int = 0,
    retry_failed: bool = False,
    min_calls_for_error_share: int = 20,
    retry_policy: RetryPolicy | None = None,
    rate_burst_s: float = 1.0,
) -> list[CallRecord]:
    """Run ``calls`` and return one record per call, in planned order.

    ``providers`` and ``prices`` are keyed by configuration name. With ``run_dir`` every
    finished call is appended to ``run_dir/journal.jsonl``; calls already there (same
    key and cache key) are returned as-is and not sent again. ``retry_failed`` re-sends
    journaled failures (their attempts and billed usage are carried over). ``seed``
    drives the retry jitter. ``on_record`` sees each newly finished record.
    """
    policy = retry_policy or RetryPolicy()
    rng = random.Random(seed)
    keys: dict[Key, str] = {}
    for call in calls:
        if call.key in keys:
            raise ConfigError(f"planned call {call.key} appears twice: each (config, case, sample) runs once")
        if call.config not in providers:
            raise ConfigError(f"no provider for configuration {call.config!r} (case {call.case_id!r})")
        keys[call.key] = call.request.cache_key()

    journaled: dict[Key, CallRecord] = {}
    journal_path = Path(run_dir) / JOURNAL_NAME if run_dir is not None else None
    if journal_path is not None:
        journaled = read_journal(journal_path)
    done: dict[Key, CallRecord] = {}
    carried: dict[Key, CallRecord] = {}
    todo: list[PlannedCall] = []
    for call in calls:
        rec = journaled.get(call.key)
        if rec is not None and rec.cache_key == keys[call.key]:
            if rec.status == "ok" or not retry_failed:
                done[call.key] = rec
                continue
            carried[call.key] = rec
        todo.append(call)

    cache = None if options.cache_mode == "off" else ResponseCache(cache_root)
    offline = {name: bool(getattr(p, "offline", False)) for name, p in providers.items()}
    if options.cache_mode == "replay":
        missing = [c for c in todo if not offline[c.config] and not cache.contains(keys[c.key])]
        if missing:
            first = missing[0]
            more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
            raise RunFailed(
                f"--replay: no cached answer for case {first.case_id!r} in configuration {first.config!r} "
                f"(sample {first.sample_index}, model {first.request.model!r}){more}; cache: {cache.root}. "
                "Run once without --replay to record the answers."
            )

    state = _State(max_cost=options.max_cost_usd)
    if options.max_cost_usd is not None:
        _check_budget(todo, keys, cache, offline, prices, options.max_cost_usd)

    limiters = Limiters(requests_per_minute=options.requests_per_minute,
                        tokens_per_minute=options.tokens_per_minute, burst_s=rate_burst_s,
                        per_model=options.model_limits)
    journal = JournalWriter(journal_path) if journal_path is not None else None
    progress = Progress(total=len(calls), enabled=options.progress, already_done=len(done),
                        simulated=any(getattr(p, "simulated", False) for p in providers.values()))
    started = time.perf_counter()
    new_count = 0

    def finish(call: PlannedCall, rec: CallRecord) -> None:
        nonlocal new_count
        prior = carried.get(call.key)
        if prior is not None:  # a resumed failure: keep every billed attempt of both runs
            rec.attempts += prior.attempts
            rec.billed_usage = prior.billed_usage + rec.billed_usage
            if not rec.cache_hit:
                rec.cost_usd = _sum_cost(rec.billed_usage, prices.get(call.config))
        if journal is not None:
            journal.append(rec)
        state.records[call.key] = rec
        state.finished += 1
        state.failed += rec.status == "failed"
        new_count += 1
        progress.update(failed=rec.status == "failed", cache_hit=rec.cache_hit, cost=rec.cost_usd,
                        rate=new_count / max(time.perf_counter() - started, 1e-9))
        if on_record is not None:
            on_record(rec)
        if (state.finished >= min_calls_for_error_share
                and state.failed / state.finished > options.max_error_share and state.stop is None):
            state.stop = "errors"

    async def run_one(call: PlannedCall) -> CallRecord | None:
        key = keys[call.key]
        provider = providers[call.config]
        price = prices.get(call.config)
        req = call.request
        if cache is not None and not offline[call.config]:
            hit = cache.get(key)
            if hit is not None:
                return CallRecord(config=call.config, case_id=call.case_id, sample_index=call.sample_index,
                                  cache_key=key, status="ok", response=hit, attempts=0, cost_usd=0.0,
                                  nominal_cost_usd=call_cost(hit.usage, price), cache_hit=True, latency_s=0.0)
            if options.cache_mode == "replay":
                raise RunFailed(f"--replay: cache entry for case {call.case_id!r} in configuration "
                                f"{call.config!r} disappeared during the run ({cache.path_for(key)})")
        limiter = None if offline[call.config] else limiters.for_model(req.provider, req.model, req.endpoint)
        est_tokens = call.est_input_tokens + call.est_output_tokens
        est_cost = _est_cost(call, price) or 0.0
        billed: list[Usage] = []
        attempts = 0
        t_start = time.perf_counter()
        failure: Failure | None = None
        while True:
            if not state.reserve(est_cost):
                state.stop = state.stop or "budget"
                if attempts == 0:
                    return None  # never sent: it stays pending for a resume
                failure = Failure(kind="budget_exhausted", retryable=False,
                                  message=f"stopped retrying: next attempt would pass max_cost_usd "
                                          f"{options.max_cost_usd}")
                break
            if limiter is not None:
                await limiter.acquire(est_tokens)
            attempts += 1
            t0 = time.perf_counter()
            try:
                async with asyncio.timeout(options.timeout_s):
                    response: ModelResponse = await provider.complete(req)
            except asyncio.CancelledError:
                state.settle(est_cost, 0.0)
                raise
            except Exception as exc:  # noqa: BLE001 - classified below; one bad call never stops the run
                failure = classify(exc, timeout_s=options.timeout_s)
                attempt_cost = None
                if failure.usage is not None:
                    billed.append(failure.usage)
                    attempt_cost = call_cost(failure.usage, price)
                state.settle(est_cost, attempt_cost)
                if limiter is not None:
                    if failure.usage is not None:
                        limiter.correct(est_tokens, failure.usage.total_tokens)
                    elif failure.kind in ("rate_limited", "overloaded", "quota_exceeded", "client_error"):
                        limiter.correct(est_tokens, 0)  # rejected up front: no tokens were consumed
                    if failure.kind == "rate_limited":
                        limiter.rate_limited(failure.retry_after_s)
                    elif failure.kind == "overloaded" and failure.retry_after_s:
                        limiter.pause(failure.retry_after_s)
                if failure.retryable and attempts < options.max_attempts and state.stop is None:
                    wait = backoff_s(attempts, failure, policy, rng)
                    if wait is not None:
                        await asyncio.sleep(wait)
                        continue
                break
            else:
                usage = response.usage
                billed.append(usage if usage is not None else Usage())
                state.settle(est_cost, call_cost(usage, price))
                if limiter is not None:
                    limiter.correct(est_tokens, usage.total_tokens if usage else None)
                if response.latency_s is None:
                    response = response.model_copy(update={"latency_s": time.perf_counter() - t0})
                if cache is not None and options.cache_mode == "read-write" and not offline[call.config]:
                    cache.put(req, response, key=key)
                cost = _sum_cost(billed, price)
                return CallRecord(config=call.config, case_id=call.case_id, sample_index=call.sample_index,
                                  cache_key=key, status="ok", response=response, attempts=attempts,
                                  billed_usage=billed, cost_usd=cost, nominal_cost_usd=cost,
                                  latency_s=time.perf_counter() - t_start)
        assert failure is not None
        state.last_failure = (call, failure)
        cost = _sum_cost(billed, price)
        return CallRecord(config=call.config, case_id=call.case_id, sample_index=call.sample_index,
                          cache_key=key, status="failed", error_class=failure.kind,
                          error_message=f"{failure.message} (after {attempts} attempt(s))", attempts=attempts,
                          billed_usage=billed, cost_usd=cost, nominal_cost_usd=cost,
                          latency_s=time.perf_counter() - t_start)

    pending = iter(todo)

    async def worker() -> None:
        for call in pending:  # one shared iterator: workers pull the next call when free
            if state.stop is not None:
                return
            rec = await run_one(call)
            if rec is None:
                return
            finish(call, rec)

    try:
        async with asyncio.TaskGroup() as tg:
            for _ in range(max(1, min(options.concurrency, len(todo)))):
                tg.create_task(worker())
    except BaseExceptionGroup as group:  # surface the first real error, not the group wrapper
        raise group.exceptions[0] from None
    finally:
        progress.close()
        if journal is not None:
            journal.close()

    out = [rec for call in calls if (rec := done.get(call.key) or state.records.get(call.key)) is not None]
    if state.stop is not None:
        where = f" Finished calls are kept in {journal_path}; resume to continue." if journal_path else ""
        if state.stop == "errors":
            last = ""
            if state.last_failure is not None:
                call, failure = state.last_failure
                last = (f" Last error: {failure.kind}: {failure.message} (case {call.case_id!r}, "
                        f"configuration {call.config!r}).")
            err = RunFailed(
                f"stopped early: {state.failed} of {state.finished} calls failed "
                f"({state.failed / state.finished:.0%} > max_error_share {options.max_error_share:.0%}).{last}{where}"
            )
        else:
            err = RunFailed(
                f"stopped at the budget: ${state.spent:.4f} spent, the next call (estimated) would pass "
                f"max_cost_usd ${options.max_cost_usd:.4f}; {state.finished} calls finished.{where}"
            )
        err.records = out  # type: ignore[attr-defined]  # what finished, for a partial report
        raise err
    return out


def _check_budget(todo: list[PlannedCall], keys: Mapping[Key, str], cache: ResponseCache | None,
                  offline: Mapping[str, bool], prices: Mapping[str, ModelPrice | None], max_cost: float) -> None:
    """Refuse to start when the estimate for the calls still to send exceeds the budget."""
    per_config: dict[str, float] = {}
    for call in todo:
        if cache is not None and not offline[call.config] and cache.contains(keys[call.key]):
            continue  # a cache hit is free
        est = _est_cost(call, prices.get(call.config))
        if est is None:
            if offline[call.config]:
                continue  # an offline provider without a price spends nothing
            raise RunFailed(
                f"cannot enforce max_cost_usd ${max_cost:.4f}: configuration {call.config!r} "
                f"(model {call.request.model!r}) has no known price; add a price override to the suite"
            )
        per_config[call.config] = per_config.get(call.config, 0.0) + est
    total = sum(per_config.values())
    if total > max_cost:
        detail = ", ".join(f"{name} ${cost:.4f}" for name, cost in sorted(per_config.items()))
        raise RunFailed(f"estimated cost ${total:.4f} exceeds max_cost_usd ${max_cost:.4f} ({detail}); "
                        "not starting. Raise the budget, use --limit/--sample, or a cheaper model.")
