"""The command line's outer guard: what a user sees when something goes wrong.

* stdout and stderr are wrapped in the redaction layer for the whole command, so no
  print, rich table, progress line or click usage error can show an API key;
* an ``EvalkitError`` prints ``error: ...`` (and its listed problems) and exits with its code;
* any other exception prints ONE line naming it and the log file holding the (redacted)
  traceback, ``EVALKIT_HOME/logs/…``, and exits 3 ("the run failed"), never 1 and
  never with a traceback on the terminal;
* Ctrl-C exits 130 (typer's own handling, left in place).

``GuardedGroup`` is the click group class of the ``evalkit`` app, so both the installed
script and ``CliRunner(app)`` go through it.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer
from typer.core import TyperGroup

EXIT_INTERNAL = 3


@contextlib.contextmanager
def redacted_streams() -> Iterator[None]:
    """sys.stdout / sys.stderr redacted for the duration (restored, and flushed, after)."""
    from evalkit._redacting_stream import RedactingStream

    old_out, old_err = sys.stdout, sys.stderr
    if isinstance(old_out, RedactingStream) or isinstance(old_err, RedactingStream):
        yield  # already guarded (nested invocation)
        return
    out, err = RedactingStream(old_out), RedactingStream(old_err)
    sys.stdout, sys.stderr = out, err  # type: ignore[assignment]
    try:
        yield
    finally:
        for stream in (out, err):
            with contextlib.suppress(Exception):
                stream.flush()
        sys.stdout, sys.stderr = old_out, old_err


def save_traceback(exc: BaseException) -> Path | None:
    """Write the (redacted) traceback to EVALKIT_HOME/logs; None if even that fails."""
    import traceback
    from datetime import UTC, datetime

    from evalkit import _io
    from evalkit._home import evalkit_home

    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    path = evalkit_home() / "logs" / f"error-{stamp}-{os.getpid()}.log"
    text = (f"evalkit {' '.join(sys.argv[1:])}\n"
            + "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
    try:
        return _io.write_text(path, text)
    except Exception:  # noqa: BLE001 - a read-only home must not hide the original error
        return None


def report_error(exc: Exception) -> int:
    """Print one clear message for ``exc`` to stderr; the exit code it maps to."""
    from evalkit._secrets import redact_text
    from evalkit.errors import EXIT_USAGE, DataError, EvalkitError

    if isinstance(exc, EvalkitError):
        typer.echo(f"error: {exc}", err=True)
        if isinstance(exc, DataError):
            for problem in exc.problems:
                typer.echo(f"  - {problem}", err=True)
        return exc.exit_code
    path_problem = _path_problem(exc)
    if path_problem is not None:
        typer.echo(redact_text(f"error: {path_problem}"), err=True)
        return EXIT_USAGE  # a folder or file the user named (or EVALKIT_HOME) is unusable: bad input
    log = save_traceback(exc)
    first = (str(exc).strip().splitlines() or [""])[0][:300]
    where = f"traceback saved to {log}" if log else "the traceback could not be saved"
    typer.echo(redact_text(f"error: internal error ({type(exc).__name__}: {first}); {where}. "
                           f"Please report it with that file."), err=True)
    return EXIT_INTERNAL


_PATH_ERRNOS = {"ENOTDIR", "EISDIR", "ENOENT", "EACCES", "EPERM", "EROFS"}


def _path_problem(exc: BaseException) -> str | None:
    """'cannot use PATH: Not a directory' for an OS error about a path (``--reports`` naming a file,
    an EVALKIT_HOME that cannot be created, a read-only folder); None for anything else."""
    import errno

    if not isinstance(exc, OSError) or exc.filename is None or errno.errorcode.get(exc.errno or 0) not in _PATH_ERRNOS:
        return None
    where = f"{exc.filename}" + (f" -> {exc.filename2}" if exc.filename2 else "")
    return f"cannot use {where}: {exc.strerror} (check the path, the folder options and EVALKIT_HOME)"


class GuardedGroup(TyperGroup):
    """The app's group: redacted streams around everything, one-line errors, exit 3."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        with redacted_streams():
            return super().main(*args, **kwargs)

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.TyperException):  # usage errors, typer.Exit(code): typer's own
            raise
        except Exception as exc:  # noqa: BLE001 - the one place every unexpected error ends
            raise typer.Exit(report_error(exc)) from None
