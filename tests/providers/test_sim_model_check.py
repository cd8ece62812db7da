"""`provider: sim` with a model the task has no simulation profile for (`model: huge`) failed only once
the run was under way: every call a provider_error, exit 3 and a leftover run folder suggesting resume.
It is a configuration error, found when the provider is created: exit 2 before anything is planned,
naming the file, the configuration, the model and the known profiles; no run folder."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from evalkit.cli.main import app

REPO = Path(__file__).resolve().parents[2]


def test_an_unknown_simulated_model_is_exit_2_before_anything_is_planned(tmp_path, monkeypatch):
    monkeypatch.setenv("EVALKIT_HOME", str(tmp_path / "home"))
    suite = tmp_path / "suite.yaml"
    (tmp_path / "p.j2").write_text((REPO / "suites" / "prompts" / "upgrade-v1.j2").read_text())
    suite.write_text("name: prov\ndataset: upgrades@v1\nconfigs:\n  - name: big\n    provider: sim\n"
                     "    model: huge\n    prompt: p.j2\n")
    reports = tmp_path / "reports"
    out = CliRunner().invoke(app, ["run", str(suite), "--limit", "10", "--reports", str(reports),
                                   "--datasets", str(REPO / "datasets")], env={"COLUMNS": "300"})
    assert out.exit_code == 2, out.output
    assert f"{suite.resolve()}: configs[big] (provider sim): model 'huge'" in out.output.replace("\n", "")
    assert "profiles: small, large" in out.output
    assert not reports.exists() or not any(reports.iterdir())


def test_known_profiles_and_the_judge_are_accepted():
    from evalkit.providers import create_provider
    from evalkit.tasks import get_task

    provider = create_provider("sim", task=get_task("upgrades"))
    for model in ("large", "sim-small", "judge"):
        provider.check_model(model)
