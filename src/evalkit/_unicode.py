"""Lone surrogates: text that Python holds but no file can store.

JSON and YAML escapes (``"\\ud800"``) can produce half of a UTF-16 pair; writing it as
UTF-8 (parquet, JSON, the run's copy of a suite) fails far from where it came in. Inputs
are checked where they are read, so the error names the file, row and field instead.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_SURROGATE = re.compile(r"[\ud800-\udfff]")


def lone_surrogate_at(obj: Any, where: str = "") -> str | None:
    """Dotted path (``request.message``, ``history[2].text``) of the first string holding a lone
    surrogate, ``where`` itself for a bare string; None when all text is valid Unicode."""
    if isinstance(obj, str):
        return (where or "(value)") if _SURROGATE.search(obj) else None
    if isinstance(obj, Mapping):
        for key, value in obj.items():
            path = f"{where}.{key}" if where else str(key)
            if isinstance(key, str) and _SURROGATE.search(key):
                return path
            if (found := lone_surrogate_at(value, path)) is not None:
                return found
    elif isinstance(obj, (list, tuple)):
        for i, value in enumerate(obj):
            if (found := lone_surrogate_at(value, f"{where}[{i}]")) is not None:
                return found
    return None
