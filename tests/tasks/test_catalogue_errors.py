"""A catalogue's cross-entry mistakes (a plan or clause id given twice, a bad cohort, a nonprofit plan the file
lacks) are blamed on the entry and its line, not on the file's top level."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from evalkit.cli.main import app
from evalkit.errors import ConfigError
from evalkit.tasks.upgrades import CatalogueFile, task

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "src" / "evalkit" / "tasks" / "upgrades" / "catalogue.yaml"


def _line_of(text: str, needle: str, nth: int = 1) -> int:
    lines = [i + 1 for i, line in enumerate(text.splitlines()) if needle in line]
    return lines[nth - 1]


def _bad(tmp_path: Path) -> tuple[Path, str]:
    raw = yaml.safe_load(SHIPPED.read_text())
    raw["plans"].insert(3, {"name": "team", "seat_price": {"monthly": "30.00", "annual": "300.00"}})
    raw["clauses"][4]["id"] = "UPG-2"
    raw["cohorts"]["Early 2020"] = 15
    raw["cohorts"]["early-2021"] = 120
    raw["terms"]["nonprofit"]["plans"] = ["team", "platinum"]
    path = tmp_path / "team-catalogue.yaml"
    text = yaml.safe_dump(raw, sort_keys=False)
    path.write_text(text)
    return path, text


def test_cross_entry_problems_name_the_file_line_entry_and_name(tmp_path):
    path, text = _bad(tmp_path)
    with pytest.raises(ConfigError) as err:
        task.with_catalogue(path.read_bytes(), where=str(path))
    problems = str(err.value).splitlines()[1:]
    plan_line = _line_of(text, "- name: team", 2)
    assert f"  {path}:{plan_line}: field plans.3.name: plan 'team' is repeated (first at plans.1)" in \
        "\n".join(problems)
    clause_line = _line_of(text, "id: UPG-2", 2)
    assert any(p.startswith(f"  {path}:{clause_line}: field clauses.4.id: clause id 'UPG-2' is repeated")
               for p in problems), problems
    assert any(p.startswith(f"  {path}:{_line_of(text, 'Early 2020')}: field cohorts.Early 2020: 'Early 2020' is "
                            "not a cohort name") for p in problems), problems
    assert any(p.startswith(f"  {path}:{_line_of(text, 'early-2021: 120')}: field cohorts.early-2021: percent off")
               for p in problems), problems
    assert any(p.startswith(f"  {path}:{_line_of(text, '- platinum')}: field terms.nonprofit.plans.1: 'platinum' is "
                            "not among the plans") for p in problems), problems
    assert "(top level)" not in str(err.value) and len(problems) == 5


def test_field_problems_carry_their_line_too(tmp_path):
    raw = yaml.safe_load(SHIPPED.read_text())
    raw["plans"][1]["seat_price"]["monthly"] = "cheap"
    path = tmp_path / "bad.yaml"
    text = yaml.safe_dump(raw, sort_keys=False)
    path.write_text(text)
    with pytest.raises(ConfigError, match=rf"{path}:{_line_of(text, 'monthly: cheap')}: field "
                                          r"plans\.1\.seat_price\.monthly: "):
        task.with_catalogue(path.read_bytes(), where=str(path))


def test_validated_directly_the_model_names_each_entry():
    raw = yaml.safe_load(SHIPPED.read_text())
    raw["plans"].append(dict(raw["plans"][0]))
    with pytest.raises(ValueError, match=r"plans\.4\.name: plan 'starter' is repeated \(first at plans\.0\)"):
        CatalogueFile.model_validate(raw)


def test_import_with_a_repeated_plan_exits_2_naming_the_entry_and_writes_nothing(tmp_path, monkeypatch):
    path, text = _bad(tmp_path)
    store = tmp_path / "store"
    monkeypatch.setenv("EVALKIT_DATASETS", str(store))
    r = CliRunner().invoke(app, ["dataset", "import", str(ROOT / "examples" / "cases.jsonl"), "--name", "team",
                                 "--version", "v1", "--catalogue", str(path)])
    out = r.output + (r.stderr if r.stderr_bytes is not None else "")
    assert r.exit_code == 2, out
    assert f"{path}:{_line_of(text, '- name: team', 2)}: field plans.3.name: plan 'team' is repeated" in out
    assert "Traceback" not in out and (not store.exists() or not any(store.rglob("*")))
