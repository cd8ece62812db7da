"""Parallel parsing and scoring gives exactly the serial results, in the same order."""

from __future__ import annotations

import json

from evalkit.score import judge_outputs
from evalkit.tasks.upgrades import task


def test_parallel_judging_matches_serial():
    cases = {c.case_id: c for c in task.generate(300, 4)}
    items = []
    for i, case in enumerate(cases.values()):
        # "Done." for an escalation or a refusal contradicts its action: those get a neutral message
        message = "Done." if case.reviewed.action in ("approve", "counter_offer") else "Thank you for your request."
        decision = dict(case.reviewed.model_dump(mode="json"), message=message, confidence=0.9)
        if i % 3 == 1:
            decision["new_recurring_price"] = "1.00"  # wrong on purpose
        text = json.dumps(decision) if i % 7 else "not json at all"
        items.append((case.case_id, text, i % 5 != 0))  # some are parsed only, as extra samples are
    serial = judge_outputs(task, cases, items, workers=1)
    parallel = judge_outputs(task, cases, items, workers=2, parallel_min=10)
    assert parallel == serial
    assert {j.status for j in serial} == {"ok", "invalid"}
    assert any(j.good for j in serial) and any(not j.correct for j in serial if j.status == "ok")
    unscored = [j for j, item in zip(serial, items) if not item[2]]
    assert unscored and not any(j.reasons for j in unscored)
