"""The evalkit command line. It only parses arguments and calls the library.

Every command module registers itself through ``register(app)`` and imports only
typer and the standard library at module level: heavy libraries (pandas, sklearn,
matplotlib, provider SDKs) load inside the command that needs them, so
``evalkit --help`` stays fast.
"""

from __future__ import annotations

import sys

import typer

from evalkit.cli import _cache, _calibrate, _compare, _dataset, _gate, _project, _report, _run, _runs
from evalkit.cli._guard import GuardedGroup, redacted_streams, report_error

app = typer.Typer(
    name="evalkit",
    help="Evaluate LLM decisions before you ship: correct vs good, calibrated escalation, cost tails, CI gates.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    cls=GuardedGroup,  # redacted output, one-line errors, exit 3 on the unexpected (cli/_guard.py)
)

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
