"""Fixtures for run tables, run history and batch tests: a small dataset and suites written on the fly."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def tiny_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A dataset store holding ``tiny@v1``: 48 generated upgrades cases (fast to load)."""
    from evalkit.dataset import generate_dataset

    store = tmp_path_factory.mktemp("tiny-datasets")
    generate_dataset("upgrades", n=48, seed=5, name="tiny", version="v1", store=store)
    return store
