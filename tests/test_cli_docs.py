"""docs/cli.md is generated from the CLI; it must not drift from the code."""

from pathlib import Path

from evalkit.cli._docs import cli_markdown


def test_cli_reference_is_current():
    doc = Path(__file__).resolve().parents[1] / "docs" / "cli.md"
    assert doc.read_text() == cli_markdown(), "regenerate: python -c 'from evalkit.cli._docs import cli_markdown; ...'"


def test_suite_json_schema_is_current():
    import json

    from evalkit.suite import suite_json_schema

    doc = Path(__file__).resolve().parents[1] / "docs" / "suite.schema.json"
    assert json.loads(doc.read_text()) == suite_json_schema(), "regenerate: evalkit suite schema -o docs/suite.schema.json"
