"""The retry policy evalkit owns (SDK retries are set to 0 so every attempt is
counted, attributed to its case and its billed usage recorded).

Exponential backoff with *full jitter* (sleep ~ U(0, min(cap, base * 2**n))), and a
server's Retry-After is honoured as a lower bound: waiting less would only earn
another 429.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass

from evalkit.providers import ProviderError, Usage


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    base_s: float = 0.5
    cap_s: float = 30.0
    max_retry_after_s: float = 300.0
    """A Retry-After beyond this is treated as final: the run should not stall for hours."""


@dataclass(frozen=True, kw_only=True)
class Failure:
    """One failed attempt, classified."""

    kind: str
    retryable: bool
    message: str
    status: int | None = None
    retry_after_s: float | None = None
    usage: Usage | None = None
    possibly_billed: bool = False
    """The request may have reached the model and been billed, but no usage came back."""


POSSIBLY_BILLED_KINDS = frozenset({"timeout", "connection", "bad_response"})
"""Failures after which the provider may have generated (and billed) an answer we never
read: a timeout, a connection dropped mid-answer, a truncated or unreadable body."""


def classify(exc: BaseException, *, timeout_s: float | None = None) -> Failure:
    """Turn anything a provider raised into a Failure. Unknown exceptions are final:
    retrying a bug in a third-party provider would only multiply it."""
    if isinstance(exc, ProviderError):
        status = f"HTTP {exc.status}: " if exc.status else ""
        sent = getattr(exc, "sent", None)
        maybe = exc.usage is None and exc.kind in POSSIBLY_BILLED_KINDS and sent is not False
        return Failure(kind=exc.kind, retryable=exc.retryable, message=f"{status}{exc}"[:500],
                       status=exc.status, retry_after_s=exc.retry_after_s, usage=exc.usage, possibly_billed=maybe)
    if isinstance(exc, (TimeoutError, asyncio.TimeoutError)):
        return Failure(kind="timeout", retryable=True, message=f"no answer within {timeout_s}s (evalkit timeout)",
                       possibly_billed=True)
    if isinstance(exc, (ConnectionError, OSError)):
        return Failure(kind="connection", retryable=True, message=f"{type(exc).__name__}: {exc}"[:500],
                       possibly_billed=not isinstance(exc, ConnectionRefusedError))
    return Failure(kind="provider_error", retryable=False, message=f"{type(exc).__name__}: {exc}"[:500])


def backoff_s(attempt: int, failure: Failure, policy: RetryPolicy, rng: random.Random) -> float | None:
    """Seconds to wait before attempt ``attempt + 1`` (attempt counts from 1), or None
    when the server asks for a wait longer than the policy allows."""
    jitter = rng.uniform(0.0, min(policy.cap_s, policy.base_s * (2 ** (attempt - 1))))
    if failure.retry_after_s is not None:
        if failure.retry_after_s > policy.max_retry_after_s:
            return None
        # Honour the server's wait; a little jitter on top keeps waiters from
        # stampeding back at the same instant.
        return failure.retry_after_s + rng.uniform(0.0, min(0.25, policy.base_s))
    return jitter
