"""The subscription-upgrade decision domain.

Public surface: the ``task`` object (implements evalkit.tasks.Task), the pydantic
schemas ``Case`` and ``Decision``, the catalogue file format (``CatalogueFile``,
``parse_catalogue``, ``shipped_catalogue``) and the simulation profiles. ``task`` uses the
shipped catalogue; ``task.with_catalogue(data, where=...)`` is the same task with a team's.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator, Sequence
from typing import Any

from evalkit.tasks._task import Expectations, PromptContext, PromptVariable, Reading, SimulatedAnswer, Verdict
from evalkit.tasks.upgrades._catalogue import (
    Catalogue,
    CatalogueFile,
    catalogue_json_schema,
    parse_catalogue,
    shipped_catalogue,
)
from evalkit.tasks.upgrades._model import SEGMENTS, Case, Decision, ExpectedDecision
from evalkit.tasks.upgrades._sim_profiles import PROFILES, SimProfile


class UpgradesTask:
    """The upgrades task under one catalogue (plans, prices, cohorts, policy clauses)."""

    name = "upgrades"
    case_model = Case
    decision_model = Decision
    segments: Sequence[str] = SEGMENTS
    label_field = "action"
    expectation_fields = ("reviewed", "alternatives")
    sim_profiles = PROFILES
    catalogue_file = "catalogue.yaml"
    """The name a dataset version ships its catalogue under (an attachment)."""

    def __init__(self, catalogue: Catalogue | None = None) -> None:
        self._catalogue = catalogue

    @property
    def catalogue(self) -> Catalogue:
        return self._catalogue or shipped_catalogue()

    @property
    def validation_context(self) -> dict[str, Any]:
        """What the case model's validators check names against: this task's catalogue (empty:
        the shipped one, which the validators use without context)."""
        return {} if self._catalogue is None else {"catalogue": self._catalogue}

    def with_catalogue(self, data: bytes | str, *, where: str) -> UpgradesTask:
        """This task with the catalogue in ``data`` (YAML); ConfigError naming ``where`` and the field."""
        return UpgradesTask(parse_catalogue(data, where=where))

    def catalogue_json_schema(self) -> dict[str, Any]:
        return catalogue_json_schema()

    def generate(self, n: int, seed: int) -> Iterator[Case]:
        from evalkit.tasks.upgrades._generator import generate_cases

        return generate_cases(n, seed)

    def generate_range(self, start: int, stop: int, seed: int) -> Iterator[Case]:
        """Cases ``start`` .. ``stop - 1`` of ``generate(stop, seed)`` (each case has its own RNG stream)."""
        from evalkit.tasks.upgrades._generator import generate_cases

        return generate_cases(stop, seed, start=start)

    def prompt_context(self, case: Case, *, max_history_turns: int | None = None,
                       max_history_tokens: int | None = None, clauses: Sequence[str] | None = None,
                       context: Any = None, resources: Any = None) -> PromptContext:
        """``context``: the configuration's context policy (memory, retrieval); ``resources``: what
        ``context_resources`` loaded from the dataset version (the retrieval corpus)."""
        from evalkit.tasks.upgrades._render import prompt_context

        return prompt_context(case, max_history_turns=max_history_turns, max_history_tokens=max_history_tokens,
                              clauses=clauses, context=context, resources=resources, catalogue=self.catalogue)

    def attachments(self, n: int, seed: int) -> dict[str, bytes]:
        """Files published with a generated dataset version: the retrieval corpus."""
        from evalkit.tasks.upgrades._corpus import CORPUS_FILE, build_corpus, corpus_bytes

        return {CORPUS_FILE: corpus_bytes(build_corpus(seed=seed))}

    def context_resources(self, dataset: Any) -> Any:
        """The retrieval corpus shipped with ``dataset`` (None for versions without one, e.g. v1)."""
        from evalkit.tasks.upgrades._context import Resources
        from evalkit.tasks.upgrades._corpus import CORPUS_FILE, parse_corpus

        data = dataset.attachment(CORPUS_FILE)
        return None if data is None else Resources(corpus=parse_corpus(data, f"{dataset.path}/{CORPUS_FILE}"))

    def prompt_variables(self) -> Sequence[PromptVariable]:
        from evalkit.tasks.upgrades._render import prompt_variables

        return prompt_variables()

    def decision_json_schema(self) -> dict[str, Any]:
        from evalkit.tasks.upgrades._model import decision_schema

        return decision_schema(self.catalogue.plans)

    def read_decision(self, decision: Decision) -> Reading:
        return Reading(label=decision.action, confidence=decision.confidence)

    def expectations(self, case: Case) -> Expectations:
        return Expectations(label=case.reviewed.action)

    def human_review(self, case: Case) -> tuple[str, bool] | None:
        if case.historical_reply and case.human_good is not None:
            return case.historical_reply, case.human_good
        return None

    def score(self, case: Case, decision: Decision | None) -> Verdict:
        from evalkit.tasks.upgrades._rubric import score_decision

        return score_decision(case, decision)

    def simulate(self, prompt_text: str, *, profile: str, seed: int, sample_index: int = 0,
                 temperature: float = 0.0) -> SimulatedAnswer:
        """The simulated model's answer to a rendered prompt (see _simulated.py)."""
        from evalkit._tokens import count_tokens
        from evalkit.tasks.upgrades._engine import policy_params
        from evalkit.tasks.upgrades._read import read_prompt
        from evalkit.tasks.upgrades._simulated import simulate

        if profile not in PROFILES:
            from evalkit.errors import ConfigError

            raise ConfigError(f"unknown sim profile {profile!r}; profiles: {', '.join(PROFILES)}")
        if self._catalogue is not None:
            _warn_unread_cohort_clause(self._catalogue)
        reading = read_prompt(prompt_text, count_tokens=count_tokens, catalogue=self.catalogue)
        answer = simulate(reading, prompt_text, profile=PROFILES[profile], seed=seed, sample_index=sample_index,
                          temperature=temperature, policy=policy_params(self.catalogue))
        return SimulatedAnswer(text=answer.text, label=answer.action, label_probability=answer.action_probability)

    def judge_inputs(self, case: Case) -> tuple[str, str]:
        """(rubric text, case summary) an LLM judge grades a message against."""
        from evalkit.tasks.upgrades._judge import judge_inputs

        return judge_inputs(case)

    def judged_text(self, decision: Decision | None, fallback: str) -> str:
        from evalkit.tasks.upgrades._judge import judged_text

        return judged_text(decision, fallback)

    def simulate_judge(self, prompt_text: str, *, seed: int) -> str:
        from evalkit.tasks.upgrades._judge import simulate_judge

        return simulate_judge(prompt_text, seed=seed)

    def rules_decide(self, prompt_text: str) -> str:
        """The written policy as code: a non-LLM baseline reading the same prompt."""
        from evalkit.tasks.upgrades._rules import rules_answer

        return rules_answer(prompt_text, catalogue=self.catalogue)


def _warn_unread_cohort_clause(catalogue: Catalogue) -> None:
    """Once per catalogue: a team's cohort clause the simulated model cannot read is said, not silently 0% good."""
    if catalogue in _WARNED:
        return
    _WARNED.add(catalogue)
    from evalkit.tasks.upgrades._clauses import unread_cohort_clause

    if (why := unread_cohort_clause(catalogue)) is not None:
        import sys

        # a line in the run's log like its other warnings, not a Python warning quoting evalkit's source
        print(f"warning: {why}", file=sys.stderr, flush=True)


_WARNED: weakref.WeakSet[Catalogue] = weakref.WeakSet()

task = UpgradesTask()

__all__ = [
    "PROFILES",
    "SEGMENTS",
    "Case",
    "Catalogue",
    "CatalogueFile",
    "Decision",
    "ExpectedDecision",
    "SimProfile",
    "UpgradesTask",
    "catalogue_json_schema",
    "parse_catalogue",
    "shipped_catalogue",
    "task",
]
