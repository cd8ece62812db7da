"""Decision domains ("tasks"). Built-in: ``upgrades``. More register through the
``evalkit.tasks`` entry-point group."""

from __future__ import annotations

from functools import lru_cache
from importlib.metadata import entry_points

from evalkit.errors import ConfigError
from evalkit.tasks._task import PromptContext, Task, Verdict


@lru_cache(maxsize=32)  # entry-point scans cost ~20 ms; tasks are immutable singletons
def get_task(name: str) -> Task:
    for ep in entry_points(group="evalkit.tasks"):
        if ep.name == name:
            return ep.load()
    known = sorted(ep.name for ep in entry_points(group="evalkit.tasks"))
    raise ConfigError(f"unknown task {name!r}; known tasks: {', '.join(known)}")


__all__ = ["PromptContext", "Task", "Verdict", "get_task"]
