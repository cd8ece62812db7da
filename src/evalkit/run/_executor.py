"""The run engine: the worker pool around the attempt loop (``_attempts``) and the spend
ledger (``_ledger``), with the response cache and the durable journal.

Guarantees: every planned call ends as exactly one CallRecord (ok, or failed with its
error class) unless the run is stopped early (error-share rule, budget), in which case
the finished ones are already in the journal and ``execute`` raises ``RunFailed``; a call
found in the journal is never sent again; every attempt is journaled before it is sent,
so spend of attempts a killed process never recorded is shown as possibly billed.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evalkit.errors import ConfigError, DataError, RunFailed
from evalkit.pricing import ModelPrice
from evalkit.run._attempts import Attempter
from evalkit.run._cache import ResponseCache
from evalkit.run._failures import describe, failure_groups, should_stop
from evalkit.run._journal import JOURNAL_NAME, JournalWriter, read_journal_state
from evalkit.run._ledger import SpendLedger, simulated_configs
from evalkit.run._limits import Limiters
from evalkit.run._offload import OffloadedAnswers
from evalkit.run._progress import Progress
from evalkit.run._records import CallRecord, ExecutionOptions, PlannedCall
from evalkit.run._retry import RetryPolicy

Key = tuple[str, str, int]


@dataclass(kw_only=True)
class _Pool:
    """Counts the stop rule and the progress line read."""

    planned: int
    max_share: float
    min_calls: int
    finished: int = 0
    failed: int = 0
    stop: str | None = None
    """Why new calls are no longer started: 'errors' or 'budget'."""
    records: dict[Key, CallRecord] = field(default_factory=dict)

    def count(self, rec: CallRecord) -> None:
        self.finished += 1
        self.failed += rec.status == "failed"
        if self.stop is None and should_stop(failed=self.failed, finished=self.finished, planned=self.planned,
                                             max_share=self.max_share, min_calls=self.min_calls):
            self.stop = "errors"


def _keys(calls: Sequence[PlannedCall], providers: Mapping[str, Any]) -> dict[Key, str]:
    """Each planned call's cache key; a call planned twice or without a provider is a ConfigError."""
    keys: dict[Key, str] = {}
    for call in calls:
        if call.key in keys:
            raise ConfigError(f"planned call {call.key} appears twice: each (config, case, sample) runs once")
        if call.config not in providers:
            raise ConfigError(f"no provider for configuration {call.config!r} (case {call.case_id!r})")
        keys[call.key] = call.request.cache_key()
    return keys


@dataclass(kw_only=True)
class _Resumed:
    """What the journal already holds for these calls."""

    done: dict[Key, CallRecord]
    """Finished (ok, or failed and not retried): returned as they are, never sent again."""
    carried: dict[Key, CallRecord]
    """Journaled failures sent again (``retry_failed``): their attempts and spend carry over."""
    todo: list[PlannedCall]
    journaled: dict[Key, CallRecord]
    orphans: dict[Key, list[Any]]
    """Attempts a killed process started and never recorded."""


def _resumed(calls: Sequence[PlannedCall], keys: Mapping[Key, str], journal_path: Path | None,
             retry_failed: bool) -> _Resumed:
    state = read_journal_state(journal_path) if journal_path is not None else None
    out = _Resumed(done={}, carried={}, todo=[], journaled=state.records if state is not None else {},
                   orphans=state.orphans if state is not None else {})
    for call in calls:
        rec = out.journaled.get(call.key)
        if rec is not None and rec.cache_key == keys[call.key]:
            if rec.status == "ok" or not retry_failed:
                out.done[call.key] = rec
                continue
            out.carried[call.key] = rec
        out.todo.append(call)
    return out


