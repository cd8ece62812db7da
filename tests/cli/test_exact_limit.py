"""--limit N runs exactly N cases: per-segment counts by largest remainder (Hamilton)."""

from __future__ import annotations

import random
from dataclasses import dataclass

import pytest

from evalkit.run._plan import allocate, stratified_subset


@dataclass(frozen=True)
class Case:
    case_id: str
    segment: str


def cases(sizes: dict[str, int]) -> list[Case]:
    out = [Case(f"{seg}-{i}", seg) for seg, n in sizes.items() for i in range(n)]
    random.Random(0).shuffle(out)
    return out


DEMO = {"adversarial": 339, "custom_contract": 346, "legacy_pricing": 331, "long_context": 311,
        "operational_context": 315, "promotion": 313, "routine": 746, "undocumented_exception": 299}


@pytest.mark.parametrize("limit", [1, 7, 8, 9, 10, 100, 499, 500, 2999, 3000, 5000])
def test_limit_gives_exactly_n_cases(limit):
    picked = stratified_subset(cases(DEMO), limit=limit, fraction=None, seed=3)
    assert len(picked) == min(limit, sum(DEMO.values()))
    assert len({c.case_id for c in picked}) == len(picked)
    if limit >= len(DEMO):
        assert {c.segment for c in picked} == set(DEMO)  # every segment keeps a case when there is room


def test_largest_remainder_by_hand():
    # quotas for 10 of (5, 3, 2) out of 10 -> exact; for 4: 2.0, 1.2, 0.8 -> 2, 1, 1
    assert allocate({"a": 5, "b": 3, "c": 2}, 10) == {"a": 5, "b": 3, "c": 2}
    assert allocate({"a": 5, "b": 3, "c": 2}, 4) == {"a": 2, "b": 1, "c": 1}
    # 7 of (1, 1, 98): quotas 0.07, 0.07, 6.86 -> 0, 0, 7, then each segment gets one from the largest
    assert allocate({"a": 1, "b": 1, "c": 98}, 7) == {"a": 1, "b": 1, "c": 5}
    assert allocate({"a": 1, "b": 1, "c": 98}, 2) == {"a": 0, "b": 0, "c": 2}  # no room for every segment
    shares = allocate(DEMO, 500)
    assert sum(shares.values()) == 500
    assert all(abs(shares[s] - DEMO[s] * 500 / 3000) < 1 for s in DEMO)


def test_same_seed_same_cases_and_fraction_rounds_to_nearest():
    a = stratified_subset(cases(DEMO), limit=250, fraction=None, seed=5)
    b = stratified_subset(cases(DEMO), limit=250, fraction=None, seed=5)
    assert [c.case_id for c in a] == [c.case_id for c in b]
    assert len(stratified_subset(cases(DEMO), limit=None, fraction=0.1, seed=5)) == 300
