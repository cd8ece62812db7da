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
    try:
        app()
    except Exception as exc:  # noqa: BLE001 - raised outside the group's guard (e.g. while building the app)
        with redacted_streams():
            code = report_error(exc)
        sys.exit(code)


if __name__ == "__main__":
    main()