@dataclass(kw_only=True)
class _Workers:
    """The worker pool: pulls calls, runs their attempts, journals and counts what finished."""

    keys: Mapping[Key, str]
    resumed: _Resumed
    pool: _Pool
    ledger: SpendLedger
    attempter: Attempter
    journal: JournalWriter | None
    progress: Progress
    on_record: Callable[[CallRecord], None] | None
    started: float = field(default_factory=time.perf_counter)

    def finish(self, call: PlannedCall, rec: CallRecord) -> None:
        prior = self.resumed.carried.get(call.key)
        if prior is not None:  # a resumed failure: keep every billed attempt of both runs
            rec.attempts += prior.attempts
            rec.billed_usage = prior.billed_usage + rec.billed_usage
            rec.possibly_billed_attempts += prior.possibly_billed_attempts
            rec.possibly_billed_usd = (None if rec.possibly_billed_usd is None or prior.possibly_billed_usd is None
                                       else rec.possibly_billed_usd + prior.possibly_billed_usd)
            if not rec.cache_hit:
                rec.cost_usd = self.ledger.record_cost(call.config, rec.billed_usage, rec.possibly_billed_attempts)
                rec.nominal_cost_usd = rec.cost_usd
        if self.journal is not None:  # an offline answer is free to recompute: flushed, not fsynced
            self.journal.append(rec, sync=not self.attempter.offline[call.config])
        self.pool.records[call.key] = rec
        self.pool.count(rec)
        self.progress.update(failed=rec.status == "failed", cache_hit=rec.cache_hit,
                             rate=len(self.pool.records) / max(time.perf_counter() - self.started, 1e-9))
        if self.on_record is not None:
            self.on_record(rec)

    def unrecorded(self, call: PlannedCall) -> tuple[int, float | None]:
        """Attempts of this call a killed process started but never recorded."""
        starts = self.resumed.orphans.get(call.key, [])
        usd: float | None = 0.0
        for a in starts:
            usd = None if usd is None or a.worst_usd is None else usd + a.worst_usd
        return len(starts), usd

    async def worker(self, pending: Iterator[PlannedCall]) -> None:
        for call in pending:  # one shared iterator: workers pull the next call when free
            if self.pool.stop is not None:
                return
            rec = await self.attempter.run(call, self.keys[call.key], prior_possibly=self.unrecorded(call))
            if rec is None:
                return
            self.finish(call, rec)

    async def run_all(self, concurrency: int) -> None:
        todo = self.resumed.todo
        pending = iter(todo)
        try:
            async with asyncio.TaskGroup() as tg:
                for _ in range(max(1, min(concurrency, len(todo)))):
                    tg.create_task(self.worker(pending))
        except BaseExceptionGroup as group:  # surface the first real error, not the group wrapper
            raise group.exceptions[0] from None
        finally:
            self.progress.close()
            if self.journal is not None:
                self.journal.close()


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
    senders: Any = None,
    simulated: frozenset[str] = frozenset(),
) -> list[CallRecord]:
    """Run ``calls`` and return one record per call, in planned order.

    ``providers`` and ``prices`` are keyed by configuration name. With ``run_dir`` every
    attempt and finished call is journaled in ``run_dir/journal.jsonl``; calls already
    there (same key and cache key) are returned as-is and not sent again, and their spend
    counts against ``options.max_cost_usd``. ``retry_failed`` re-sends journaled failures
    (their attempts and billed usage are carried over). ``seed`` drives the retry jitter.
    ``on_record`` sees each newly finished record. ``senders`` (run/_senders.Senders) send the
    calls of the providers they can serve from their own processes. ``simulated``: more configurations
    whose spend is pretend (the run's, when this executes its judge: their journaled spend is no money).
    """
    keys = _keys(calls, providers)
    journal_path = Path(run_dir) / JOURNAL_NAME if run_dir is not None else None
    resumed = _resumed(calls, keys, journal_path, retry_failed)
    cache = None if options.cache_mode == "off" else ResponseCache(cache_root)
    offline = {name: bool(getattr(p, "offline", False)) for name, p in providers.items()}
    if cache is not None:
        _check_cache(resumed.todo, keys, cache, offline, replay=options.cache_mode == "replay")
    ledger = _ledger(providers, prices, options, resumed, offline, simulated)
    if options.max_cost_usd is not None:
        _check_budget(resumed.todo, keys, cache, offline, ledger, options.max_cost_usd)

    pool = _Pool(planned=len(calls), max_share=options.max_error_share, min_calls=min_calls_for_error_share)
    for rec in resumed.done.values():
        pool.count(rec)  # journaled outcomes count towards the error share of the whole run
    journal = JournalWriter(journal_path) if journal_path is not None else None
    offload = OffloadedAnswers.for_providers(providers, len(resumed.todo))
    attempter = Attempter(
        providers=dict(providers), ledger=ledger, options=options, policy=retry_policy or RetryPolicy(),
        rng=random.Random(seed), cache=cache, journal=journal, offline=offline,
        limiters=Limiters(requests_per_minute=options.requests_per_minute, tokens_per_minute=options.tokens_per_minute,
                          burst_s=rate_burst_s, per_model=options.model_limits, concurrency=options.concurrency),
        stopping=lambda: pool.stop is not None, budget_hit=lambda: setattr(pool, "stop", pool.stop or "budget"),
        elsewhere=tuple(place for place in (offload, senders) if place is not None))
    if senders is not None:
        senders.attach(providers)
    _prepare(providers, resumed.todo, keys, cache, offline,
             served=senders.providers_served() if senders is not None else set())
    progress = Progress(total=len(calls), enabled=options.progress, already_done=len(resumed.done),
                        # all simulated: the line says so; a mixed run's spend text labels its pretend part
                        simulated=all(getattr(p, "simulated", False) for p in providers.values()),
                        spend=ledger.describe)
    try:
        if senders is not None:
            await senders.connect()
        await _Workers(keys=keys, resumed=resumed, pool=pool, ledger=ledger, attempter=attempter, journal=journal,
                       progress=progress, on_record=on_record).run_all(options.concurrency)
    finally:
        if offload is not None:
            offload.close()
        if senders is not None:
            await senders.aclose()

    out = [rec for call in calls if (rec := resumed.done.get(call.key) or pool.records.get(call.key)) is not None]
    if pool.stop is None and out and len(out) == len(calls) and all(r.status == "failed" for r in out):
        pool.stop = "errors"  # nothing answered at all: never a "complete" run
    if pool.stop is not None:
        raise _stopped(pool, out, ledger, options, journal_path)
    return out


