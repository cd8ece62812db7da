"""Prompt variables are documented and discoverable; undefined names point at the template line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from evalkit.cli.main import app
from evalkit.errors import ConfigError
from evalkit.suite import load_template
from evalkit.tasks import get_task
from evalkit.tasks._variables import variables_markdown

ROOT = Path(__file__).resolve().parents[1]


def test_every_variable_a_template_gets_is_listed_with_type_and_example():
    task = get_task("upgrades")
    case = next(iter(task.generate(3, 2)))
    given = task.prompt_context(case, max_history_turns=None, max_history_tokens=None, clauses=None).variables
    listed = {v.name: v for v in task.prompt_variables()}
    assert set(listed) == set(given)
    assert all(v.type and v.description and v.example for v in listed.values())
    r = CliRunner().invoke(app, ["suite", "vars", "upgrades", "--json"])
    assert r.exit_code == 0, r.output
    assert {v["name"] for v in json.loads(r.output)} == set(given)


def test_docs_table_is_generated_from_the_task():
    doc = (ROOT / "docs" / "prompts.md").read_text()
    block = doc.split("<!-- prompt-variables:start -->\n", 1)[1].split("<!-- prompt-variables:end -->", 1)[0]
    assert block == variables_markdown("upgrades", get_task("upgrades").prompt_variables()), \
        "regenerate docs/prompts.md's table with evalkit.tasks._variables.variables_markdown"


@pytest.mark.parametrize("body, line, hint", [
    ("Facts:\n{{ facts }}\nTeam: {{ team_name }}\n", 3, None),
    ("{{ factz }}\n", 1, "did you mean 'facts'"),
    ("{% for c in policy %}{{ c.text }}\n{% endfor %}\n\n{{ mesage }}", 4, "did you mean 'message'"),
])
def test_undefined_variable_names_template_line_and_close_matches(tmp_path, body, line, hint):
    path = tmp_path / "p.j2"
    path.write_text(body)
    task = get_task("upgrades")
    case = next(iter(task.generate(2, 5)))
    variables = task.prompt_context(case, max_history_turns=None, max_history_tokens=None, clauses=None).variables
    with pytest.raises(ConfigError) as err:
        load_template(path).render(variables)
    text = str(err.value)
    assert f"p.j2:{line}:" in text and "is undefined" in text and "facts, facts_json" in text and "guidance" in text
    if hint:
        assert hint in text
    else:
        assert "did you mean" not in text
