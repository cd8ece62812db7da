"""Refund requests: a second decision domain for evalkit, as an installable task plugin.

evalkit finds ``task`` through the ``evalkit.tasks`` entry point in pyproject.toml. The
task implements the Task protocol and offers two optional capabilities: a rules baseline
(the policy as code) and a simulated model (for offline runs; labelled simulated).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from evalkit.tasks import Expectations, PromptContext, PromptVariable, Reading, SimulatedAnswer, Verdict
from evalkit_refunds._model import SEGMENTS, RefundCase, RefundDecision
from evalkit_refunds._simulate import PROFILES


class RefundsTask:
    name = "refunds"
    case_model = RefundCase
    decision_model = RefundDecision
    segments: Sequence[str] = SEGMENTS
    label_field = "action"
    expectation_fields = ("reviewed",)
    sim_profiles = PROFILES

    def generate(self, n: int, seed: int) -> Iterator[RefundCase]:
        from evalkit_refunds._generate import generate_cases

        return generate_cases(n, seed)

    def prompt_context(self, case: RefundCase, *, max_history_turns: int | None = None,
                       max_history_tokens: int | None = None, clauses: Sequence[str] | None = None) -> PromptContext:
        from evalkit_refunds._render import prompt_context

        return prompt_context(case)

    def prompt_variables(self) -> Sequence[PromptVariable]:
        from evalkit_refunds._render import prompt_variables

        return prompt_variables(next(iter(self.generate(1, 0))))

    def decision_json_schema(self) -> dict[str, Any]:
        return RefundDecision.model_json_schema()

    def read_decision(self, decision: RefundDecision) -> Reading:
        return Reading(label=decision.action, confidence=decision.confidence)

    def expectations(self, case: RefundCase) -> Expectations:
        return Expectations(label=case.reviewed.action)

    def score(self, case: RefundCase, decision: RefundDecision | None) -> Verdict:
        from evalkit_refunds._score import score

        return score(case, decision)

    def rules_decide(self, prompt_text: str) -> str:
        from evalkit_refunds._simulate import rules_answer

        return rules_answer(prompt_text)

    def simulate(self, prompt_text: str, *, profile: str, seed: int, sample_index: int = 0,
                 temperature: float = 0.0) -> SimulatedAnswer:
        from evalkit.errors import ConfigError
        from evalkit_refunds._simulate import simulate

        if profile not in PROFILES:
            raise ConfigError(f"unknown sim profile {profile!r} for task refunds; profiles: {', '.join(PROFILES)}")
        return simulate(prompt_text, profile=PROFILES[profile], seed=seed, sample_index=sample_index,
                        temperature=temperature)


task = RefundsTask()
