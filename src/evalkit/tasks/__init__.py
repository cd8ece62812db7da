"""Decision domains ("tasks"). Built-in: ``upgrades``. More register through the
``evalkit.tasks`` entry-point group (how the built-in registers too) or, from code, with
``evalkit.register_task``."""

from __future__ import annotations

from functools import lru_cache
from importlib.metadata import entry_points
from typing import Any

from evalkit.errors import ConfigError
from evalkit.tasks._task import (
    CAPABILITIES,
    Expectations,
    JudgeSupport,
    PromptContext,
    PromptVariable,
    Reading,
    RulesBaseline,
    SimulatedAnswer,
    SimulatedJudge,
    SimulatedModel,
    Task,
    Verdict,
)
from evalkit.tasks._variables import describe as describe_prompt_variables

DEFAULT_TASK = "upgrades"
"""The built-in task: what a suite without ``task:`` and the loopback server's simulated model use."""

# Tasks registered from code in this process (a notebook, a test, a plugin's own import).
_REGISTERED: dict[str, Task] = {}


def _missing_members(task: Any, protocol: type) -> list[str]:
    members = [m for m in dir(protocol) if not m.startswith("_")]
    members += list(getattr(protocol, "__annotations__", {}))
    return sorted({m for m in members if not hasattr(task, m)})


def check_task(task: Any, *, where: str = "task") -> Task:
    """``task`` if it implements the Task protocol, else a ConfigError naming what it lacks."""
    missing = _missing_members(task, Task)
    if missing:
        raise ConfigError(f"{where} {getattr(task, 'name', task)!r} does not implement the Task protocol: "
                          f"missing {', '.join(missing)} (see evalkit.tasks.Task)")
    return task


def register_task(task: Task, *, name: str | None = None) -> Task:
    """Make ``task`` available by name (``task: NAME`` in suites) in this process; returns it.

    Packages should also declare it under the ``evalkit.tasks`` entry-point group so the
    CLI finds it without importing their code first.
    """
    check_task(task)
    _REGISTERED[name or task.name] = task
    return task


@lru_cache(maxsize=32)  # entry-point scans cost ~20 ms; tasks are immutable singletons
def _entry_point_task(name: str) -> Task | None:
    for ep in entry_points(group="evalkit.tasks"):
        if ep.name == name:
            return check_task(ep.load(), where=f"entry point evalkit.tasks:{name}")
    return None


def get_task(name: str) -> Task:
    if name in _REGISTERED:
        return _REGISTERED[name]
    task = _entry_point_task(name)
    if task is not None:
        return task
    known = sorted({*_REGISTERED, *(ep.name for ep in entry_points(group="evalkit.tasks"))})
    raise ConfigError(f"unknown task {name!r}; known tasks: {', '.join(known)}")


def require_capability(task: Task, capability: str, *, needed_by: str) -> Any:
    """The task as the optional capability ``needed_by`` needs (see CAPABILITIES), or a clear error."""
    protocol = CAPABILITIES[capability]
    missing = _missing_members(task, protocol)
    if missing:
        raise ConfigError(f"{needed_by} needs a task that offers a {capability}; task {task.name!r} does not "
                          f"(missing {', '.join(missing)}). Use a real model provider, or add it to the task.")
    return task


__all__ = [
    "CAPABILITIES",
    "DEFAULT_TASK",
    "Expectations",
    "JudgeSupport",
    "PromptContext",
    "PromptVariable",
    "Reading",
    "RulesBaseline",
    "SimulatedAnswer",
    "SimulatedJudge",
    "SimulatedModel",
    "Task",
    "Verdict",
    "check_task",
    "describe_prompt_variables",
    "get_task",
    "register_task",
    "require_capability",
]
