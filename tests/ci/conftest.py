"""Fixtures for the CI tests: synthetic run folders (a baseline and a candidate with a
planted drop), and helpers to run the CLI as a CI job does."""

from __future__ import annotations

from pathlib import Path

import pytest

from evalkit.testing import write_synthetic_run

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def synthetic_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("ci-runs")
    spec = {"name": "synthetic-ci", "gates": [{"kind": "max_good_rate_drop", "max_drop": 0.0},
                                              {"kind": "min_good_rate", "min": 0.1}]}
    return {
        "base": write_synthetic_run(root / "20261121-120000-ci-aaaaaa", run_id="20261121-120000-ci-aaaaaa",
                                    configs={"prod": {}}, n_cases=1800, suite_spec=spec),
        "drop": write_synthetic_run(root / "20261121-120100-ci-bbbbbb", run_id="20261121-120100-ci-bbbbbb",
                                    configs={"prod": {"shift": {"legacy_discount": -0.15}, "noise_seed": 5}},
                                    n_cases=1800, suite_spec=spec),
    }
