"""Where evalkit keeps per-user state. One variable, EVALKIT_HOME, makes tests hermetic."""

from __future__ import annotations

import os
from pathlib import Path


def evalkit_home() -> Path:
    """EVALKIT_HOME, else ~/.evalkit. Holds the response cache."""
    return Path(os.environ.get("EVALKIT_HOME") or Path.home() / ".evalkit")


def cache_dir() -> Path:
    return evalkit_home() / "cache"


def datasets_dir() -> Path:
    """The dataset store: EVALKIT_DATASETS, else ./datasets."""
    return Path(os.environ.get("EVALKIT_DATASETS") or "datasets")


def reports_dir() -> Path:
    """Where runs live: EVALKIT_REPORTS, else ./reports."""
    return Path(os.environ.get("EVALKIT_REPORTS") or "reports")
