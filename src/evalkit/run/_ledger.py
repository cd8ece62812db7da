"""The spend ledger: the one place a run's cost is computed and its budget enforced.

Three amounts, all in USD:

- ``spent``: cost of the usage providers reported, attempt by attempt (failed billed
  attempts included), at the configured price;
- ``possibly_billed``: the worst case of attempts that may have been billed but reported
  no usage (a timeout, a dropped connection or a truncated body after sending, and
  attempts a killed process started but never recorded). Shown as such, never as $0;
- ``reserved``: attempts in flight, each held at its worst case (prompt tokens, with a
  margin for the estimate, plus the output cap) until its outcome is known.

``--max-cost`` is per run: the ledger starts from what the journal already holds, and an
attempt is only sent when spent + possibly_billed + reserved + its worst case stays
within the budget, so the budget is never crossed as long as a provider bills no more
than the output cap it was given.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from evalkit.pricing import ModelPrice, call_cost
from evalkit.providers import Usage
from evalkit.run._records import CallRecord, PlannedCall

INPUT_MARGIN = 1.25
"""Prompt tokens are estimated before sending (~4 characters a token): the worst case
allows a quarter more, plus a few tokens of message framing."""
FRAMING_TOKENS = 16


@dataclass(frozen=True, kw_only=True)
class Hold:
    """One attempt's reservation."""

    amount: float
    worst_case: float | None


