"""Which cases a run sends, and in what order: shards for CI matrices and the seeded,
segment-stratified order of a sequential run.

Both are pure functions of the case ids, their segments and a seed, so every job of a
matrix computes the same partition without talking to the others, and a re-run sends
the same cases in the same order.
"""

from __future__ import annotations

import hashlib
import random
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from evalkit.errors import ConfigError


def parse_shard(text: str) -> tuple[int, int]:
    """``"2/3"`` -> (2, 3); anything else is a usage error naming the expected form."""
    try:
        index_s, count_s = text.split("/")
        index, count = int(index_s), int(count_s)
    except ValueError:
        raise ConfigError(f"--shard: expected I/N such as 1/3, got {text!r}") from None
    if count < 1 or not 1 <= index <= count:
        raise ConfigError(f"--shard {text}: I must be between 1 and N (N >= 1)")
    return index, count


def _rank_key(seed: int, case_id: str) -> str:
    return hashlib.sha256(f"{seed}|{case_id}".encode()).hexdigest()


def _by_segment(cases: Sequence[Any]) -> dict[str, list[Any]]:
    groups: dict[str, list[Any]] = defaultdict(list)
    for case in cases:
        groups[str(case.segment)].append(case)
    return dict(sorted(groups.items()))


def shard_of(cases: Sequence[Any], *, count: int, seed: int) -> dict[str, int]:
    """Shard number (1..count) of every case: within each segment, cases are ranked by a
    seeded hash of their id and dealt round-robin, continuing the deal across segments, so
    every shard holds each segment's share (+-1 case) and shard sizes differ by at most one."""
    out: dict[str, int] = {}
    dealt = 0
    for group in _by_segment(cases).values():
        for case in sorted(group, key=lambda c: _rank_key(seed, str(c.case_id))):
            out[str(case.case_id)] = dealt % count + 1
            dealt += 1
    return out


def shard_cases(cases: Sequence[Any], index: int, count: int, *, seed: int) -> list[Any]:
    """The cases of shard ``index`` of ``count``, in dataset order."""
    owner = shard_of(cases, count=count, seed=seed)
    return [c for c in cases if owner[str(c.case_id)] == index]


def stratified_order(cases: Sequence[Any], *, seed: int) -> list[str]:
    """A seeded random order of the case ids in which every prefix keeps each segment's
    share: each segment is shuffled, and its k-th case is placed at (k + u) / n_segment
    on a common clock (u uniform in [0, 1)), so segments interleave in proportion."""
    rng = random.Random(seed)
    keyed: list[tuple[float, str]] = []
    for group in _by_segment(cases).values():
        ids = [str(c.case_id) for c in group]
        rng.shuffle(ids)
        n = len(ids)
        keyed.extend(((k + rng.random()) / n, case_id) for k, case_id in enumerate(ids))
    keyed.sort()
    return [case_id for _, case_id in keyed]


def select_cases(cases: Sequence[Any], *, shard: tuple[int, int] | None, case_ids: Sequence[str] | None,
                 seed: int) -> list[Any]:
    """Apply a shard, then an explicit case-id list (which also sets the order)."""
    picked = list(cases)
    if shard is not None:
        picked = shard_cases(picked, shard[0], shard[1], seed=seed)
    if case_ids is not None:
        by_id = {str(c.case_id): c for c in picked}
        unknown = [c for c in case_ids if c not in by_id]
        if unknown:
            more = f" (and {len(unknown) - 1} more)" if len(unknown) > 1 else ""
            raise ConfigError(f"case id {unknown[0]!r}{more} is not among the run's cases")
        picked = [by_id[c] for c in dict.fromkeys(case_ids)]
    return picked


def case_ids_digest(case_ids: Sequence[str] | None) -> str | None:
    if case_ids is None:
        return None
    return hashlib.sha256("\n".join(case_ids).encode()).hexdigest()[:16]
