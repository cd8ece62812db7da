"""Synthetic runs and one built report shared by the report tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from evalkit.report import build_report
from evalkit.report._synthetic import DEFAULT_TEMPLATE, write_synthetic_run

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
                        baseline=report_runs["base"], max_drilldowns=40)
