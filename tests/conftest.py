"""Hermetic tests: every test gets its own EVALKIT_HOME (cache) and never touches ~/.evalkit."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _hermetic_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVALKIT_HOME", str(tmp_path_factory.mktemp("evalkit-home")))
