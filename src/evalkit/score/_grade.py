"""Parse model outputs and score them against their cases, in parallel for large runs.

Parsing (pydantic) and the rubric cost from ~20 µs (short cases) to ~1 ms (a long history's
text checks) per output, all CPU. From ``PARALLEL_MIN`` outputs the work is shared with forked
worker processes (``evalkit._forked``), a few chunks per core so that one slow chunk does not hold
the rest. They inherit the task and cases (nothing is pickled but the output texts and the
compact results), so results are identical to the serial path, in the same order.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

PARALLEL_MIN = 500
"""Below this many outputs, forking the workers costs more than it saves (measured: 2,000 demo
outputs score in half the time on two cores)."""
_CHUNKS_PER_WORKER = 4
_MAX_CHUNK = 5_000


@dataclass(frozen=True, slots=True)
class Judged:
    """One output, parsed and (when asked) scored."""

    status: str  # "ok" or "invalid"
    error: str | None
    action: str | None
    confidence: float | None
    correct: bool = False
    good: bool = False
    deferred: bool = False
    wrong_fields: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()
    decision: dict[str, Any] | None = None
    """The parsed decision's fields (python values), for the typed decision columns."""


Item = tuple[str, str, bool]
"""(case_id, output text, score it?): samples after the first are parsed, not scored."""


def _judge(task: Any, cases: Mapping[str, Any], item: Item) -> Judged:
    from evalkit.score._parse import parse_decision

    case_id, text, score = item
    parsed = parse_decision(text, task.decision_model)
    d = parsed.decision
    reading = task.read_decision(d) if d is not None else None
    status, action, conf = ("ok", reading.label, reading.confidence) if reading is not None else ("invalid", None, None)
    if not score:
        return Judged(status=status, error=parsed.error, action=action, confidence=conf)
    v = task.score(cases[case_id], d)
    return Judged(status=status, error=parsed.error, action=action, confidence=conf, correct=bool(v.correct),
                  good=bool(v.good), deferred=bool(v.deferred), wrong_fields=tuple(v.wrong_fields),
                  reasons=tuple(v.reasons), decision=_fields(d) if d is not None else None)


def _fields(decision: Any) -> dict[str, Any]:
    """``dict(decision)`` (the model's fields and extras) without pydantic's per-field iterator: ~6 µs of
    each output's ~40 µs when a million are scored."""
    extra = getattr(decision, "__pydantic_extra__", None)
    return {**decision.__dict__, **extra} if extra else dict(decision.__dict__)


def _judge_chunk(state: tuple[Any, Mapping[str, Any], Sequence[Item]], rows: range) -> list[tuple[Any, ...]]:
    task, cases, items = state  # inherited by the fork: only the row range is sent, never the output texts
    # Plain tuples cross the process boundary several times faster than dataclass instances.
    return [tuple(getattr(j, f) for f in _FIELDS) for j in (_judge(task, cases, items[i]) for i in rows)]


_FIELDS = Judged.__slots__


def judge_outputs(task: Any, cases: Mapping[str, Any], items: Sequence[Item], *,
                  workers: int | None = None, parallel_min: int = PARALLEL_MIN) -> list[Judged]:
    """Parse and score ``items`` in order; forked workers help when there are many of them."""
    from evalkit._forked import can_fork, forked_map, split

    cpus = workers if workers is not None else (os.cpu_count() or 1)
    if cpus < 2 or len(items) < parallel_min or not can_fork():
        return [_judge(task, cases, item) for item in items]
    chunks = split(range(len(items)), max(cpus * _CHUNKS_PER_WORKER, -(-len(items) // _MAX_CHUNK)))
    parts = forked_map(_judge_chunk, chunks, state=(task, cases, items), workers=cpus - 1)
    return [Judged(*row) for part in parts for row in part]
