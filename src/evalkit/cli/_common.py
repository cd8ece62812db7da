"""Shared CLI helpers: turn library errors into a clear message and an exit code."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated

import typer

ReportsOpt = Annotated[Path | None, typer.Option(help="Folder holding run folders (default ./reports).")]
"""``--reports PATH``, as ``evalkit run`` declares it (variable EVALKIT_REPORTS, cli/_conventions.py): the
folder where run ids, prefixes and ``latest`` are looked up. The command line wins over the variable,
and the variable over ./reports (``evalkit._home.reports_dir``)."""


@contextlib.contextmanager
def cli_errors() -> Iterator[None]:
    """Print an EvalkitError (and its listed problems) to stderr and exit with its code."""
    from evalkit.errors import DataError, EvalkitError

    try:
        yield
    except EvalkitError as exc:
        typer.echo(f"error: {exc}", err=True)
        if isinstance(exc, DataError):
            for problem in exc.problems:
                typer.echo(f"  - {problem}", err=True)
        sys.exit(exc.exit_code)


def reports_root(reports: Path | None) -> Path:
    """The reports folder: ``--reports`` (or EVALKIT_REPORTS), else ./reports. One that exists but is not
    a folder is bad input naming it (exit 2); a missing one is named by the lookup that finds nothing there."""
    from evalkit._home import reports_dir
    from evalkit.errors import ConfigError

    root = Path(reports) if reports is not None else reports_dir()
    if root.exists() and not root.is_dir():
        raise ConfigError(f"reports folder {root} (--reports, EVALKIT_REPORTS) is not a folder: name the folder "
                          "that holds the run folders")
    return root


def resolve_run_ref(ref: str, reports: Path | None) -> Path:
    """The folder of RUN (a run id, a unique prefix, ``latest`` or a folder) in the reports folder."""
    from evalkit.runs import resolve_run

    return resolve_run(ref, reports=reports_root(reports))


def resolve_baseline_ref(ref: str, run_dir: Path, reports: Path | None) -> Path:
    """A ``--baseline`` for ``run_dir``: ``latest`` = the newest earlier complete run of its suite beside
    it (evalkit.runs.resolve_baseline); a run id is looked up in the reports folder first, then beside
    the run, as ``evalkit run`` looks it up."""
    from evalkit.errors import NotFound
    from evalkit.runs import resolve_baseline, resolve_run

    if ref != "latest":
        try:
            return resolve_run(ref, reports=reports_root(reports))
        except NotFound:
            pass
    return resolve_baseline(ref, run_dir)


def fraction_in_unit(value: float | None) -> float | None:
    """Typer callback: a share in (0, 1] (``--sample 0`` or ``1.5`` is a usage error, exit 2)."""
    if value is not None and not 0.0 < value <= 1.0:
        raise typer.BadParameter(f"must be a fraction in (0, 1], got {value}")
    return value


def open_unit(value: float | None) -> float | None:
    """Typer callback: a probability strictly between 0 and 1."""
    if value is not None and not 0.0 < value < 1.0:
        raise typer.BadParameter(f"must be strictly between 0 and 1, got {value}")
    return value


def positive(value: float | None) -> float | None:
    """Typer callback: a number above 0."""
    if value is not None and not value > 0:
        raise typer.BadParameter(f"must be above 0, got {value}")
    return value


def add_group(app: typer.Typer, name: str, help: str, commands: dict[str, Callable[..., object]]) -> None:
    """Add ``evalkit NAME <command>``: a command group with these ``{command name: function}``."""
    group = typer.Typer(name=name, help=help, no_args_is_help=True)
    for command, function in commands.items():
        group.command(command)(function)
    app.add_typer(group, name=name)


SIMULATED = "these numbers come from a simulated provider, not a real model"


def simulated_configs(run_dir, configs) -> list[str]:  # (Path, Iterable[str]) -> list[str]
    """The configurations of ``run_dir`` whose numbers are simulated (an unreadable run: none)."""
    from evalkit.runs import RunFolder

    try:
        folder = RunFolder(path=run_dir)
        return [c for c in configs if folder.simulated(c)]
    except Exception:  # noqa: BLE001 - an unreadable manifest is reported by the command itself
        return []


def simulated_line(names: list[str]) -> str | None:
    """The label every command prints under simulated numbers, or None."""
    return f"simulated: {', '.join(names)}: {SIMULATED}" if names else None
