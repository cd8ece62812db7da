"""The evalkit command line. It only parses arguments and calls the library.

Every command module registers itself through ``register(app)`` and imports only
typer and the standard library at module level: heavy libraries (pandas, sklearn,
matplotlib, provider SDKs) load inside the command that needs them, so
``evalkit --help`` stays fast. Conventions shared by every command (``EVALKIT_*``
variables, ``--version``) live in :mod:`evalkit.cli._conventions`.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from evalkit.cli import (
    _cache,
    _calibrate,
    _compare,
    _conventions,
    _dataset,
    _gate,
    _project,
    _report,
    _run,
    _runs,
)
from evalkit.cli._guard import redacted_streams, report_error

app = typer.Typer(
    name="evalkit",
    cls=_conventions.EvalkitGroup,  # the guard (cli/_guard.py) plus EVALKIT_* variables for every option
    help="Evaluate LLM decisions before you ship: correct vs good, calibrated escalation, cost tails, CI gates.\n\n"
         "Every option can also be set through the EVALKIT_* environment variable shown next to it; "
         "NO_COLOR=1 turns colour off.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=True,
)


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_conventions.version_callback, is_eager=True,
                                          help="Print evalkit's version and exit.")] = False,
) -> None:
    """Evaluate LLM decisions before you ship: correct vs good, calibrated escalation, cost tails, CI gates."""


for module in (_dataset, _run, _runs, _compare, _calibrate, _project, _report, _gate, _cache):
    module.register(app)


def main() -> None:
    """The console entry point: run the command, then end the process (``_leave``)."""
    try:
        app()
        code: object = 0
    except SystemExit as exc:
        code = exc.code
    except Exception as exc:  # noqa: BLE001 - raised outside the group's guard (e.g. while building the app)
        with redacted_streams():
            code = report_error(exc)
    _leave(code)


def _leave(code: object) -> None:
    """End the process the way ``sys.exit(code)`` would, minus the interpreter's teardown.

    By now every file is written (atomically) and closed. What is left is freeing a run's objects one by
    one (cases, tables, modules), which took ~0.25 s of every run's wall time, for memory the OS reclaims
    at once. So: wait for non-daemon threads and run the atexit handlers (temporary folders, helper
    processes, logging) as Python would, flush the streams, and exit."""
    import atexit
    import os
    import threading

    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:  # sys.exit("message"): printed, status 1, as Python does
        print(code, file=sys.stderr)
        status = 1
    for thread in threading.enumerate():
        if thread is not threading.current_thread() and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()  # noqa: SLF001 - the handlers interpreter shutdown would run
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (`evalkit runs list | head`) or stream: nothing to add
            pass
    os._exit(status)


if __name__ == "__main__":
    main()