def _ledger(providers: Mapping[str, Any], prices: Mapping[str, ModelPrice | None], options: ExecutionOptions,
            resumed: _Resumed, offline: Mapping[str, bool], simulated: frozenset[str] = frozenset()) -> SpendLedger:
    """The spend ledger, holding what the journal says this run already spent or possibly spent."""
    ledger = SpendLedger(prices=prices, max_cost=options.max_cost_usd, output_token_ceiling=options.output_token_ceiling,
                         provider_caps={n: getattr(p, "max_tokens", None) for n, p in providers.items()},
                         offline=frozenset(n for n, is_offline in offline.items() if is_offline),
                         simulated=simulated_configs(providers) | simulated)
    ledger.add_prior(resumed.journaled.values(),
                     [(k[0], a.worst_usd) for k, starts in resumed.orphans.items() for a in starts])
    return ledger


def _prepare(providers: Mapping[str, Any], todo: Sequence[PlannedCall], keys: Mapping[Key, str],
             cache: ResponseCache | None, offline: Mapping[str, bool], served: set[str]) -> None:
    """Slow one-time provider work (importing an SDK: seconds for litellm) before any attempt is timed,
    for the providers that will send something (a fully cached or replayed one never imports its SDK)
    from this process (``served``: the sender processes send those, and imported the SDK already)."""
    sending = {c.config for c in todo if offline[c.config] or cache is None or not cache.contains(keys[c.key])}
    sending -= served
    for name in sorted(sending):
        prepare = getattr(providers[name], "prepare", None)
        if prepare is not None:
            prepare()


def _stopped(pool: _Pool, out: list[CallRecord], ledger: SpendLedger, options: ExecutionOptions,
             journal_path: Path | None) -> RunFailed:
    where = f" Finished calls are kept in {journal_path}; resume to continue." if journal_path else ""
    failed = sum(r.status == "failed" for r in out)
    if pool.stop == "errors":
        err = RunFailed(
            f"stopped: {failed} of {len(out)} finished calls failed ({len(out) and failed / len(out):.0%}; "
            f"max_error_share {options.max_error_share:.0%}, {pool.planned} planned). Errors: "
            f"{describe(failure_groups(out))}.{where}")
    else:
        err = RunFailed(
            f"stopped at the budget: ${ledger.spent:.4f} spent and up to ${ledger.possibly_billed:.4f} possibly "
            f"billed; another call (at its worst case) could pass max_cost_usd ${options.max_cost_usd:.4f}; "
            f"{len(out)} of {pool.planned} calls finished.{where}")
        err.at_budget = True  # type: ignore[attr-defined]  # resuming needs a larger budget
    err.records = out  # type: ignore[attr-defined]  # what finished, for a partial report
    return err


