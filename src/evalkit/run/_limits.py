"""Rate limiting per provider/model: configured limits as upper bounds, the rest learned.

Each (provider, model, endpoint) gets a ``ModelLimiter`` shared by every caller:

- **Token buckets** for requests and tokens per minute. A call reserves its *estimated*
  tokens before it is sent and the bucket is corrected with the actual usage after.
  Configured limits (suite ``rate_limits``/``execution``) create the buckets up front and
  stay upper bounds: nothing learned ever raises a rate above them.
- **Learned from headers.** OpenAI's ``x-ratelimit-limit/remaining/reset-{requests,tokens}``
  and Anthropic's ``anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-*``
  (also as forwarded by litellm) set the bucket rate to the server's limit and pull the
  bucket level down to what the server says remains (less what is in flight).
- **Learned from 429s.** A 429 pauses *every* caller of that model for its Retry-After
  (when it is within the retry cap; a longer one ends the call and pauses nobody), empties
  the token bucket, and halves the concurrency window (AIMD: each success then widens the
  window by 1/window, up to the configured concurrency): without headers, the window is
  what converges on the server's limit.

aiolimiter was considered: its leaky bucket cannot be paused, re-rated at run time or
refunded after the actual usage is known, which is what this module is for.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(kw_only=True)
class TokenBucket:
    per_minute: float
    burst_s: float = 1.0
    """Bucket capacity in seconds of refill. Small keeps the send rate smooth (fewer
    429s from servers that meter over short windows); a request larger than the
    capacity still passes once the bucket is full (it then runs into debt)."""
    ceiling: float | None = None
    """A configured limit: ``set_rate`` never goes above it."""
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

    @property
    def level(self) -> float:
        self._refill(time.monotonic())
        return self._level

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
                await asyncio.sleep(min(wait, 1.0))  # re-check: a learned rate or a released pause may change it

    def adjust(self, delta: float) -> None:
        """Charge (positive) or refund (negative) tokens after the actual usage is known."""
        self._refill(time.monotonic())
        self._level = min(self.capacity, self._level - delta)

    def pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, time.monotonic() + seconds)

    def unpause(self) -> None:
        self._paused_until = 0.0

    def drain(self) -> None:
        """The server says the budget is spent: trust it over our own count."""
        self._refill(time.monotonic())
        self._level = min(self._level, 0.0)

    def cap_level(self, level: float) -> None:
        """The server says only ``level`` remains: never believe in more than that."""
        self._refill(time.monotonic())
        self._level = min(self._level, level)

    def set_rate(self, per_minute: float) -> None:
        self._refill(time.monotonic())
        if self.ceiling is not None:
            per_minute = min(per_minute, self.ceiling)
        self.per_minute = max(per_minute, 1e-3)
        self._level = min(self._level, self.capacity)


@dataclass(kw_only=True)
class Window:
    """AIMD concurrency window: how many calls of one model may be in flight."""

    limit: float
    maximum: int
    _inflight: int = 0
    _cond: asyncio.Condition = field(init=False, default_factory=asyncio.Condition)

    async def enter(self) -> None:
        async with self._cond:
            await self._cond.wait_for(lambda: self._inflight < max(1, int(self.limit)))
            self._inflight += 1

    async def leave(self) -> None:
        async with self._cond:
            self._inflight -= 1
            self._cond.notify_all()

    def increase(self) -> None:
        self.limit = min(float(self.maximum), self.limit + 1.0 / max(self.limit, 1.0))

    def decrease(self) -> None:
        self.limit = max(1.0, self.limit / 2.0)


_DURATION = re.compile(r"(?P<n>\d+(?:\.\d+)?)(?P<u>ms|s|m|h)")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_reset(value: str | None) -> float | None:
    """Seconds until a limit resets: OpenAI durations ("1s", "6m0s", "20ms"), plain seconds,
    or Anthropic's RFC 3339 timestamp."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    parts = _DURATION.findall(value)
    if parts and "".join(n + u for n, u in parts) == value:
        return sum(float(n) * _UNITS[u] for n, u in parts)
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return max(when.timestamp() - time.time(), 0.0)


@dataclass(frozen=True, kw_only=True)
class HeaderLimits:
    """What one response's rate-limit headers say (None = not said)."""

    rpm: float | None = None
    tpm: float | None = None
    remaining_requests: float | None = None
    remaining_tokens: float | None = None
    reset_requests_s: float | None = None
    reset_tokens_s: float | None = None

    @property
    def any(self) -> bool:
        return any(v is not None for v in (self.rpm, self.tpm, self.remaining_requests, self.remaining_tokens))


def _num(headers: Mapping[str, str], *names: str) -> float | None:
    for name in names:
        raw = headers.get(name)
        if raw is not None:
            try:
                return float(raw)
            except ValueError:
                continue
    return None


def read_headers(headers: Mapping[str, str] | None) -> HeaderLimits:
    if not headers:
        return HeaderLimits()
    h = headers
    return HeaderLimits(
        rpm=_num(h, "x-ratelimit-limit-requests", "anthropic-ratelimit-requests-limit"),
        tpm=_num(h, "x-ratelimit-limit-tokens", "anthropic-ratelimit-tokens-limit",
                 "anthropic-ratelimit-input-tokens-limit"),
        remaining_requests=_num(h, "x-ratelimit-remaining-requests", "anthropic-ratelimit-requests-remaining"),
        remaining_tokens=_num(h, "x-ratelimit-remaining-tokens", "anthropic-ratelimit-tokens-remaining",
                              "anthropic-ratelimit-input-tokens-remaining"),
        reset_requests_s=parse_reset(h.get("x-ratelimit-reset-requests") or h.get("anthropic-ratelimit-requests-reset")),
        reset_tokens_s=parse_reset(h.get("x-ratelimit-reset-tokens") or h.get("anthropic-ratelimit-tokens-reset")
                                   or h.get("anthropic-ratelimit-input-tokens-reset")),
    )