@dataclass(kw_only=True)
class SpendLedger:
    prices: Mapping[str, ModelPrice | None]
    max_cost: float | None = None
    output_token_ceiling: int = 4096
    provider_caps: Mapping[str, int | None] = field(default_factory=dict)
    """Per configuration: the output cap a provider applies when the request sets none
    (Anthropic requires one; the adapter's default)."""
    offline: frozenset[str] = frozenset()
    """Configurations answered offline (simulated, rules): their answers are short by construction, so
    ``output_token_ceiling`` bounds them; a model's answer is bounded only by a cap or its model's limit."""
    simulated: frozenset[str] = frozenset()
    """Configurations whose spend is pretend (a simulated model priced as a real one): recorded and shown,
    labelled simulated, but no real money, so ``--max-cost`` neither reserves nor counts it."""
    spent: float = 0.0
    pretend: float = 0.0
    """The part of ``spent`` that simulated configurations spent."""
    possibly_billed: float = 0.0
    possibly_billed_attempts: int = 0
    unpriced_attempts: int = 0
    """Attempts with usage but no known price (or usage without token counts)."""
    unknown_worst_attempts: int = 0
    """Possibly billed attempts whose worst case is unknown too (no price): not in ``possibly_billed``."""
    reserved: float = 0.0

    # -- cost --------------------------------------------------------------------------
    def cost(self, config: str, usage: Usage | None) -> float | None:
        return call_cost(usage, self.prices.get(config))

    def cost_of(self, config: str, usages: Iterable[Usage]) -> float | None:
        """Sum over attempts; one unknown makes the total unknown (never an undercount)."""
        total = 0.0
        for usage in usages:
            cost = self.cost(config, usage)
            if cost is None:
                return None
            total += cost
        return total

    def record_cost(self, config: str, billed: Iterable[Usage], possibly_billed_attempts: int) -> float | None:
        """A call's cost: None (unknown) when an attempt may have been billed without
        reporting usage, so a timeout is never shown as a known $0."""
        if possibly_billed_attempts:
            return None
        return self.cost_of(config, billed)

    def expected(self, call: PlannedCall) -> float | None:
        """The estimate (prompt estimate + expected output) used to refuse a run up front."""
        return self.cost(call.config, Usage(input_tokens=call.est_input_tokens, output_tokens=call.est_output_tokens))

    def output_bound(self, call: PlannedCall) -> int | None:
        """The most output tokens an attempt of ``call`` can be billed for: the request's cap, else the
        provider's default cap, else the model's own limit (litellm's map); None = unbounded (a model call
        with none of them: the budget guard cannot hold its worst case)."""
        out = call.max_output_tokens or self.provider_caps.get(call.config)
        if out is None and call.config in self.offline:
            return self.output_token_ceiling
        if out is None:
            from evalkit.pricing import output_limit

            out = output_limit(call.request.model)
        return out

    def worst_case(self, call: PlannedCall) -> float | None:
        out = self.output_bound(call) or self.output_token_ceiling
        tokens_in = int(call.est_input_tokens * INPUT_MARGIN) + FRAMING_TOKENS
        return self.cost(call.config, Usage(input_tokens=tokens_in, output_tokens=out))

    # -- budget ------------------------------------------------------------------------
    @property
    def committed(self) -> float:
        """Real money spent, possibly billed or held: what ``--max-cost`` counts (never simulated spend)."""
        return self.spent - self.pretend + self.possibly_billed + self.reserved

    def reserve(self, call: PlannedCall) -> Hold | None:
        """Hold the attempt's worst case; None when that would pass the budget. A simulated attempt holds
        nothing: it costs no real money."""
        worst = self.worst_case(call)
        if call.config in self.simulated:
            return Hold(amount=0.0, worst_case=worst)
        amount = worst or 0.0
        if self.max_cost is not None and self.committed + amount > self.max_cost + 1e-12:
            return None
        self.reserved += amount
        return Hold(amount=amount, worst_case=worst)

    def settle(self, hold: Hold, config: str, *, usage: Usage | None, possibly_billed: bool) -> float | None:
        """Replace the hold with the attempt's outcome. Returns the attempt's known cost
        (None when unknown). ``possibly_billed`` with no usage books the worst case."""
        self.reserved = max(self.reserved - hold.amount, 0.0)
        if usage is not None:
            cost = self.cost(config, usage)
            if cost is None:
                self.unpriced_attempts += 1
                self.possibly_billed += hold.worst_case or 0.0  # usage without a price: hold the worst case
            else:
                self.spent += cost
                self.pretend += cost if config in self.simulated else 0.0
            return cost
        if possibly_billed:
            self.possibly_billed += hold.worst_case or 0.0
            self.possibly_billed_attempts += 1
            self.unknown_worst_attempts += hold.worst_case is None
        return None

    def describe(self) -> str:
        """Spend so far for a progress line, as the run's summary counts it: the known cost, what may
        have been billed without usage (worst case), and attempts whose cost is unknown. Never a known
        '$0.0000' for spend that is unknown. A run mixing simulated and real configurations shows real
        money and the simulated models' pretend spend apart (their sum is no amount anyone pays); a run
        that is all simulated is labelled by its progress line."""
        real_configs = any(config not in self.simulated for config in self.prices)
        if self.simulated and real_configs:
            text = f"${self.spent - self.pretend:.4f} + ${self.pretend:.4f} simulated"
        else:
            text = f"${self.spent:.4f}"
        if self.possibly_billed > 0:
            text += f" + up to ${self.possibly_billed:.4f} possibly billed"
        unknown = self.unpriced_attempts + self.unknown_worst_attempts
        if unknown:
            text += f" + unknown ({unknown} attempt(s) of unknown cost)"
        return text

    def release(self, hold: Hold) -> None:
        """The attempt was never sent (cancelled before the request left)."""
        self.reserved = max(self.reserved - hold.amount, 0.0)

    # -- the journal ---------------------------------------------------------------------
    def add_prior(self, records: Iterable[CallRecord], orphans: Iterable[tuple[str, float | None]]) -> None:
        """Count what earlier invocations of this run already spent: journaled records,
        and attempts started but never recorded (``(config, worst case)``)."""
        for rec in records:
            if rec.cache_hit:
                continue
            if rec.execution == "batch":  # billed at the batch price its record holds, not this ledger's
                if rec.cost_usd is None:
                    self.unpriced_attempts += 1
                else:
                    self.spent += rec.cost_usd
                continue
            for usage in rec.billed_usage:
                if usage.total_tokens is None:
                    continue  # no usage reported: counted in possibly_billed_usd below
                cost = self.cost(rec.config, usage)
                if cost is None:
                    self.unpriced_attempts += 1
                else:
                    self.spent += cost
                    self.pretend += cost if rec.config in self.simulated else 0.0
            self.possibly_billed += rec.possibly_billed_usd or 0.0
            self.possibly_billed_attempts += rec.possibly_billed_attempts
        for _config, worst in orphans:
            self.possibly_billed += worst or 0.0
            self.possibly_billed_attempts += 1


