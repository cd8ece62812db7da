"""Shared CLI helpers: turn library errors into a clear message and an exit code."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator

import typer


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
