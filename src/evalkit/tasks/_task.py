"""The task interface: what a decision domain supplies so the engine, scoring and
reports never need to know about subscription upgrades (or refunds, or claims).

The core reads a task only through ``Task``. What some providers need beyond it is a
separate, optional capability (``SimulatedModel``, ``RulesBaseline``, ``JudgeSupport``):
a task offers it or not, and a provider that needs one says so (``requires_task``), so
a task without a simulated model still runs with real models.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel


@dataclass(frozen=True, kw_only=True)
class Verdict:
    """Scoring of one decision against one case."""

    correct: bool
    good: bool
    wrong_fields: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()
    """Machine-readable reasons, e.g. 'price.missed_discount', 'check.forbidden:injected_instruction'."""
    deferred: bool = False
    """The decision hands the case to a person (escalation), which is never automated."""


@dataclass(frozen=True, kw_only=True)
class Reading:
    """What the core reads from a parsed decision: the choice it made and its stated confidence."""

    label: str
    """The decision's label (e.g. an action such as 'approve'): compared across samples and runs."""
    confidence: float | None
    """The model's stated probability that the decision is right (None when the task has none)."""


@dataclass(frozen=True, kw_only=True)
class Expectations:
    """What a case's reviewers decided, as the core reads it."""

    label: str
    """The reviewed decision's label (compared with Reading.label)."""


@dataclass(frozen=True, kw_only=True)
class PromptContext:
    """Variables a prompt template can use, plus bookkeeping the scores table needs."""

    variables: dict[str, Any]
    history_turns_total: int
    history_turns_included: int
    deciding_turn_from_end: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class PromptVariable:
    """One variable a prompt template may use (listed by ``evalkit suite vars``)."""

    name: str
    type: str
    description: str
    example: str


@runtime_checkable
class Task(Protocol):
    name: str
    case_model: type[BaseModel]
    """Pydantic model of one case; has string fields ``case_id``, ``segment``, ``variant``."""
    decision_model: type[BaseModel]
    segments: Sequence[str]
    """The segment vocabulary of generated data (report order); imported data may use other labels."""
    label_field: str
    """The decision field holding the label as JSON text (where token log-probabilities are read)."""
    expectation_fields: Sequence[str]
    """Case fields that hold the expected decision(s), shown as 'expected' in report drill-downs."""

    def generate(self, n: int, seed: int) -> Iterator[BaseModel]:
        """Deterministic synthetic historical cases (same seed, same cases)."""
        ...

    def prompt_context(self, case: BaseModel, *, max_history_turns: int | None,
                       max_history_tokens: int | None, clauses: Sequence[str] | None) -> PromptContext: ...

    def prompt_variables(self) -> Sequence[PromptVariable]:
        """Every variable ``prompt_context`` gives templates, with type, meaning and an example."""
        ...

    def decision_json_schema(self) -> dict[str, Any]: ...

    def read_decision(self, decision: BaseModel) -> Reading: ...

    def expectations(self, case: BaseModel) -> Expectations: ...

    def score(self, case: BaseModel, decision: BaseModel | None) -> Verdict:
        """Correct/good verdict for a parsed decision (None = invalid output)."""
        ...


# --- optional capabilities -------------------------------------------------------------

@dataclass(frozen=True, kw_only=True)
class SimulatedAnswer:
    """A simulated model's answer: its text, the label it chose and that label's probability."""

    text: str
    label: str | None
    label_probability: float


@runtime_checkable
class SimulatedModel(Protocol):
    """A task that can stand in for an LLM offline (the ``sim`` provider). Its numbers are simulated."""

    sim_profiles: Mapping[str, Any]
    """Profile name -> profile; a profile may name ``price_as``, the real model it is priced as."""

    def simulate(self, prompt_text: str, *, profile: str, seed: int, sample_index: int = 0,
                 temperature: float = 0.0) -> SimulatedAnswer: ...


@runtime_checkable
class SimulatedJudge(Protocol):
    """A task that can stand in for an LLM judge offline (the ``sim`` provider's ``judge`` model)."""

    def simulate_judge(self, prompt_text: str, *, seed: int) -> str: ...


@runtime_checkable
class RulesBaseline(Protocol):
    """A task whose written policy also exists as code (the ``rules`` provider): a non-LLM baseline."""

    def rules_decide(self, prompt_text: str) -> str: ...


@runtime_checkable
class JudgeSupport(Protocol):
    """A task whose decisions an LLM judge can grade, and whose cases may carry human review labels."""

    def judge_inputs(self, case: BaseModel) -> tuple[str, str]:
        """(rubric text, case summary) a judge grades a message against."""
        ...

    def judged_text(self, decision: BaseModel | None, fallback: str) -> str: ...

    def human_review(self, case: BaseModel) -> tuple[str, bool] | None:
        """(what was actually replied, a reviewer's good/not-good label), when the case has one."""
        ...


@runtime_checkable
class CatalogueData(Protocol):
    """A task whose catalogue and policy are data: a YAML file a dataset version ships or a suite
    names (``evalkit.tasks.bind_catalogue`` decides which applies). The bound task renders that
    policy, prices with that catalogue, and validates case names against it through
    ``validation_context`` (pydantic validation context for its case model)."""

    catalogue_file: str
    """The file name a dataset version ships the catalogue under (one of its attachments)."""
    validation_context: Mapping[str, Any]

    def with_catalogue(self, data: bytes | str, *, where: str) -> Task:
        """This task under the catalogue in ``data``; ConfigError naming ``where`` and the bad field."""
        ...

    def catalogue_json_schema(self) -> dict[str, Any]: ...


@runtime_checkable
class RangedGenerator(Protocol):
    """A task whose generated cases each draw from their own random stream, so any range of them can
    be generated on its own: ``evalkit dataset generate`` then generates a large set on every core."""

    def generate_range(self, start: int, stop: int, seed: int) -> Iterator[BaseModel]:
        """Cases ``start`` .. ``stop - 1`` of ``generate(stop, seed)``: the very same cases."""
        ...


CAPABILITIES: dict[str, type] = {"simulated model": SimulatedModel, "simulated judge": SimulatedJudge,
                                 "rules baseline": RulesBaseline, "judge support": JudgeSupport,
                                 "catalogue": CatalogueData, "ranged generator": RangedGenerator}
