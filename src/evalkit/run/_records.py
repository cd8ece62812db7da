"""What the runner hands the executor, and what comes back, one per model call."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from evalkit.providers import ModelRequest, ModelResponse, Usage

CacheMode = Literal["read-write", "replay", "off"]
JUDGE = "#judge"
"""The LLM judge's calls' configuration name (not a valid configuration name, so it cannot collide with one)."""


@dataclass(frozen=True, kw_only=True)
class PlannedCall:
    config: str
    """Configuration name from the suite."""
    case_id: str
    segment: str
    sample_index: int
    request: ModelRequest
    est_input_tokens: int
    """Estimated before sending (for the tokens-per-minute limiter and the budget guard)."""
    est_output_tokens: int = 400
    max_output_tokens: int | None = None
    """The request's output cap (``max_tokens``), when it sets one: bounds the worst case the
    budget reserves for an attempt. Without it the provider's default cap, else the model's own output
    limit bounds it (``SpendLedger.output_bound``)."""

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.config, self.case_id, self.sample_index)


@dataclass(kw_only=True)
class CallRecord:
    """The durable outcome of one planned call (a journal line)."""

    config: str
    case_id: str
    sample_index: int
    cache_key: str
    status: Literal["ok", "failed"]
    response: ModelResponse | None = None
    error_class: str | None = None
    error_message: str | None = None
    attempts: int = 0
    billed_usage: list[Usage] = field(default_factory=list)
    """Usage of every billed attempt, failed ones included, so spend is never undercounted."""
    cost_usd: float | None = None
    """Sum over billed attempts; None when the price (or usage) is unknown."""
    cache_hit: bool = False
    latency_s: float | None = None
    nominal_cost_usd: float | None = None
    """What the answer cost when it was first bought (equals cost_usd unless served from the
    cache, where cost_usd is 0.0 spent)."""
    possibly_billed_attempts: int = 0
    """Attempts that may have been billed but reported no usage: a timeout, a dropped
    connection or a truncated body after the request was sent, or an attempt a killed
    process started and never recorded. ``cost_usd`` is then a lower bound."""
    possibly_billed_usd: float | None = 0.0
    """Worst-case cost of those attempts (prompt + output cap at the configured price);
    None when the price is unknown."""
    execution: str = "direct"
    """'direct' (one request) or 'batch' (answered through the provider's batch API, at batch prices)."""

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.config, self.case_id, self.sample_index)

    @property
    def truncated(self) -> bool:
        """An answer that was cut at ``max_tokens`` (its ``response.finish_reason``, journaled with it)."""
        return self.status == "ok" and self.response is not None and self.response.truncated


def truncated_counts(records: Iterable[CallRecord]) -> dict[str, int]:
    """Answers cut at ``max_tokens``, per configuration (only configurations with any), sorted by name."""
    counts = Counter(r.config for r in records if r.truncated)
    return dict(sorted(counts.items()))


def truncation_warnings(counts: Mapping[str, int]) -> list[str]:
    """One console line per configuration whose answers were cut at ``max_tokens``."""
    return [f"{config}: {n} answer{'s were' if n != 1 else ' was'} cut at max_tokens; raise max_tokens"
            for config, n in counts.items() if n]


@dataclass(frozen=True, kw_only=True)
class ExecutionOptions:
    concurrency: int = 16
    requests_per_minute: float | None = None
    tokens_per_minute: float | None = None
    model_limits: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)
    """Per ``"provider/model"`` (rpm, tpm), overriding the two defaults above."""
    max_attempts: int = 6
    timeout_s: float = 60.0
    max_error_share: float = 0.2
    """Stop early when the share of failed calls passes this (after a minimum number of calls)."""
    max_cost_usd: float | None = None
    """Per run: spend journaled by earlier invocations of the same run counts against it."""
    output_token_ceiling: int = 4096
    """Output tokens assumed for an attempt whose request sets no ``max_tokens`` when
    reserving its worst-case cost against ``max_cost_usd``."""
    cache_mode: CacheMode = "read-write"
    progress: bool = True