def spend_counts(records: Iterable[CallRecord], prices: Mapping[str, ModelPrice | None] | None) -> dict[str, object]:
    """The manifest's spend lines: recorded (a lower bound when anything is possibly billed)
    and possibly billed, unrecorded (worst case; None when a price is unknown)."""
    records = list(records)
    ledger = SpendLedger(prices=prices or {})
    ledger.add_prior(records, [])
    unknown_worst = any(r.possibly_billed_attempts and r.possibly_billed_usd is None for r in records)
    return {"recorded_usd": ledger.spent, "possibly_billed_attempts": ledger.possibly_billed_attempts,
            "possibly_billed_usd": None if unknown_worst else ledger.possibly_billed,
            "unpriced_attempts": ledger.unpriced_attempts}


def simulated_configs(providers: Mapping[str, Any]) -> frozenset[str]:
    """The configurations whose provider simulates a model: their spend is pretend, never real money."""
    return frozenset(n for n, p in providers.items() if getattr(p, "simulated", False))


class UnpricedCall(Exception):
    """A network call still to pay for whose price is unknown: its cost cannot be guarded."""

    def __init__(self, call: PlannedCall) -> None:
        super().__init__(call.config)
        self.call = call


def expected_spend(ledger: SpendLedger, calls: Iterable[PlannedCall], *, offline: Mapping[str, bool]) -> dict[str, float]:
    """Per configuration, the expected cost (``SpendLedger.expected``) of ``calls``, the calls still to pay
    for. A simulated configuration and an offline provider without a price spend no real money; a network
    one without a price raises ``UnpricedCall`` (unknown is unknown, never $0)."""
    out: dict[str, float] = {}
    for call in calls:
        if call.config in ledger.simulated:
            continue  # pretend spend: no real money to guard
        est = ledger.expected(call)
        if est is None:
            if offline.get(call.config):
                continue
            raise UnpricedCall(call)
        out[call.config] = out.get(call.config, 0.0) + est
    return out


@dataclass(frozen=True, kw_only=True)
class Forecast:
    """The up-front estimate of a run with an LLM judge: what it already spent, the configurations'
    calls still to pay for, and the judge's expected calls (one per answer it grades)."""

    prior: float
    configs: Mapping[str, float]
    judge: float
    judge_calls: int
    """Judge calls still to pay for (not journaled, not cached)."""
    judge_model: str

    @property
    def total(self) -> float:
        return self.prior + sum(self.configs.values()) + self.judge

    def refusal(self, max_cost: float) -> str | None:
        """The message refusing the run when the estimate passes ``max_cost``, else None."""
        if self.total <= max_cost:
            return None
        to_go = self.total - self.prior
        configs = ", ".join(f"{name} ${cost:.4f}" for name, cost in sorted(self.configs.items())) or "none to pay"
        parts = (f"configurations ${sum(self.configs.values()):.4f} ({configs}) + LLM judge ${self.judge:.4f} "
                 f"({self.judge_calls} call(s) of {self.judge_model}, one per answer it grades)")
        already = f"${self.prior:.4f} already spent or possibly billed by this run + ${to_go:.4f} to go: " \
            if self.prior else ""
        return (f"estimated cost ${self.total:.4f} ({already}{parts}) exceeds max_cost_usd ${max_cost:.4f}; "
                "not starting. Raise the budget, use --limit/--sample, or a cheaper model.")
