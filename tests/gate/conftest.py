"""Synthetic run folders for gate tests: a baseline, a candidate with a planted drop in
one segment, and a candidate that differs from the baseline only by noise."""

from __future__ import annotations

from pathlib import Path

import pytest

from evalkit.testing import write_synthetic_run

N = 1800  # 300 cases per segment: a 15-point planted drop is unmistakable, noise is not


@pytest.fixture(scope="session")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("gate-runs")
    return {
        "base": write_synthetic_run(root / "20261121-120000-ci-aaaaaa", run_id="20261121-120000-ci-aaaaaa",
                                    configs={"prod": {}}, n_cases=N),
        "drop": write_synthetic_run(root / "20261121-120100-ci-bbbbbb", run_id="20261121-120100-ci-bbbbbb",
                                    configs={"prod": {"shift": {"legacy_discount": -0.15}, "noise_seed": 5}},
                                    n_cases=N),
        "noise": write_synthetic_run(root / "20261121-120200-ci-cccccc", run_id="20261121-120200-ci-cccccc",
                                     configs={"prod": {"noise_seed": 7}}, n_cases=N),
    }
