"""Hermetic tests: every test gets its own EVALKIT_HOME (cache) and never touches ~/.evalkit."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _hermetic_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVALKIT_HOME", str(tmp_path_factory.mktemp("evalkit-home")))


# Tests that share one expensive session fixture (a full demo run) run on the same xdist worker
# (`make test` uses `--dist loadgroup`), so the demo is built once, not once per worker.
_SHARED_RUNS = {"demo_report": "demo-report", "demo_run_b": "demo-report", "demo_home": "demo-report",
                "demo_run": "demo-run"}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        groups = {_SHARED_RUNS[name] for name in getattr(item, "fixturenames", ()) if name in _SHARED_RUNS}
        if groups:
            item.add_marker(pytest.mark.xdist_group(sorted(groups)[0]))