def reset_wait(headers: Mapping[str, str] | None) -> float | None:
    """After a 429 without Retry-After: when the exhausted limit resets, from the rate-limit headers
    (OpenAI ``x-ratelimit-reset-*``, Anthropic ``anthropic-ratelimit-*-reset``). The limit whose remaining
    count is 0 decides; when none says so, the later reset (waiting less would only earn another 429)."""
    info = read_headers(headers)
    exhausted = [reset for remaining, reset in ((info.remaining_requests, info.reset_requests_s),
                                                (info.remaining_tokens, info.reset_tokens_s))
                 if remaining is not None and remaining <= 0 and reset is not None]
    known = [r for r in (info.reset_requests_s, info.reset_tokens_s) if r is not None]
    return max(exhausted or known) if (exhausted or known) else None


@dataclass(kw_only=True)
class ModelLimiter:
    """Buckets, pause and concurrency window for one provider/model."""

    rpm: TokenBucket | None = None
    tpm: TokenBucket | None = None
    window: Window | None = None
    burst_s: float = 1.0
    configured_rpm: float | None = None
    configured_tpm: float | None = None
    headers_seen: bool = False
    _paused_until: float = 0.0
    _inflight_tokens: float = 0.0

    async def acquire(self, est_tokens: int) -> None:
        while (wait := self._paused_until - time.monotonic()) > 0:
            await asyncio.sleep(min(wait, 1.0))  # re-check: a pause may be released early
        if self.window is not None:
            await self.window.enter()
        try:
            if self.rpm is not None:
                await self.rpm.acquire(1)
            if self.tpm is not None:
                await self.tpm.acquire(est_tokens)
        except BaseException:
            if self.window is not None:
                await self.window.leave()
            raise
        self._inflight_tokens += est_tokens

    async def done(self, est_tokens: int, actual_tokens: int | None, *, rejected: bool = False,
                   headers: Mapping[str, str] | None = None) -> None:
        """After an attempt: correct the token bucket, learn from the answer's headers, free
        the concurrency slot. ``rejected``: refused before generating (no tokens used)."""
        self._inflight_tokens = max(self._inflight_tokens - est_tokens, 0.0)
        used = 0 if rejected else actual_tokens
        if self.tpm is not None and used is not None:
            self.tpm.adjust(used - est_tokens)
        self.learn(read_headers(headers))
        if self.window is not None:
            await self.window.leave()

    def succeeded(self) -> None:
        if self.window is not None:
            self.window.increase()

    def learn(self, info: HeaderLimits) -> None:
        if not info.any:
            return
        self.headers_seen = True
        if info.tpm:
            self.tpm = self._bucket(self.tpm, info.tpm, self.configured_tpm)
        if info.rpm:
            self.rpm = self._bucket(self.rpm, info.rpm, self.configured_rpm)
        if self.tpm is not None and info.remaining_tokens is not None:
            self.tpm.cap_level(info.remaining_tokens - self._inflight_tokens)
        if self.rpm is not None and info.remaining_requests is not None:
            self.rpm.cap_level(info.remaining_requests)

    def _bucket(self, bucket: TokenBucket | None, limit: float, configured: float | None) -> TokenBucket:
        rate = min(limit, configured) if configured else limit
        if bucket is None:
            bucket = TokenBucket(per_minute=rate, burst_s=self.burst_s, ceiling=configured)
            bucket.cap_level(0.0)  # start empty: the server's remaining count will say more
            return bucket
        if abs(bucket.per_minute - rate) > 1e-9:
            bucket.set_rate(rate)
        return bucket

    def rate_limited(self, retry_after_s: float | None, *, cap_s: float) -> None:
        """A 429: hold every caller of this model for Retry-After (when within the cap),
        halve the concurrency window, and resynchronise the token bucket."""
        if self.window is not None:
            self.window.decrease()
        if self.tpm is not None:
            self.tpm.drain()
        if retry_after_s is not None and retry_after_s <= cap_s:
            self.pause(retry_after_s)

    def pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, time.monotonic() + seconds)

    def release_pause(self) -> None:
        """A Retry-After beyond the cap ended a call: nobody else waits for it either."""
        self._paused_until = 0.0
        for bucket in (self.rpm, self.tpm):
            if bucket is not None:
                bucket.unpause()

    @property
    def paused_for(self) -> float:
        return max(self._paused_until - time.monotonic(), 0.0)


@dataclass(kw_only=True)
class Limiters:
    """One ModelLimiter per (provider, model, endpoint), created on first use: two
    servers hosting the same model name have separate limits."""

    requests_per_minute: float | None = None
    tokens_per_minute: float | None = None
    burst_s: float = 1.0
    concurrency: int | None = None
    """The run's concurrency: the AIMD window's ceiling (None: no window)."""
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
                rpm=TokenBucket(per_minute=rpm, burst_s=self.burst_s, ceiling=rpm) if rpm else None,
                tpm=TokenBucket(per_minute=tpm, burst_s=self.burst_s, ceiling=tpm) if tpm else None,
                window=Window(limit=float(self.concurrency), maximum=self.concurrency) if self.concurrency else None,
                burst_s=self.burst_s, configured_rpm=rpm, configured_tpm=tpm,
            )
            self._by_model[key] = limiter
        return limiter
