"""Fixtures for the scoring tests; plain helpers live in score_fixtures.py (a unique module name:
``from conftest import`` would pick whichever conftest was imported first)."""

from __future__ import annotations

from pathlib import Path

import pytest

@pytest.fixture
def reports_root(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "reports"
    root.mkdir()
    monkeypatch.setenv("EVALKIT_REPORTS", str(root))
    return root
