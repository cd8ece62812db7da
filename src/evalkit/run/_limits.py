"""Requests-per-minute and tokens-per-minute limiting, per provider/model.

A token bucket per limit: refills at ``limit / 60`` per second up to ``burst_s`` seconds'
worth. A call reserves its *estimated* tokens before it is sent, and the bucket is
corrected with the actual usage afterwards, so a long run converges on the real rate.
A 429 with Retry-After pauses the whole bucket: every caller of that model backs off,
not only the one that was told to.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(kw_only=True)
class TokenBucket:
    per_minute: float
    burst_s: float = 1.0
    """Bucket capacity in seconds of refill. Small keeps the send rate smooth (fewer
    429s from servers that meter over short windows); a request larger than the
    capacity still passes once the bucket is full (it then runs into debt)."""
    _level: float = field(init=False)
    _stamp: float = field(init=False)
    _paused_until: float = field(init=False, default=0.0)
    _lock: asyncio.Lock = field(init=False, default_factory=asyncio.Lock)

    def __post_init__(self) -> None:
        if self.per_minute <= 0:
            raise ValueError(f"rate limit must be positive, got {self.per_minute}")
        self._level = self.capacity
        self._stamp = time.monotonic()

    @property
    def rate(self) -> float:
        return self.per_minute / 60.0

    @property
    def capacity(self) -> float:
        return max(self.rate * self.burst_s, 1.0)

    def _refill(self, now: float) -> None:
        self._level = min(self.capacity, self._level + (now - self._stamp) * self.rate)
        self._stamp = now

    async def acquire(self, amount: float) -> None:
        # The lock makes waiters FIFO: a big request is not starved by small ones.
        async with self._lock:
            need = min(amount, self.capacity)
            while True:
                now = time.monotonic()
                self._refill(now)
                wait = self._paused_until - now
                if wait <= 0:
                    if self._level >= need:
                        self._level -= amount
                        return
                    wait = (need - self._level) / self.rate
                await asyncio.sleep(wait)

    def adjust(self, delta: float) -> None:
        """Charge (positive) or refund (negative) tokens after the actual usage is known."""
        self._refill(time.monotonic())
        self._level = min(self.capacity, self._level - delta)

    def pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, time.monotonic() + seconds)

    def drain(self) -> None:
        """The server says the budget is spent: trust it over our own count. This
        re-synchronises the bucket with the server's after any drift."""
        self._refill(time.monotonic())
        self._level = min(self._level, 0.0)


@dataclass(kw_only=True)
class ModelLimiter:
    """RPM and TPM buckets for one provider/model (either may be absent)."""

    rpm: TokenBucket | None = None
    tpm: TokenBucket | None = None

    async def acquire(self, est_tokens: int) -> None:
        if self.rpm is not None:
            await self.rpm.acquire(1)
        if self.tpm is not None:
            await self.tpm.acquire(est_tokens)

    def correct(self, est_tokens: int, actual_tokens: int | None) -> None:
        if self.tpm is not None and actual_tokens is not None:
            self.tpm.adjust(actual_tokens - est_tokens)

    def pause(self, seconds: float) -> None:
        for bucket in (self.rpm, self.tpm):
            if bucket is not None:
                bucket.pause(seconds)

    def rate_limited(self, retry_after_s: float | None) -> None:
        """A 429: empty the token bucket (we were out of step with the server) and hold
        every caller of this model for the server's Retry-After."""
        if self.tpm is not None:
            self.tpm.drain()
        if retry_after_s:
            self.pause(retry_after_s)


@dataclass(kw_only=True)
class Limiters:
    """One ModelLimiter per (provider, model, endpoint), created on first use: two
    servers hosting the same model name have separate limits."""

    requests_per_minute: float | None = None
    tokens_per_minute: float | None = None
    burst_s: float = 1.0
    per_model: Mapping[str, tuple[float | None, float | None]] = field(default_factory=dict)
    """``"provider/model"`` -> (rpm, tpm): providers limit each model differently."""
    _by_model: dict[tuple[str, str, str | None], ModelLimiter] = field(default_factory=dict)

    def for_model(self, provider: str, model: str, endpoint: str | None = None) -> ModelLimiter:
        key = (provider, model, endpoint)
        limiter = self._by_model.get(key)
        if limiter is None:
            rpm, tpm = self.per_model.get(f"{provider}/{model}", (None, None))
            rpm, tpm = rpm or self.requests_per_minute, tpm or self.tokens_per_minute
            limiter = ModelLimiter(
                rpm=TokenBucket(per_minute=rpm, burst_s=self.burst_s) if rpm else None,
                tpm=TokenBucket(per_minute=tpm, burst_s=self.burst_s) if tpm else None,
            )
            self._by_model[key] = limiter
        return limiter
