"""The evalkit command line (Typer).

Help is rendered as plain text: Typer's rich help formatter imports rich's markdown
stack, which costs more start-up time than the whole rest of ``evalkit --help``.
Commands still print rich tables; they import rich when they run.

Arrow allocates through the C library's malloc in evalkit's commands (unless the user chose
a pool): its default, mimalloc, keeps the pages of freed buffers (decoded case tables, parquet
reads) for reuse, which measured +25 MB at a 2,000-case run's peak and no faster.
"""

import os

os.environ.setdefault("TYPER_USE_RICH", "0")
os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
