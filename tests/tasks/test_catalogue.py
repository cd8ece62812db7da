"""The plan catalogue and policy as data: a team's YAML file changes prices, plan names and
the clauses prompts render; the shipped catalogue stays what the shipped data were made with."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from evalkit.cli.main import app
from evalkit.errors import ConfigError, DataError
from evalkit.tasks import bind_catalogue
from evalkit.tasks.upgrades import catalogue_json_schema, shipped_catalogue, task
from evalkit.tasks.upgrades._generator import generate_cases
from evalkit.tasks.upgrades._policy import ALL_IDS

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "src" / "evalkit" / "tasks" / "upgrades" / "catalogue.yaml"
TEMPLATE = ROOT / "suites" / "prompts" / "upgrade-v1.j2"


def _shipped_raw() -> dict:
    return yaml.safe_load(SHIPPED.read_text())


def _team_yaml(tmp_path: Path, *, rename: dict[str, str] | None = None, raise_by: Decimal = Decimal("0"),
               clause_text: str | None = None) -> Path:
    """The shipped catalogue with other prices (each seat price + ``raise_by``), plan names or clause text."""
    raw = _shipped_raw()
    for plan in raw["plans"]:
        if plan.get("seat_price"):
            plan["seat_price"] = {k: str(Decimal(v) + raise_by) for k, v in plan["seat_price"].items()}
        plan["name"] = (rename or {}).get(plan["name"], plan["name"])
    nonprofit = raw["terms"]["nonprofit"]
    nonprofit["plans"] = [(rename or {}).get(p, p) for p in nonprofit["plans"]]
    if clause_text:
        raw["clauses"][1]["text"] = clause_text
    path = tmp_path / "team-catalogue.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def _render(t, case) -> str:
    from evalkit.suite import load_template

    ctx = t.prompt_context(case, max_history_turns=None, max_history_tokens=None, clauses=None)
    return "\n\n".join(m["content"] for m in load_template(TEMPLATE).render(ctx.variables))


def _list_price_case():
    """A generated routine case whose reviewed price is the plain list price (no discount, no contract)."""
    from evalkit.tasks.upgrades._engine import decide
    from evalkit.tasks.upgrades._facts import facts_from_raw
    from evalkit.tasks.upgrades._policy import WRITTEN_IDS

    for case in generate_cases(120, 3):
        f = facts_from_raw(case.model_dump())
        outcome = decide(f, frozenset(WRITTEN_IDS))
        if (case.reviewed.action == "approve" and outcome.discount_source == "list" and f.cycle == f.target_cycle
                and not case.history and case.request.structured):
            return case
    raise AssertionError("no plain list-price case in the sample")


def test_the_shipped_catalogue_is_the_yaml_file_and_covers_every_rule_the_engine_implements():
    cat = shipped_catalogue()
    assert cat.plans == ("starter", "team", "business", "enterprise") and cat.sales_plans == {"enterprise"}
    assert cat.prices["team"] == (Decimal("25.00"), Decimal("250.00"))
    assert tuple(c.id for c in cat.clauses) == ALL_IDS
    raw = _shipped_raw()
    assert [c["text"] for c in raw["clauses"]] == [c.text for c in cat.clauses]


def test_catalogue_json_schema_is_committed_and_current():
    committed = json.loads((ROOT / "docs" / "catalogue.schema.json").read_text())
    assert committed == catalogue_json_schema(), "regenerate: evalkit dataset catalogue-schema -o docs/catalogue.schema.json"
    assert committed["additionalProperties"] is False


def test_a_custom_catalogue_changes_rules_prices_and_prompts_and_leaves_the_shipped_data_alone(tmp_path):
    shipped_bytes = hashlib.sha256(SHIPPED.read_bytes()).hexdigest()
    team = task.with_catalogue(_team_yaml(tmp_path, raise_by=Decimal("7"), clause_text="Team pricing clause.")
                               .read_bytes(),
                               where="team-catalogue.yaml")
    case = _list_price_case()
    shipped_prompt, team_prompt = _render(task, case), _render(team, case)
    # The prompt shows the team's prices and clause text, not the shipped ones.
    assert "Plan team: $32.00 per seat per month, $257.00 per seat per year" in team_prompt
    assert "Plan team: $25.00 per seat per month" not in team_prompt
    assert "[UPG-2] List pricing: Team pricing clause." in team_prompt
    assert "Plan team: $25.00 per seat per month, $250.00 per seat per year" in shipped_prompt
    # The rules baseline prices with the team's catalogue: seats x the raised list price.
    per_seat = {p: prices[0 if case.request.target_cycle == "monthly" else 1]
                for p, prices in team.catalogue.prices.items()}[case.request.target_plan]
    team_answer = json.loads(team.rules_decide(team_prompt))
    assert Decimal(team_answer["new_recurring_price"]) == per_seat * case.request.target_seats
    shipped_answer = json.loads(task.rules_decide(shipped_prompt))
    assert Decimal(shipped_answer["new_recurring_price"]) == case.reviewed.new_recurring_price
    assert Decimal(team_answer["new_recurring_price"]) > Decimal(shipped_answer["new_recurring_price"])
    # Shipped data unchanged: the file, the shipped catalogue object and the shipped dataset's cases.
    assert hashlib.sha256(SHIPPED.read_bytes()).hexdigest() == shipped_bytes
    assert shipped_catalogue().prices["team"] == (Decimal("25.00"), Decimal("250.00"))
    assert task.catalogue is shipped_catalogue()


def test_plan_names_come_from_the_catalogue_not_a_fixed_list(tmp_path):
    names = {"starter": "basic", "team": "pro", "business": "scale", "enterprise": "custom"}
    team = task.with_catalogue(_team_yaml(tmp_path, rename=names).read_bytes(), where="team-catalogue.yaml")
    case = _list_price_case()
    raw = json.loads(case.model_dump_json())
    raw["account"]["plan"] = names[raw["account"]["plan"]]
    raw["request"]["target_plan"] = names[raw["request"]["target_plan"]]
    raw["reviewed"]["target_plan"] = names[raw["reviewed"]["target_plan"]]
    raw["alternatives"], raw["pitfalls"] = [], {}
    renamed = task.case_model.model_validate(raw, context=team.validation_context)
    assert renamed.account.plan == names[case.account.plan]
    with pytest.raises(Exception) as err:  # the shipped catalogue has no such plan
        task.case_model.model_validate(raw)
    assert "is not in the catalogue" in str(err.value) and "account.plan" in str(err.value)
    # The team's prompt, read back by the rules baseline with the team's plan names.
    answer = json.loads(team.rules_decide(_render(team, renamed)))
    assert answer["action"] == "approve" and answer["target_plan"] == names[case.request.target_plan]
    enum = team.decision_json_schema()["properties"]["target_plan"]["anyOf"][0]["enum"]
    assert enum == ["basic", "pro", "scale", "custom"]


def test_precedence_the_suite_file_wins_over_the_dataset_which_wins_over_the_task(tmp_path):
    suite_file = _team_yaml(tmp_path, raise_by=Decimal("1"))
    dataset_yaml = yaml.safe_dump({**_shipped_raw(), "name": "from the dataset"})

    class FakeDataset:
        path = tmp_path

        def attachment(self, name: str) -> bytes | None:
            return dataset_yaml.encode() if name == "catalogue.yaml" else None

    assert bind_catalogue(task, file=suite_file, dataset=FakeDataset()).catalogue.prices["team"][0] == Decimal("26.00")
    from_dataset = bind_catalogue(task, dataset=FakeDataset()).catalogue
    assert from_dataset.source.endswith("catalogue.yaml") and from_dataset.prices["team"][0] == Decimal("25.00")
    assert bind_catalogue(task) is task


def test_a_bad_catalogue_names_the_file_and_the_field(tmp_path):
    raw = _shipped_raw()
    raw["plans"][1]["seat_price"]["monthly"] = "cheap"
    raw["plans"][2]["colour"] = "blue"
    bad = tmp_path / "bad-catalogue.yaml"
    bad.write_text(yaml.safe_dump(raw, sort_keys=False))
    with pytest.raises(ConfigError) as err:
        task.with_catalogue(bad.read_bytes(), where=str(bad))
    text = str(err.value)
    assert str(bad) in text and "field plans.1.seat_price.monthly" in text and "field plans.2.colour" in text


def test_import_with_a_bad_catalogue_exits_2_naming_file_and_field_and_writes_nothing(tmp_path, monkeypatch):
    raw = _shipped_raw()
    del raw["plans"][0]["seat_price"]  # neither priced nor sales-only
    bad = tmp_path / "bad-catalogue.yaml"
    bad.write_text(yaml.safe_dump(raw, sort_keys=False))
    store = tmp_path / "store"
    monkeypatch.setenv("EVALKIT_DATASETS", str(store))
    r = CliRunner().invoke(app, ["dataset", "import", str(ROOT / "examples" / "cases.jsonl"), "--name", "team",
                                 "--version", "v1", "--catalogue", str(bad)])
    text = r.output + (r.stderr if r.stderr_bytes is not None else "")
    assert r.exit_code == 2, text
    assert str(bad) in text and "plans.0" in text and "seat_price" in text and "Traceback" not in text
    assert not store.exists() or not any(store.rglob("*"))


def test_import_checks_plans_against_the_team_catalogue_and_the_version_ships_it(tmp_path, monkeypatch):
    from evalkit.dataset import import_file, load_dataset

    store = tmp_path / "store"
    cases = ROOT / "examples" / "cases.jsonl"
    # A catalogue without the 'business' plan: every case naming it is a row error (file, row, field).
    raw = _shipped_raw()
    raw["plans"] = [p for p in raw["plans"] if p["name"] != "business"]
    raw["terms"]["nonprofit"]["plans"] = ["team"]
    narrow = tmp_path / "narrow.yaml"
    narrow.write_text(yaml.safe_dump(raw, sort_keys=False))
    with pytest.raises(DataError) as err:
        import_file(cases, name="team", version="v1", task="upgrades", store=store, catalogue=narrow)
    problems = "\n".join(err.value.problems)
    assert "cases.jsonl:line " in problems and "plan 'business' is not in the catalogue" in problems
    assert str(narrow) in problems and "field " in problems
    assert not store.exists() or not any(store.rglob("*"))
    # A good one: published with the catalogue, which the dataset then applies (and the suite may override).
    team_file = _team_yaml(tmp_path, raise_by=Decimal("3"))
    folder = import_file(cases, name="team", version="v1", task="upgrades", store=store, catalogue=team_file)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert "catalogue.yaml" in manifest["attachments"]
    ds = load_dataset("team@v1", store=store)
    assert ds.bound_task.catalogue.prices["team"][0] == Decimal("28.00") and len(ds.cases) > 0
    overridden = load_dataset("team@v1", store=store, catalogue=_team_yaml(tmp_path, raise_by=Decimal("5")))
    assert overridden.bound_task.catalogue.prices["team"][0] == Decimal("30.00")


def test_a_suite_catalogue_reaches_the_run_its_copy_and_the_report_drill_down(tmp_path):
    """End to end: a suite naming a raised price list; the rules baseline's prices follow it."""
    import shutil

    import pandas as pd

    from evalkit.pipeline import run_suite
    from evalkit.run import RunRequest, render_case_prompt

    (tmp_path / "prompts").mkdir()
    shutil.copy(TEMPLATE, tmp_path / "prompts" / TEMPLATE.name)
    _team_yaml(tmp_path, raise_by=Decimal("100"))
    suite = tmp_path / "suite.yaml"
    suite.write_text(yaml.safe_dump({
        "name": "price-rise", "task": "upgrades", "dataset": "upgrades@v2", "catalogue": "team-catalogue.yaml",
        "configs": [{"name": "rules", "provider": "rules", "model": "written-policy",
                     "prompt": f"prompts/{TEMPLATE.name}"}]}))
    outcome = run_suite(RunRequest(suite_path=suite, limit=12, reports=tmp_path / "reports",
                                   datasets=ROOT / "datasets", progress=False, fresh=True))
    results = pd.read_parquet(outcome.run_dir / "results.parquet")
    answers = [json.loads(text) for text in results["raw_output"]]

    def list_priced(prices: dict) -> int:  # decisions priced at seats x that catalogue's list price
        return sum(1 for a in answers if a.get("new_recurring_price") and a.get("target_plan") in prices and
                   Decimal(a["new_recurring_price"]) == a["seats"] * prices[a["target_plan"]][
                       0 if a["billing_cycle"] == "monthly" else 1])

    raised = {p: (m + 100, y + 100) for p, (m, y) in shipped_catalogue().prices.items()}
    assert list_priced(raised) >= 2 and list_priced(shipped_catalogue().prices) == 0
    assert (outcome.run_dir / "catalogue.yaml").read_bytes() == (tmp_path / "team-catalogue.yaml").read_bytes()
    case_id = results["case_id"].iloc[0]
    shown = "\n".join(m["content"] for m in render_case_prompt(outcome.run_dir, "rules", case_id))
    assert "Plan team: $125.00 per seat per month" in shown
    from evalkit.run import bless_baseline

    bless_baseline(outcome.run_dir, tmp_path / "baseline")  # a blessed baseline keeps the catalogue it ran under
    assert (tmp_path / "baseline" / "catalogue.yaml").read_bytes() == (tmp_path / "team-catalogue.yaml").read_bytes()


