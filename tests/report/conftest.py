"""Synthetic runs and one built report shared by the report tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from evalkit.report import build_report
from evalkit.testing._synthetic import DEFAULT_TEMPLATE, write_synthetic_run

# The candidate's prompt drops the legacy-discount clause: the template diff must show it.
SHORT_TEMPLATE = DEFAULT_TEMPLATE.replace("Policy: honour legacy discounts.\n", "")


@pytest.fixture(scope="session")
def report_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("report-runs")
    base = write_synthetic_run(root / "base", run_id="20261121-110000-ci-base00", configs={"prod": {}},
                               n_cases=1200, force_good=["case-00000"])
    cand = write_synthetic_run(
        root / "cand", run_id="20261121-120000-ci-cand00", n_cases=1200, xss_case=True,
        configs={"prod": {"shift": {"legacy_discount": -0.2}, "noise_seed": 5, "template": SHORT_TEMPLATE},
                 "cheap": {"cost_scale": 0.5, "noise_seed": 9, "model": "sim-tiny"}})
    return {"base": base, "cand": cand, "root": root}


@pytest.fixture(scope="session")
def report_html(report_runs: dict[str, Path]) -> Path:
    return build_report([report_runs["cand"]], out=report_runs["root"] / "out" / "report.html",
                        baseline=report_runs["base"], max_prompts=40)


REPO = Path(__file__).resolve().parents[2]


def run_cli(args: list[str], *, home: Path, cwd: Path = REPO, check: bool = True):
    """`evalkit ARGS` in a subprocess (the real CLI, its exit code and output), hermetic home."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "EVALKIT_HOME": str(home), "EVALKIT_DATASETS": str(REPO / "datasets"),
           "NO_COLOR": "1", "COLUMNS": "100"}
    res = subprocess.run([sys.executable, "-m", "evalkit.cli.main", *args], check=False, cwd=cwd, env=env,
                         capture_output=True, text=True, timeout=900)
    if check:
        assert res.returncode in (0, 1), f"evalkit {' '.join(args)} -> {res.returncode}\n{res.stdout}\n{res.stderr}"
    return res


@pytest.fixture(scope="session")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("demo-home")


@pytest.fixture(scope="session")
def demo_report(tmp_path_factory: pytest.TempPathFactory, demo_home: Path) -> Path:
    """The shipped demo suite, all configurations, run once for the whole session (as `make demo`)."""
    reports = tmp_path_factory.mktemp("demo-reports")
    run_cli(["run", "suites/upgrades-demo.yaml", "--fresh", "--reports", str(reports)], home=demo_home)
    (run_dir,) = [p for p in reports.iterdir() if (p / "manifest.json").is_file()]
    assert (run_dir / "report.html").is_file()
    return run_dir


@pytest.fixture(scope="session")
def evalkit_cli():
    """`run_cli` for test modules (tests/ is not a package)."""
    return run_cli
