"""evalkit: know before you ship whether an LLM makes good decisions, and what it will cost.

The data flow, one package per stage (layers point one way; ``evalkit.pipeline`` runs them in order)::

    evalkit.dataset -> evalkit.run -> evalkit.score -> evalkit.calibrate -> evalkit.project -> evalkit.gate -> evalkit.report

Run folders are read through ``evalkit.runs`` (typed files, ``open_run``); shared statistics live in
``evalkit.stats``.

The most used entry points are re-exported here and imported on first use, so
``import evalkit`` (and ``evalkit --help``) stays fast.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "load_dataset": "evalkit.dataset",
    "RunRequest": "evalkit.run",
    "run_suite": "evalkit.pipeline",
    "load_suite": "evalkit.suite",
    "aggregate": "evalkit.score",
    "compare": "evalkit.score",
    "compare_runs": "evalkit.score",
    "calibrate_run": "evalkit.calibrate",
    "project_run": "evalkit.project",
    "build_report": "evalkit.report",
    "evaluate_gates": "evalkit.gate",
    "get_task": "evalkit.tasks",
    "register_task": "evalkit.tasks",
    "open_run": "evalkit.runs",
    "run_and_evaluate": "evalkit.pipeline",
}

__all__ = ["RunRequest", "__version__", "aggregate", "build_report", "calibrate_run", "compare", "compare_runs",
           "evaluate_gates", "get_task", "load_dataset", "load_suite", "open_run", "project_run", "register_task",
           "run_and_evaluate", "run_suite"]


def __getattr__(name: str) -> Any:
    if name == "__version__":  # importlib.metadata costs ~0.1 s: only when asked
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("evalkit")
        except PackageNotFoundError:  # running from a source tree without installation
            return "0.0.0"
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'evalkit' has no attribute {name!r}")