def _check_cache(todo: list[PlannedCall], keys: Mapping[Key, str], cache: ResponseCache,
                 offline: Mapping[str, bool], *, replay: bool) -> None:
    """Before anything is sent: no cached answer this run would use is corrupt (it would be neither
    served nor silently paid again), and with ``--replay`` every call has a cached answer."""
    online = [c for c in todo if not offline[c.config]]
    corrupt = cache.corrupt(keys[c.key] for c in online if cache.contains(keys[c.key]))
    if corrupt:
        first = corrupt[0]
        call = next(c for c in online if cache.path_for(keys[c.key]) == first.path)
        more = f" (and {len(corrupt) - 1} more corrupt entries)" if len(corrupt) > 1 else ""
        flag = "--replay: " if replay else ""
        raise DataError(f"{flag}cached answer for case {call.case_id!r} in configuration {call.config!r} is corrupt"
                        f"{more}; nothing was sent. {first}")
    missing = [c for c in online if not cache.contains(keys[c.key])] if replay else []
    if missing:
        first_missing = missing[0]
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise RunFailed(
            f"--replay: no cached answer for case {first_missing.case_id!r} in configuration "
            f"{first_missing.config!r} (sample {first_missing.sample_index}, model {first_missing.request.model!r})"
            f"{more}; cache: {cache.root}. Run once without --replay to record the answers."
        )


def _check_budget(todo: list[PlannedCall], keys: Mapping[Key, str], cache: ResponseCache | None,
                  offline: Mapping[str, bool], ledger: SpendLedger, max_cost: float) -> None:
    """Refuse to start when spend so far plus the estimate for the calls still to send
    exceeds the budget."""
    per_config: dict[str, float] = {}
    sending = [c for c in todo if (offline[c.config] or cache is None or not cache.contains(keys[c.key]))
               and c.config not in ledger.simulated]  # a cache hit is free, a simulated answer costs no money
    for call in sending:
        est = ledger.expected(call)
        if est is None:
            if offline[call.config]:
                continue  # an offline provider without a price spends nothing
            raise RunFailed(
                f"cannot enforce max_cost_usd ${max_cost:.4f}: configuration {call.config!r} "
                f"(model {call.request.model!r}) has no known price; add a price override to the suite"
            )
        per_config[call.config] = per_config.get(call.config, 0.0) + est
    unbounded = next((c for c in sending if ledger.output_bound(c) is None), None)
    if unbounded is not None:
        raise ConfigError(
            f"cannot enforce max_cost_usd ${max_cost:.4f}: configuration {unbounded.config!r} sets no output cap and "
            f"the price map knows no output limit for model {unbounded.request.model!r}, so one answer could cost "
            "any amount; set params.max_tokens (max_completion_tokens) in the configuration")
    worst = max(((ledger.worst_case(c) or 0.0, c) for c in sending), default=None, key=lambda t: t[0])
    if worst is not None and worst[0] > max_cost:
        call = worst[1]
        raise RunFailed(f"max_cost_usd ${max_cost:.4f} cannot hold even one call of configuration {call.config!r} "
                        f"at its worst case (${worst[0]:.4f}: prompt + output cap); not starting. Set a lower "
                        "max_tokens in the configuration's params or raise the budget.")
    prior = ledger.committed
    total = sum(per_config.values()) + prior
    if total > max_cost:
        detail = ", ".join(f"{name} ${cost:.4f}" for name, cost in sorted(per_config.items()))
        already = f" (${prior:.4f} already spent or possibly billed by this run + ${total - prior:.4f} to go)" \
            if prior else ""
        raise RunFailed(f"estimated cost ${total:.4f}{already} exceeds max_cost_usd ${max_cost:.4f} "
                        f"({detail}); {'not going on' if prior else 'not starting'}. Raise the budget, use "
                        "--limit/--sample, or a cheaper model.")
