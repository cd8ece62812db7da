"""The evalkit command line (Typer).

Help is rendered as plain text: Typer's rich help formatter imports rich's markdown
stack, which costs more start-up time than the whole rest of ``evalkit --help``.
Commands still print rich tables; they import rich when they run.
"""

import os

os.environ.setdefault("TYPER_USE_RICH", "0")
