"""The attempt loop for one planned call: cache lookup, then send -> classify -> retry
until it is answered, finally fails, or the budget/stop rule says no more.

Every attempt is reserved in the spend ledger at its worst case and journaled as
*started* before the request leaves, so neither a crash nor a kill can hide spend.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
import time
from dataclasses import dataclass
from typing import Any

from evalkit.errors import RunFailed
from evalkit.providers import ModelResponse, Usage
from evalkit.run._cache import ResponseCache
from evalkit.run._journal import AttemptStart, JournalWriter
from evalkit.run._ledger import SpendLedger
from evalkit.run._limits import Limiters, ModelLimiter, reset_wait
from evalkit.run._records import CallRecord, ExecutionOptions, PlannedCall
from evalkit.run._retry import Failure, RetryPolicy, backoff_s, classify

COLD_START_S = 10.0
"""Added to the timeout of a configuration's first attempts in this process: an SDK's first request does
seconds of one-time work (lazy imports, the client, its models: litellm ~0.5 s idle, ~3 s on a loaded
machine) before anything is sent, which is no answer the server was slow to give. The request itself
stays bounded by the SDK's own timeout (the provider's ``timeout_s``)."""

_REJECTED = frozenset({"rate_limited", "overloaded", "quota_exceeded", "client_error", "auth_error", "not_found"})
"""Refused before generating: no tokens were consumed against the rate limit."""


@dataclass(kw_only=True)
class _Tally:
    """One call's attempts so far: count, billed usage, attempts possibly billed without usage."""

    possibly_n: int
    possibly_usd: float | None
    attempts: int = 0
    waited_s: float = 0.0
    """Seconds this call waited because servers asked it to (Retry-After, rate-limit resets)."""
    billed: list[Usage] = dataclasses.field(default_factory=list)
    t_start: float = dataclasses.field(default_factory=time.perf_counter)

    def possibly_billed(self, worst_usd: float | None) -> None:
        self.possibly_n += 1
        self.possibly_usd = None if self.possibly_usd is None or worst_usd is None else self.possibly_usd + worst_usd


