from __future__ import annotations

import pytest


@pytest.fixture()
def home(tmp_path, monkeypatch):
    """A private EVALKIT_HOME (the response cache lives there)."""
    path = tmp_path / "home"
    monkeypatch.setenv("EVALKIT_HOME", str(path))
    return path
