"""Fixtures for projection tests; the generators live in project_synth.py."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from project_synth import make_scores, write_run


@pytest.fixture
def scores() -> pd.DataFrame:
    return make_scores(0)


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    th = {"schema": 1, "outcome": "good", "mode": "global",
          "configs": {"alpha": {"threshold": 0.8}, "beta": {"threshold": None}}}
    return write_run(tmp_path, make_scores(1, configs=("alpha", "beta")), thresholds=th)
