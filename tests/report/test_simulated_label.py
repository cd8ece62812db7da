"""Every command that prints numbers from a simulated run says "simulated" (issue 14, item 6).

One small synthetic run with a simulated configuration, and a twin from a "real" provider as
the control: the label must appear for the first and must not for the second (so the check
can fail). In-process CLI (typer's runner): seconds, no subprocess start-up.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from evalkit.testing._synthetic import SEGMENTS, write_synthetic_run

SUITE = {"gates": [{"kind": "min_good_rate", "min": 0.1}],
         "projection": {"volume_per_month": 1000, "mix": {s: 1 / len(SEGMENTS) for s in SEGMENTS}}}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[bool, Path]:
    root = tmp_path_factory.mktemp("sim-label")
    return {sim: write_synthetic_run(root / ("sim" if sim else "real"), run_id="sim" if sim else "real",
                                     configs={"prod": {}, "cand": {"noise_seed": 4}}, n_cases=240,
                                     simulated=sim, suite_spec=SUITE)
            for sim in (True, False)}


def _commands(run: Path, out: Path) -> dict[str, list[str]]:
    return {
        "compare": ["compare", str(run), "--config-a", "prod", "--config-b", "cand"],
        "calibrate": ["calibrate", str(run)],
        "project": ["project", str(run)],
        "gate": ["gate", str(run)],
        "report": ["report", str(run), "-o", str(out / "r.html"), "--max-prompts", "0"],
    }


@pytest.mark.parametrize("command", ["compare", "calibrate", "project", "gate", "report"])
def test_each_command_labels_simulated_numbers(runs, command, tmp_path, monkeypatch):
    from evalkit.cli.main import app

    monkeypatch.setenv("EVALKIT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("COLUMNS", "100")
    seen = {}
    for sim, src in runs.items():
        run = Path(shutil.copytree(src, tmp_path / src.name))
        res = CliRunner().invoke(app, _commands(run, tmp_path)[command])
        assert res.exit_code in (0, 1), (command, res.output, res.exception)
        seen[sim] = res.output.lower()
        if command == "report":
            seen[sim] += (tmp_path / "r.html").read_text(encoding="utf-8").lower()
        if command == "gate":
            seen[sim] += (run / "summary.md").read_text(encoding="utf-8").lower()
    assert "simulated" in seen[True], (command, seen[True][-2000:])
    assert "simulated" not in seen[False], (command, seen[False][-2000:])
