"""A run keeps byte-for-byte copies of its inputs (suite, prompts, catalogue): resume and the report read
them back. The redaction layer once rewrote a configuration named "basic" (``basic\\n  provider`` read as
a Basic credential) and a clause's "Basic subscribers" into ``***``: the copies no longer parsed and resume
failed. Prose is kept; a key's value in an input is refused before the run folder is made."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from evalkit.errors import ConfigError
from evalkit.pipeline import run_suite
from evalkit.run import RunRequest

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "src" / "evalkit" / "tasks" / "upgrades" / "catalogue.yaml"
TEMPLATE = ROOT / "suites" / "prompts" / "upgrade-v1.j2"


def _suite(tmp_path: Path, *, clause: str) -> Path:
    raw = yaml.safe_load(SHIPPED.read_text())
    raw["clauses"][1]["text"] = clause
    (tmp_path / "catalogue.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    (tmp_path / "prompts").mkdir(exist_ok=True)
    shutil.copy(TEMPLATE, tmp_path / "prompts" / TEMPLATE.name)
    suite = tmp_path / "suite.yaml"
    suite.write_text(yaml.safe_dump({
        "name": "basic-plan", "task": "upgrades", "dataset": "upgrades@v2", "catalogue": "catalogue.yaml",
        "configs": [{"name": "basic", "provider": "rules", "model": "written-policy",
                     "prompt": f"prompts/{TEMPLATE.name}"}]}, sort_keys=False))
    return suite


def _request(tmp_path: Path, suite: Path | None = None, **kw) -> RunRequest:
    return RunRequest(suite_path=suite, limit=6, reports=tmp_path / "reports", datasets=ROOT / "datasets",
                      progress=False, **kw)


def test_inputs_naming_basic_are_copied_verbatim_and_the_run_resumes(tmp_path):
    suite = _suite(tmp_path, clause="Basic subscribers keep their list price until renewal.")
    outcome = run_suite(_request(tmp_path, suite, fresh=True))
    run_dir = outcome.run_dir
    assert (run_dir / "catalogue.yaml").read_bytes() == (tmp_path / "catalogue.yaml").read_bytes()
    assert (run_dir / "prompts" / "basic.j2").read_bytes() == TEMPLATE.read_bytes()
    copied = yaml.safe_load((run_dir / "suite.yaml").read_text())
    assert [c["name"] for c in copied["configs"]] == ["basic"]
    again = run_suite(_request(tmp_path, resume=outcome.run_id))  # reads the copies back
    assert again.run_id == outcome.run_id and again.resumed


def test_an_input_holding_a_keys_value_is_refused_before_the_run_folder_is_made(tmp_path, monkeypatch):
    monkeypatch.setenv("TEAM_PORTAL_TOKEN", "portal-secret-3141592")
    suite = _suite(tmp_path, clause="Ask the portal (token portal-secret-3141592) for legacy prices.")
    with pytest.raises(ConfigError, match=r"catalogue\.yaml:\d+: holds what looks like a credential"):
        run_suite(_request(tmp_path, suite, fresh=True))
    assert not (tmp_path / "reports").exists()


def test_suite_validate_refuses_what_run_refuses(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from evalkit.cli.main import app

    monkeypatch.setenv("TEAM_PORTAL_TOKEN", "portal-secret-3141592")
    suite = _suite(tmp_path, clause="Ask the portal (token portal-secret-3141592) for legacy prices.")
    out = CliRunner().invoke(app, ["suite", "validate", str(suite), "--datasets", str(ROOT / "datasets")])
    assert out.exit_code == 2 and "holds what looks like a credential" in out.output, out.output
