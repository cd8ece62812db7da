"""End-to-end fixtures: real runs of the shipped suites (offline, simulated provider)."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory):
    """The demo suite on the full upgrades@v2 dataset, three configurations, run once."""
    from evalkit.pipeline import post_run
    from evalkit.pipeline import RunRequest, run_suite

    reports = tmp_path_factory.mktemp("demo-reports")
    mp = pytest.MonkeyPatch()
    mp.setenv("EVALKIT_HOME", str(tmp_path_factory.mktemp("demo-home")))
    try:
        outcome = run_suite(RunRequest(suite_path=REPO / "suites" / "upgrades-demo.yaml",
                                       configs=("small-v1", "large-v1", "large-no-legacy"), reports=reports,
                                       datasets=REPO / "datasets", progress=False))
        post_run(outcome, baseline=None, verbose=False)
    finally:
        mp.undo()
    return outcome