@dataclass(kw_only=True)
class Attempter:
    """What every call shares: providers, ledger, limiters, cache, journal, policy."""

    providers: dict[str, Any]
    ledger: SpendLedger
    limiters: Limiters
    options: ExecutionOptions
    policy: RetryPolicy
    rng: random.Random
    cache: ResponseCache | None
    journal: JournalWriter | None
    offline: dict[str, bool]
    stopping: Any
    """Callable[[], bool]: True once the run stops starting new work (no more retries)."""
    budget_hit: Any
    """Callable[[], None]: the ledger refused an attempt."""
    warm: set[str] = dataclasses.field(default_factory=set)
    """Configurations whose first attempt in this process has ended (no cold start left)."""
    elsewhere: tuple[Any, ...] = ()
    """Where some configurations' calls are answered outside this process, each offering
    ``handles(config)`` and ``answer(config, request)``: the offline providers' worker processes
    (``OffloadedAnswers``), the network providers' sender processes (``Senders``). The first that
    handles a configuration answers; the rest are answered here."""

    async def run(self, call: PlannedCall, key: str, *, prior_possibly: tuple[int, float | None] = (0, 0.0),
                  ) -> CallRecord | None:
        """The call's record, or None when it was never sent (budget) and stays pending."""
        cached = self._from_cache(call, key)
        if cached is not None:
            return cached
        req = call.request
        limiter = None if self.offline[call.config] else self.limiters.for_model(req.provider, req.model,
                                                                                 req.endpoint)
        est_tokens = call.est_input_tokens + call.est_output_tokens
        tally = _Tally(possibly_n=prior_possibly[0], possibly_usd=prior_possibly[1])
        while True:
            hold = self.ledger.reserve(call)
            if hold is None:
                self.budget_hit()
                if tally.attempts == 0:
                    return None  # never sent: it stays pending for a resume
                failure = Failure(kind="budget_exhausted", retryable=False,
                                  message=f"stopped retrying: another attempt could pass max_cost_usd "
                                          f"{self.options.max_cost_usd}")
                break
            try:
                if limiter is not None:
                    await limiter.acquire(est_tokens)
            except BaseException:
                self.ledger.release(hold)
                raise
            tally.attempts += 1
            if self.journal is not None and not self.offline[call.config]:  # offline: nothing can be billed
                self.journal.attempt(AttemptStart(key=call.key, cache_key=key, n=tally.attempts,
                                                  worst_usd=hold.worst_case))
            t0 = time.perf_counter()
            try:
                response = await self._send(call, hold, limiter, est_tokens)
            except Exception as exc:  # noqa: BLE001 - classified below; one bad call never stops the run
                failure, again = await self._failed_attempt(exc, call, hold, limiter, est_tokens, tally)
                if again:
                    continue
                break
            return await self._answered(call, key, response, hold, limiter, est_tokens, tally, t0)
        return self._failed_record(call, key, failure, tally)

    async def _send(self, call: PlannedCall, hold: Any, limiter: ModelLimiter | None, est_tokens: int,
                    ) -> ModelResponse:
        """One request under the timeout; a cancelled one (Ctrl-C, kill) is settled as possibly billed."""
        cold = call.config not in self.warm
        try:
            async with asyncio.timeout(self.options.timeout_s + (COLD_START_S if cold else 0.0)):
                for place in self.elsewhere:
                    if place.handles(call.config):
                        return await place.answer(call.config, call.request)
                return await self.providers[call.config].complete(call.request)
        except asyncio.CancelledError:
            self.ledger.settle(hold, call.config, usage=None, possibly_billed=True)
            if limiter is not None:
                await limiter.done(est_tokens, None)
            raise
        finally:
            self.warm.add(call.config)

    async def _failed_attempt(self, exc: Exception, call: PlannedCall, hold: Any, limiter: ModelLimiter | None,
                              est_tokens: int, tally: _Tally) -> tuple[Failure, bool]:
        """Settle a failed attempt; (the failure, whether to try again after the backoff already slept)."""
        failure = classify(exc, timeout_s=self.options.timeout_s)
        if failure.kind == "rate_limited" and failure.retry_after_s is None:
            # no Retry-After: the rate-limit headers may still say when the exhausted limit resets
            failure = dataclasses.replace(failure, retry_after_s=reset_wait(getattr(exc, "rate_limits", None)))
        if failure.usage is not None:
            tally.billed.append(failure.usage)
        self.ledger.settle(hold, call.config, usage=failure.usage, possibly_billed=failure.possibly_billed)
        if failure.possibly_billed:
            tally.possibly_billed(hold.worst_case)
        if limiter is not None:
            await self._after_failure(limiter, failure, exc, est_tokens)
        if failure.retryable and self._may_retry(failure, tally) and not self.stopping():
            wait = backoff_s(tally.attempts, failure, self.policy, self.rng)
            if wait is not None:
                if failure.retry_after_s is not None:
                    tally.waited_s += wait
                await asyncio.sleep(wait)
                return failure, True
            if limiter is not None and failure.retry_after_s is not None:
                limiter.release_pause()  # Retry-After beyond the cap: this call ends, nobody waits
                failure = dataclasses.replace(failure, retryable=False, message=(
                    f"{failure.message}; Retry-After {failure.retry_after_s:.0f}s exceeds the "
                    f"{self.policy.max_retry_after_s:.0f}s cap"))
        return failure, False

    def _may_retry(self, failure: Failure, tally: _Tally) -> bool:
        """Within ``max_attempts``; beyond it only while servers say how long to wait (a 429 or 529 with
        Retry-After or a reset time): such an attempt was refused, not answered, and a burst of them (a
        shared key's 429 storm) must not fail the run while the waits stay within ``max_retry_after_s``
        in total. A hard ceiling of ten times ``max_attempts`` still ends a server that never relents."""
        if tally.attempts < self.options.max_attempts:
            return True
        told = failure.kind in ("rate_limited", "overloaded") and failure.retry_after_s is not None
        return (told and tally.waited_s + failure.retry_after_s <= self.policy.max_retry_after_s
                and tally.attempts < 10 * self.options.max_attempts)

    async def _answered(self, call: PlannedCall, key: str, response: ModelResponse, hold: Any,
                        limiter: ModelLimiter | None, est_tokens: int, tally: _Tally, t0: float) -> CallRecord:
        """Settle an answered attempt, cache the answer, and the call's ok record."""
        headers = response.rate_limits
        response = response.model_copy(update={"rate_limits": None})
        usage = response.usage
        unknown_usage = usage is None or usage.total_tokens is None
        tally.billed.append(usage if usage is not None else Usage())
        self.ledger.settle(hold, call.config, usage=None if unknown_usage else usage, possibly_billed=unknown_usage)
        if unknown_usage:
            tally.possibly_billed(hold.worst_case)
        if limiter is not None:
            await limiter.done(est_tokens, usage.total_tokens if usage else None, headers=headers)
            limiter.succeeded()
        if response.latency_s is None:
            response = response.model_copy(update={"latency_s": time.perf_counter() - t0})
        if self.cache is not None and self.options.cache_mode == "read-write" and not self.offline[call.config]:
            self.cache.put(call.request, response, key=key)
        cost = self.ledger.record_cost(call.config, tally.billed, tally.possibly_n)
        return CallRecord(config=call.config, case_id=call.case_id, sample_index=call.sample_index,
                          cache_key=key, status="ok", response=response, attempts=tally.attempts,
                          billed_usage=tally.billed, cost_usd=cost, nominal_cost_usd=cost,
                          possibly_billed_attempts=tally.possibly_n, possibly_billed_usd=tally.possibly_usd,
                          latency_s=time.perf_counter() - tally.t_start)

    def _failed_record(self, call: PlannedCall, key: str, failure: Failure, tally: _Tally) -> CallRecord:
        cost = self.ledger.record_cost(call.config, tally.billed, tally.possibly_n)
        return CallRecord(config=call.config, case_id=call.case_id, sample_index=call.sample_index,
                          cache_key=key, status="failed", error_class=failure.kind,
                          error_message=f"{failure.message} (after {tally.attempts} attempt(s))",
                          attempts=tally.attempts, billed_usage=tally.billed, cost_usd=cost, nominal_cost_usd=cost,
                          possibly_billed_attempts=tally.possibly_n, possibly_billed_usd=tally.possibly_usd,
                          latency_s=time.perf_counter() - tally.t_start)

    def _from_cache(self, call: PlannedCall, key: str) -> CallRecord | None:
        if self.cache is None or self.offline[call.config]:
            return None
        hit = self.cache.get(key)
        if hit is not None:
            return CallRecord(config=call.config, case_id=call.case_id, sample_index=call.sample_index,
                              cache_key=key, status="ok", response=hit, attempts=0, cost_usd=0.0,
                              nominal_cost_usd=self.ledger.cost(call.config, hit.usage), cache_hit=True,
                              latency_s=0.0)
        if self.options.cache_mode == "replay":
            raise RunFailed(f"--replay: cache entry for case {call.case_id!r} in configuration "
                            f"{call.config!r} disappeared during the run ({self.cache.path_for(key)})")
        return None

    async def _after_failure(self, limiter: ModelLimiter, failure: Failure, exc: Exception, est_tokens: int) -> None:
        used = failure.usage.total_tokens if failure.usage is not None else None
        await limiter.done(est_tokens, used, rejected=failure.usage is None and failure.kind in _REJECTED,
                           headers=getattr(exc, "rate_limits", None))
        if failure.kind == "rate_limited":
            limiter.rate_limited(failure.retry_after_s, cap_s=self.policy.max_retry_after_s)
        elif failure.kind == "overloaded" and failure.retry_after_s \
                and failure.retry_after_s <= self.policy.max_retry_after_s:
            limiter.pause(failure.retry_after_s)
