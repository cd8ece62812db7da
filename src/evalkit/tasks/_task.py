"""The task interface: what a decision domain supplies so the engine, scoring and
reports never need to know about subscription upgrades (or refunds, or claims)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
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
    """Machine-readable reasons, e.g. 'price.missed_legacy_discount', 'check.forbidden:injected_instruction'."""
    deferred: bool = False


@dataclass(frozen=True, kw_only=True)
class PromptContext:
    """Variables a prompt template can use, plus bookkeeping the scores table needs."""

    variables: dict[str, Any]
    history_turns_total: int
    history_turns_included: int
    deciding_turn_from_end: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class Task(Protocol):
    name: str
    case_model: type[BaseModel]
    """Pydantic model of one case; has string fields ``case_id``, ``segment``, ``variant``."""
    decision_model: type[BaseModel]
    segments: Sequence[str]

    def generate(self, n: int, seed: int) -> Iterator[BaseModel]:
        """Deterministic synthetic historical cases (same seed, same cases)."""
        ...

    def prompt_context(self, case: BaseModel, *, max_history_turns: int | None,
                       max_history_tokens: int | None, clauses: Sequence[str] | None) -> PromptContext: ...

    def decision_json_schema(self) -> dict[str, Any]: ...

    def score(self, case: BaseModel, decision: BaseModel | None) -> Verdict:
        """Correct/good verdict for a parsed decision (None = invalid output)."""
        ...
