"""A history turn's time is stored in UTC without a zone on every import path: natively a time with an
offset kept its zone (09:00+02:00) while a mapped import stored 07:00; zoned and naive times in one
history cannot be compared."""

from __future__ import annotations

import json

import pytest

from evalkit.tasks.upgrades import task


@pytest.mark.parametrize("given, stored", [
    ("2025-01-02T10:00:00+02:00", "2025-01-02 08:00:00"),
    ("2025-01-02T23:30:00-05:00", "2025-01-03 04:30:00"),
    ("2025-01-02T10:00:00Z", "2025-01-02 10:00:00"),
    ("2025-01-02T10:00:00", "2025-01-02 10:00:00"),
])
def test_a_native_case_stores_its_turn_times_in_utc(given, stored):
    case = next(iter(task.generate(1, 3)))
    raw = json.loads(case.model_dump_json())
    raw["history"][0]["at"] = given
    turn = task.case_model.model_validate(raw).history[0]
    assert turn.at.tzinfo is None and str(turn.at) == stored
