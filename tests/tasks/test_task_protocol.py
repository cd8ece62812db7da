"""The Task protocol, its optional capabilities and public registration."""

from __future__ import annotations

import dataclasses

import pytest

import evalkit
from evalkit.errors import ConfigError
from evalkit.tasks import (
    Reading,
    RulesBaseline,
    SimulatedModel,
    Task,
    check_task,
    get_task,
    register_task,
    require_capability,
)


def test_builtin_task_implements_the_protocol_and_its_capabilities():
    task = get_task("upgrades")
    assert isinstance(task, Task) and isinstance(task, SimulatedModel) and isinstance(task, RulesBaseline)
    case = next(iter(task.generate(5, 3)))
    assert task.expectations(case).label == case.reviewed.action
    decision = task.decision_model.model_validate({"action": "deny", "message": "no", "confidence": 0.3})
    assert task.read_decision(decision) == Reading(label="deny", confidence=0.3)


@dataclasses.dataclass
class _Bare:
    """A task with only the core protocol: no simulated model, no rules baseline."""

    name: str = "bare"
    label_field: str = "action"
    segments: tuple = ("a",)

    def __getattr__(self, item):
        upgrades = get_task("upgrades")
        if item in ("simulate", "simulate_judge", "sim_profiles", "rules_decide", "human_review", "judge_inputs",
                    "judged_text"):
            raise AttributeError(item)
        return getattr(upgrades, item)


def test_register_task_makes_a_task_available_by_name_and_checks_it():
    bare = register_task(_Bare(), name="bare-test")
    assert get_task("bare-test") is bare and evalkit.register_task is register_task
    with pytest.raises(ConfigError, match="missing .*label_field"):
        register_task(type("Half", (), {"name": "half"})())
    with pytest.raises(ConfigError, match="unknown task 'nosuch'.*bare-test"):
        get_task("nosuch")


def test_a_provider_that_needs_a_capability_the_task_lacks_is_refused_clearly():
    bare = check_task(_Bare())
    with pytest.raises(ConfigError, match="provider sim needs a task that offers a simulated model; task 'bare'"):
        require_capability(bare, "simulated model", needed_by="provider sim")
    assert require_capability(get_task("upgrades"), "rules baseline", needed_by="x") is get_task("upgrades")