def test_the_terms_inside_the_rules_are_data_too(tmp_path):
    """The sales seat limit (UPG-8) comes from the catalogue's terms: a lower one sends the same
    request to sales in the rules baseline; without terms the rule never applies."""
    case = _list_price_case()
    raw = _shipped_raw()
    raw["terms"]["sales_seat_limit"] = case.request.target_seats - 1
    low = tmp_path / "low-limit.yaml"
    low.write_text(yaml.safe_dump(raw, sort_keys=False))
    team = task.with_catalogue(low.read_bytes(), where=str(low))
    answer = json.loads(team.rules_decide(_render(team, case)))
    assert answer["action"] == "escalate" and answer["escalate_to"] == "sales"
    assert json.loads(task.rules_decide(_render(task, case)))["action"] == "approve"
    del raw["terms"]
    no_terms = task.with_catalogue(yaml.safe_dump(raw), where="no-terms.yaml")
    assert no_terms.catalogue.terms.sales_seat_limit is None
    assert json.loads(no_terms.rules_decide(_render(no_terms, case)))["action"] == "approve"


def test_a_run_whose_suite_names_a_bad_catalogue_exits_2_naming_file_and_field(tmp_path):
    raw = _shipped_raw()
    raw["terms"]["nonprofit"]["plans"] = ["team", "platinum"]
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    (tmp_path / "prompts").mkdir()
    (tmp_path / "prompts" / TEMPLATE.name).write_text(TEMPLATE.read_text())
    suite = tmp_path / "suite.yaml"
    suite.write_text(yaml.safe_dump({
        "name": "bad-catalogue", "dataset": "upgrades@v2", "catalogue": "bad.yaml",
        "configs": [{"name": "rules", "provider": "rules", "model": "written-policy",
                     "prompt": f"prompts/{TEMPLATE.name}"}]}))
    r = CliRunner().invoke(app, ["run", str(suite), "--limit", "5", "--reports", str(tmp_path / "reports"),
                                 "--datasets", str(ROOT / "datasets")])
    text = r.output + (r.stderr if r.stderr_bytes is not None else "")
    assert r.exit_code == 2, text
    assert "bad.yaml" in text and "platinum" in text and "Traceback" not in text
    assert not (tmp_path / "reports").exists() or not any((tmp_path / "reports").iterdir())
