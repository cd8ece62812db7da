"""CLI conventions applied to every command: an ``EVALKIT_*`` environment variable for
every option (shown in ``--help``), ``--version``, JSON output and console width.

The variable is ``EVALKIT_<LONG OPTION>`` (``--max-cost`` -> ``EVALKIT_MAX_COST``), so an
option that means the same thing in several commands reads the same variable. The few
options whose name means something else in another command get their own name
(:data:`RENAMED`); every variable several commands read is listed with its one meaning
(:data:`SHARED`). A value given on the command line always wins over the variable.
"""

from __future__ import annotations

from typing import Any

import typer

from evalkit.cli._guard import GuardedGroup

PREFIX = "EVALKIT_"

# (command path, option name) -> variable suffix, for names that would clash in meaning.
RENAMED: dict[tuple[str, str], str] = {
    ("dataset", "store"): "DATASETS",            # same folder as `run --datasets`
    ("dataset import", "version"): "DATASET_VERSION",  # a dataset label, not evalkit's version
    ("dataset generate", "version"): "DATASET_VERSION",
    ("dataset diff", "limit"): "DIFF_LIMIT",     # ids shown, not cases run
    ("cache prune", "all"): "PRUNE_ALL",          # destructive: never picked up by accident
    ("runs rm", "force"): "RM_FORCE",
    ("runs", "suite"): "RUNS_SUITE",             # a suite name filter, not `gate --suite FILE`
    ("calibrate", "name"): "THRESHOLD_SET",      # the set `project/report --threshold-set` read
    ("dataset import", "name"): "DATASET_NAME",  # a dataset's name, not a threshold set's
    ("dataset generate", "name"): "DATASET_NAME",
    ("run", "seed"): "SAMPLE_SEED",              # which cases --limit/--fraction pick
    ("dataset generate", "seed"): "GENERATE_SEED",  # which cases exist: never the analysis seed
    ("report", "out"): "REPORT_OUT",             # an HTML report, not a schema file
    ("runs history", "out"): "HISTORY_OUT",
    ("dataset mapping-schema", "out"): "SCHEMA_OUT",
    ("dataset catalogue-schema", "out"): "SCHEMA_OUT",
    ("suite schema", "out"): "SCHEMA_OUT",
}

SHARED: dict[str, str] = {
    "EVALKIT_BASELINE": "the run to compare against",
    "EVALKIT_CONFIG": "the configurations to work on",
    "EVALKIT_DATASETS": "the dataset store",
    "EVALKIT_DATASET_NAME": "the dataset's name",
    "EVALKIT_DATASET_VERSION": "the dataset version's label",
    "EVALKIT_DESCRIPTION": "the dataset version's description",
    "EVALKIT_JSON": "JSON on stdout instead of tables",
    "EVALKIT_OUTCOME": "good or correct",
    "EVALKIT_PARENT": "the dataset version this one derives from",
    "EVALKIT_QUIET": "no progress display",
    "EVALKIT_REPLAY": "answers from the response cache only: no key needed, a cache miss is an error",
    "EVALKIT_REPORTS": "the folder that holds run folders",
    "EVALKIT_RUNS_SUITE": "a suite name filter over past runs",
    "EVALKIT_SCHEMA_OUT": "where a JSON Schema is written",
    "EVALKIT_SEED": "the analysis's resampling seed (folds, bootstrap)",
    "EVALKIT_TASK": "the task whose case model applies",
    "EVALKIT_THRESHOLD_SET": "a run's threshold set",
}
"""Variables that several commands read, and the one thing each means in all of them (a test
fails when two commands share a variable not listed here: give one of them its own name)."""


def envvar_name(command_path: str, option: str) -> str:
    """The variable an option reads: renamed when listed, else EVALKIT_<OPTION>."""
    key = option.lstrip("-")
    for (path, name), suffix in RENAMED.items():
        if name == key and (command_path == path or command_path.startswith(path + " ")):
            return PREFIX + suffix
    return PREFIX + key.upper().replace("-", "_")


def _long_name(param: Any) -> str | None:
    """The option's long name (``--max-cost`` -> ``max-cost``); its parameter name when it has only ``-o``."""
    longs = [o for o in param.opts if o.startswith("--")]
    if longs:
        return longs[0][2:]
    return param.name.rstrip("_") if param.name else None


def apply_envvars(command: Any, path: str = "") -> None:
    """Give every option of COMMAND and its subcommands an EVALKIT_* variable shown in --help."""
    for param in getattr(command, "params", []):
        if getattr(param, "param_type_name", "") != "option" or param.envvar:
            continue
        name = _long_name(param)
        if name is None or name == "help" or (name == "version" and not path) or name.endswith("-completion"):
            continue
        param.envvar = envvar_name(path, name)
        param.show_envvar = True
    for sub_name, sub in (getattr(command, "commands", None) or {}).items():
        apply_envvars(sub, f"{path} {sub_name}".strip())


class EvalkitGroup(GuardedGroup):
    """The root group: the guard's redaction and one-line errors (cli/_guard.py), plus the variables;
    built last by Typer, so every subcommand exists when it is created."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        apply_envvars(self)


def version_callback(value: bool) -> None:
    if value:
        from evalkit import __version__

        typer.echo(f"evalkit {__version__}")
        raise typer.Exit(0)


def console(**kwargs: Any):
    """A rich Console for command output: wraps to the terminal (80 columns when piped), honours NO_COLOR."""
    from rich.console import Console

    return Console(highlight=False, **kwargs)


def _plain(value: Any) -> Any:
    """JSON-safe: NaN/inf become null (standard JSON has neither), tuples become lists."""
    import math

    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def echo_json(document: Any) -> None:
    """Print a JSON document on stdout (the whole of stdout for --json): standard JSON, no NaN."""
    import json

    typer.echo(json.dumps(_plain(document), indent=2, default=str, allow_nan=False))
