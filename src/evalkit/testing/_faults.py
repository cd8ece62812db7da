"""Deterministic fault schedules for the loopback server.

A fault is chosen per (request key, attempt number) from a seeded hash, never from
timing, so a test replays the same faults on every run no matter how calls interleave.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

FAULT_KINDS = (
    "429",         # rate limited, with Retry-After
    "500",         # server error, nothing billed
    "500_billed",  # server error after generation: the error body reports the usage billed
    "529",         # overloaded
    "400",         # bad request: final, not retried
    "drop",        # connection closed without an answer
    "truncate",    # 200 with a body cut short
    "nonjson",     # 200 with an HTML body
    "no_choices",  # 200 JSON with usage but no answer: OpenAI without ``choices``, Anthropic without ``content``
    "slow",        # answer arrives after the client's timeout
    "echo_key",    # 401 whose error body quotes the API key and headers the client sent (leak test)
    "redirect",    # 307 to the server's ``redirect_to`` (another origin): a client must not follow it
)


@dataclass(frozen=True, kw_only=True)
class FaultPlan:
    rate: float = 0.0
    """Share of attempts that get a fault (by seeded hash of request key and attempt)."""
    kinds: tuple[str, ...] = ("429", "500", "529", "drop", "truncate", "nonjson")
    seed: int = 0
    schedule: dict[str, tuple[str | None, ...]] = field(default_factory=dict)
    """Explicit faults per request key: entry i applies to attempt i (None = answer normally)."""
    first_attempts: int = 0
    """Fault the first N attempts of every request with ``kinds[0]`` (e.g. 'always 429 once')."""

    def __post_init__(self) -> None:
        unknown = [k for k in self.kinds if k not in FAULT_KINDS]
        for seq in self.schedule.values():
            unknown += [k for k in seq if k is not None and k not in FAULT_KINDS]
        if unknown:
            raise ValueError(f"unknown fault kind(s) {unknown}; known: {', '.join(FAULT_KINDS)}")

    def pick(self, key: str, attempt: int) -> str | None:
        """The fault for attempt ``attempt`` (0-based) of the request with ``key``, or None."""
        if key in self.schedule:
            seq = self.schedule[key]
            return seq[attempt] if attempt < len(seq) else None
        if attempt < self.first_attempts and self.kinds:
            return self.kinds[0]
        if self.rate <= 0 or not self.kinds:
            return None
        digest = hashlib.sha256(f"{self.seed}:{key}:{attempt}".encode()).digest()
        draw = int.from_bytes(digest[:8], "big") / 2**64
        if draw >= self.rate:
            return None
        return self.kinds[int.from_bytes(digest[8:12], "big") % len(self.kinds)]
