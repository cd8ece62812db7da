"""Parse model outputs and score them against their cases, in parallel for large runs.

Parsing (pydantic) and the rubric cost ~20 µs per output, all CPU: a million outputs
is most of a core-minute. Above ``PARALLEL_MIN`` outputs the work is split across
forked worker processes; they inherit the task and cases from the parent (nothing is
pickled but the output texts and the compact results), so results are identical to
the serial path, in the same order.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

PARALLEL_MIN = 20_000
_CHUNK = 5_000


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
                  reasons=tuple(v.reasons), decision=dict(d) if d is not None else None)


# Worker-process state, set once per forked worker by the pool initializer (never in the parent).
_WORKER: dict[str, Any] = {}


def _init_worker(task: Any, cases: Mapping[str, Any]) -> None:
    _WORKER["task"], _WORKER["cases"] = task, cases


def _judge_chunk(items: list[Item]) -> list[tuple[Any, ...]]:
    task, cases = _WORKER["task"], _WORKER["cases"]
    # Plain tuples cross the process boundary several times faster than dataclass instances.
    return [tuple(getattr(j, f) for f in _FIELDS) for j in (_judge(task, cases, item) for item in items)]


_FIELDS = Judged.__slots__


def judge_outputs(task: Any, cases: Mapping[str, Any], items: Sequence[Item], *,
                  workers: int | None = None, parallel_min: int = PARALLEL_MIN) -> list[Judged]:
    """Parse and score ``items`` in order; forked workers when there are many of them."""
    workers = workers if workers is not None else (os.cpu_count() or 1)
    if workers < 2 or len(items) < parallel_min or "fork" not in _start_methods():
        return [_judge(task, cases, item) for item in items]
    import gc
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    chunks = [list(items[i:i + _CHUNK]) for i in range(0, len(items), _CHUNK)]
    # Without freezing, each child's garbage collector walks the whole inherited heap and
    # copy-on-write duplicates it: the workers would spend their time copying, not scoring.
    gc.freeze()
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("fork"),
                                 initializer=_init_worker, initargs=(task, cases)) as pool:
            out: list[Judged] = []
            for part in pool.map(_judge_chunk, chunks):
                out.extend(Judged(*row) for row in part)
    finally:
        gc.unfreeze()
    return out


def _start_methods() -> list[str]:
    import multiprocessing as mp

    return mp.get_all_start_methods()
