"""Shared CLI helpers: turn library errors into a clear message and an exit code."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator

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
