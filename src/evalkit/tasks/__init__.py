"""Decision domains ("tasks"). Built-in: ``upgrades``. More register through the
``evalkit.tasks`` entry-point group (how the built-in registers too) or, from code, with
``evalkit.register_task``."""

from __future__ import annotations

from functools import lru_cache
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from evalkit.errors import ConfigError
from evalkit.tasks._task import (
    CAPABILITIES,
    CatalogueData,
    Expectations,
    JudgeSupport,
    PromptContext,
    PromptVariable,
    RangedGenerator,
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
            from evalkit._plugins import load_entry_point

            return check_task(load_entry_point(ep, kind="task"), where=f"entry point evalkit.tasks:{name}")
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


def bind_catalogue(task: Task, *, file: str | Path | None = None, dataset: Any = None) -> Task:
    """``task`` under the catalogue that applies. The one precedence rule (docs/catalogue.md):

    1. ``file``, a catalogue file a suite names (``catalogue:``) or an import is given, wins: a suite
       may ask "what if the
       prices change" of any dataset;
    2. else the catalogue ``dataset`` ships (the attachment named ``task.catalogue_file``);
    3. else the task's own (for upgrades: the shipped catalogue).

    A task without the catalogue capability is returned as it is; naming a file for one is an error.
    """
    data, where = None, ""
    if file is not None:
        path = Path(file)
        require_capability(task, "catalogue", needed_by=f"catalogue {path}")
        try:
            data, where = path.read_bytes(), str(path)
        except OSError as exc:
            raise ConfigError(f"{path}: catalogue file not readable: {exc.strerror or exc}") from None
    elif dataset is not None and isinstance(task, CatalogueData):
        data = dataset.attachment(task.catalogue_file)
        where = f"{dataset.path}/{task.catalogue_file}"
    if data is None:
        return task
    return task.with_catalogue(data, where=where)  # type: ignore[attr-defined]


__all__ = [
    "CAPABILITIES",
    "DEFAULT_TASK",
    "CatalogueData",
    "Expectations",
    "JudgeSupport",
    "PromptContext",
    "PromptVariable",
    "RangedGenerator",
    "Reading",
    "RulesBaseline",
    "SimulatedAnswer",
    "SimulatedJudge",
    "SimulatedModel",
    "Task",
    "Verdict",
    "bind_catalogue",
    "check_task",
    "describe_prompt_variables",
    "get_task",
    "register_task",
    "require_capability",
]
