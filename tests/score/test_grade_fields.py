"""A judged output keeps exactly the parsed decision's fields (and a permissive model's extras)."""

from __future__ import annotations

import json

from pydantic import BaseModel, ConfigDict

from evalkit.score._grade import _fields, judge_outputs
from evalkit.score._parse import parse_decision
from evalkit.tasks.upgrades import task


def test_fields_equal_the_models_own_dict():
    cases = list(task.generate(30, 3))
    for case in cases:
        answer = dict(case.reviewed.model_dump(mode="json"), message="Approved as reviewed.", confidence=0.9)
        parsed = parse_decision(json.dumps(answer), task.decision_model)
        assert parsed.decision is not None, parsed.error
        assert _fields(parsed.decision) == dict(parsed.decision)
    judged = judge_outputs(task, {c.case_id: c for c in cases}, [
        (c.case_id, json.dumps(dict(c.reviewed.model_dump(mode="json"), message="ok", confidence=0.5)), True)
        for c in cases], workers=1)
    assert all(j.decision == dict(task.decision_model.model_validate(j.decision)) for j in judged)

    class Loose(BaseModel):
        model_config = ConfigDict(extra="allow")
        action: str

    loose = Loose.model_validate({"action": "upgrade", "note": "kept", "n": 2})
    assert _fields(loose) == dict(loose) == {"action": "upgrade", "note": "kept", "n": 2}
