"""A team's cohort clause in its own words reaches the simulated model: the cohort discount is read from
"the early-2019 cohort keeps 20% off" as it is from the shipped "legacy" wording, and a clause the simulated
reader cannot understand is said once (a warning), not silently scored 0% good."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from simhelpers import sim_good_rate

from evalkit.suite import load_template
from evalkit.tasks.upgrades import task
from evalkit.tasks.upgrades._clauses import read_policy

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "src" / "evalkit" / "tasks" / "upgrades" / "catalogue.yaml"
TEMPLATE = ROOT / "suites" / "prompts" / "upgrade-v1.j2"
RENAMED = {"legacy-2019": "early-2019", "legacy-2021": "early-2021"}
TEAM_CLAUSE = ("The early-2019 cohort keeps 20% off list and the early-2021 cohort keeps 10% off list on any "
               "self-serve upgrade. Cohort and promotional discounts never stack: apply the larger one.")


def _team(clause_text: str):
    """The shipped catalogue with the cohorts renamed (same rates) and UPG-5 in the team's words."""
    raw = yaml.safe_load(SHIPPED.read_text())
    raw["cohorts"] = {RENAMED[k]: v for k, v in raw["cohorts"].items()}
    for clause in raw["clauses"]:
        if clause["id"] == "UPG-5":
            clause["title"], clause["text"] = "Early cohorts", clause_text
    return task.with_catalogue(yaml.safe_dump(raw, sort_keys=False), where="team-catalogue.yaml")


@pytest.fixture(scope="module")
def legacy_cases():
    return [c for c in task.generate(900, 5) if c.segment == "legacy_pricing"]


def _good_rate(bound, cases) -> float:
    return sim_good_rate(bound, load_template(TEMPLATE), cases)


def test_the_team_cohort_clause_is_read_with_its_rates():
    team = _team(TEAM_CLAUSE)
    reading = read_policy(f"Policy:\n{team.catalogue.clause('UPG-5').render()}", catalogue=team.catalogue)
    statements = reading.by_clause["UPG-5"]
    rates = next(dict(s.params).get("cohort_discount") for s in statements)
    assert rates == (("early-2019", 20), ("early-2021", 10))
    assert not any(s.negated for s in statements)
    for text in ("Grandfathered accounts keep their discount on upgrades.",
                 "Accounts in the Early 2019 group pay 20 percent below list."):
        assert "UPG-5" in read_policy(text, catalogue=team.catalogue).by_clause, text


def test_a_renamed_cohort_scores_as_well_as_the_shipped_legacy_one(legacy_cases):
    assert len(legacy_cases) >= 30
    shipped = _good_rate(task, legacy_cases)
    renamed = [c.model_copy(update={"account": c.account.model_copy(
        update={"pricing_cohort": RENAMED.get(c.account.pricing_cohort, c.account.pricing_cohort)})})
        for c in legacy_cases]
    team = _good_rate(_team(TEAM_CLAUSE), renamed)
    assert shipped > 0.5
    assert abs(team - shipped) < 0.1, (team, shipped)  # the old reader: UPG-5 never known, about 0% good


def test_a_cohort_clause_the_simulated_model_cannot_read_is_warned_about_once(legacy_cases, capsys):
    unreadable = _team("Accounts that signed up before 2022 pay what they always paid.")
    case = legacy_cases[0].model_copy(update={"account": legacy_cases[0].account.model_copy(
        update={"pricing_cohort": "early-2019"})})
    text = "\n\n".join(m["content"] for m in load_template(TEMPLATE).render(
        unreadable.prompt_context(case).variables))
    unreadable.simulate(text, profile="large", seed=0)
    err = capsys.readouterr().err
    assert re.fullmatch(r"warning: team-catalogue.yaml: clause UPG-5 .*early-2019.*\n", err, re.DOTALL), err
    assert "simulate(" not in err and "UserWarning" not in err  # a log line, not a Python warning quoting source
    unreadable.simulate(text, profile="large", seed=0)  # once per catalogue
    _team(TEAM_CLAUSE).simulate(text, profile="large", seed=0)  # a clause it reads: no warning
    assert capsys.readouterr().err == ""
