"""`evalkit gate|compare|report --reports PATH`: the reports folder a run id, a prefix or `latest` is looked
up in, declared as `evalkit run` declares it (same help, same EVALKIT_REPORTS variable, the command line
wins); an unusable folder is bad input naming it (exit 2)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from evalkit.cli.main import app
from evalkit.testing._synthetic import write_synthetic_run

SPEC = {"name": "demo", "gates": [{"kind": "min_good_rate", "min": 0.1}]}
BASE, CAND = "20261121-110000-demo-aaaaaa", "20261121-120000-demo-bbbbbb"


@pytest.fixture
def reports(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "elsewhere"
    for run_id in (BASE, CAND):
        write_synthetic_run(root / run_id, run_id=run_id, configs={"prod": {}}, n_cases=240, suite_spec=SPEC,
                            thresholds=False, projection=False)
    monkeypatch.delenv("EVALKIT_REPORTS", raising=False)
    monkeypatch.chdir(tmp_path)  # no ./reports: only --reports can find the runs
    return root


def _invoke(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "120", "NO_COLOR": "1", **(env or {})})


def _commands(reports: Path, tmp_path: Path) -> dict[str, list[str]]:
    return {"gate": ["gate", CAND, "--baseline", BASE[:15], "--no-write"],
            "compare": ["compare", BASE, CAND[:15]],
            "report": ["report", BASE, "latest", "-o", str(tmp_path / "r.html")]}


@pytest.mark.parametrize("command", ["gate", "compare", "report"])
def test_run_ids_are_found_in_the_reports_folder_given(command, reports, tmp_path):
    args = _commands(reports, tmp_path)[command]
    assert _invoke(*args).exit_code == 2  # not under ./reports
    result = _invoke(*args, "--reports", str(reports))
    assert result.exit_code == 0, result.output
    # the command line wins over the variable
    assert _invoke(*args, "--reports", str(reports), env={"EVALKIT_REPORTS": str(tmp_path / "nope")}).exit_code == 0
    assert _invoke(*args, env={"EVALKIT_REPORTS": str(reports)}).exit_code == 0
    if command == "report":
        assert (tmp_path / "r.html").is_file()


@pytest.mark.parametrize("command", ["gate", "compare", "report"])
def test_an_unusable_reports_folder_is_bad_input_naming_it(command, reports, tmp_path):
    args = _commands(reports, tmp_path)[command]
    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder")
    for bad in (a_file, tmp_path / "missing"):
        result = _invoke(*args, "--reports", str(bad))
        assert result.exit_code == 2, result.output
        assert str(bad) in result.output and "internal error" not in result.output


def test_the_option_is_declared_as_runs_is():
    import typer.main

    group = typer.main.get_command(app)

    def reports_option(*path: str):
        cmd = group
        for name in path:
            cmd = cmd.commands[name]
        (param,) = [p for p in cmd.params if p.name == "reports"]
        return param.opts, param.help, param.envvar

    expected = reports_option("run")
    assert expected[0] == ["--reports"] and expected[2] == "EVALKIT_REPORTS"
    for path in (("merge",), ("gate",), ("compare",), ("report",), ("runs", "history"), ("runs", "list")):
        assert reports_option(*path) == expected, path
