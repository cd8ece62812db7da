"""Importing a team's own export through a column mapping (examples/acme)."""

from __future__ import annotations

import csv
import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from evalkit.cli.main import app
from evalkit.dataset import load_dataset, read_cases
from evalkit.dataset._mapping import ImportMapping, load_mapping, mapping_json_schema
from evalkit.dataset._mapping_values import parse_money
from evalkit.errors import ConfigError, DataError

ROOT = Path(__file__).resolve().parents[2]
EXPORT = ROOT / "examples" / "acme" / "ticket-export.csv"
MAPPING = ROOT / "examples" / "acme" / "mapping.yaml"
COMPARED = ("segment", "variant", "account", "request", "history", "reviewed", "historical_reply", "human_good")


def _rows(path: Path) -> list[dict[str, str]]:
    csv.field_size_limit(64 * 2**20)
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _write(path: Path, rows: list[dict[str, str]]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def _text(result) -> str:
    return result.output + (result.stderr if result.stderr_bytes is not None else "")


def test_shipped_export_maps_back_to_the_cases_it_was_made_from():
    cases = read_cases(EXPORT, "upgrades", mapping=load_mapping(MAPPING))
    assert len(cases) == 200
    originals = {c.case_id: c for c in load_dataset("upgrades@v1", store=ROOT / "datasets").cases}
    for case in cases:
        original = originals[case.case_id]
        for name in COMPARED:
            assert getattr(case, name) == getattr(original, name), (case.case_id, name)
    # The export's quirks really are there (else the round trip proves little).
    rows = _rows(EXPORT)
    prices = [r["Current price"] for r in rows]
    assert any(p.startswith("$") and "," in p for p in prices) and any(p.startswith("USD") for p in prices)
    assert {len(r["Term start"].split("/")) for r in rows} == {1, 3}
    assert len({r["Queue"] for r in rows}) > 8  # free-text labels, several per segment


def test_cli_imports_in_one_command_and_the_demo_suite_runs_on_it(tmp_path, monkeypatch):
    store = tmp_path / "store"
    monkeypatch.setenv("EVALKIT_DATASETS", str(store))
    r = CliRunner().invoke(app, ["dataset", "import", str(EXPORT), "--mapping", str(MAPPING),
                                 "--name", "acme", "--version", "v1"])
    assert r.exit_code == 0, _text(r)
    assert "published acme@v1: 200 cases" in r.output
    manifest = json.loads((store / "acme" / "v1" / "manifest.json").read_text())
    assert "mapping.yaml" in manifest["description"]
    assert "catalogue.yaml" in manifest["attachments"]  # the mapping names Acme's catalogue: the version ships it

    from evalkit.pipeline import RunRequest, run_suite

    outcome = run_suite(RunRequest(suite_path=ROOT / "suites" / "upgrades-demo.yaml", configs=("rules", "large-v1"),
                                   overrides={"dataset": "acme@v1"}, reports=tmp_path / "reports",
                                   datasets=store, progress=False, fresh=True))
    assert outcome.manifest["dataset"]["name"] == "acme"
    assert set(outcome.scores["config"]) == {"rules", "large-v1"}
    assert len(outcome.scores) == 400


PLANTED = [  # (data row, column, bad value, field the message must name)
    (4, "Current price", "$1,2O0.00", "account.recurring_price"),
    (18, "Received", "31/31/2025", "request.received"),
    (43, "Queue", "Refund request", "segment"),
    (89, "Seats", "twelve", "account.seats"),
    (151, "Thread", '[{"ts": "01/02/2025 10:00", "from": "Customer"', "history"),
]


def test_planted_bad_rows_exit_2_naming_each_row_and_field_and_write_nothing(tmp_path, monkeypatch):
    rows = _rows(EXPORT)
    for number, column, value, _ in PLANTED:
        rows[number - 1][column] = value
    bad = _write(tmp_path / "export-bad.csv", rows)
    store = tmp_path / "store"
    monkeypatch.setenv("EVALKIT_DATASETS", str(store))
    r = CliRunner().invoke(app, ["dataset", "import", str(bad), "--mapping", str(MAPPING),
                                 "--name", "acme", "--version", "v1"])
    text = _text(r)
    assert r.exit_code == 2, text
    assert "5 of 200 rows are invalid" in text
    for number, column, _, field in PLANTED:
        line = next((ln for ln in text.splitlines() if f"data row {number} " in ln), "")
        assert f"column {column!r}" in line and f"field {field}" in line, (number, text)
    assert "Traceback" not in text
    assert not store.exists() or not any(store.rglob("*"))


def test_a_value_that_maps_but_breaks_the_case_model_names_row_and_field(tmp_path):
    rows = _rows(EXPORT)
    rows[9]["Seats"] = "0"  # parses as a number; the case model needs >= 1
    with pytest.raises(DataError) as err:
        read_cases(_write(tmp_path / "e.csv", rows), "upgrades", mapping=load_mapping(MAPPING))
    assert any("data row 10 " in p and "account.seats" in p for p in err.value.problems), err.value.problems


def test_a_column_missing_from_the_header_is_reported_before_any_row(tmp_path):
    rows = [{k: v for k, v in r.items() if k != "Renews"} for r in _rows(EXPORT)[:3]]
    with pytest.raises(DataError) as err:
        read_cases(_write(tmp_path / "e.csv", rows), "upgrades", mapping=load_mapping(MAPPING))
    assert any("account.period_end" in p and "'Renews'" in p for p in err.value.problems)


def test_mapping_file_problems_name_the_file_and_key(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text("task: upgrades\nfields:\n  case_id: {colum: id}\n")
    with pytest.raises(ConfigError) as err:
        load_mapping(path)
    assert "m.yaml" in str(err.value) and "fields.case_id" in str(err.value)
    path.write_text("fields: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_mapping(path)


def test_a_target_mapped_twice_is_refused_naming_the_key_and_its_line(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text("task: upgrades\nfields:\n  case_id: Acct\n  segment: Queue\n  case_id: Ticket\n")
    with pytest.raises(ConfigError) as err:
        load_mapping(path)
    assert str(err.value).startswith(f"{path}:5:3: duplicate key 'case_id' (first given on line 3)")


def _edited_mapping(tmp_path: Path, old: str, new: str) -> Path:
    text = MAPPING.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "mapping.yaml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


def _line_of(path: Path, needle: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def test_a_mistyped_target_is_one_problem_blamed_on_the_mapping_line(tmp_path):
    mapping = _edited_mapping(tmp_path, "  account.seats:", "  account.seets:")
    text = mapping.read_text().replace("      author: {column: from", "      autor: {column: from").replace(
        "custom_contract: {rubric.escalate_to:", "custom_contract: {rubric.escalate:")
    mapping.write_text(text)
    with pytest.raises(DataError) as err:
        read_cases(EXPORT, "upgrades", mapping=load_mapping(mapping))
    assert str(err.value).startswith(f"{mapping}: the mapping names fields the upgrades case model does not have")
    assert err.value.problems == [
        (f"{mapping}:{_line_of(mapping, 'account.seets')}: fields.account.seets: the case model has no field "
        "'seets' under 'account' (did you mean 'account.seats'?)"),
        (f"{mapping}:{_line_of(mapping, 'autor:')}: fields.history.items.autor: the case model has no field "
        "'autor' at the top level (did you mean 'author'?) (in each item)"),
        (f"{mapping}:{_line_of(mapping, 'custom_contract:')}: segment_defaults.custom_contract.rubric.escalate: "
        "the case model has no field 'escalate' under 'rubric' (did you mean 'rubric.escalate_to'?)")]


def test_a_missing_column_is_blamed_on_the_mapping_line_and_the_header_listed_once(tmp_path):
    mapping = _edited_mapping(tmp_path, "{column: Seats, type: int}", "{column: Seets, type: int}")
    with pytest.raises(DataError) as err:
        read_cases(EXPORT, "upgrades", mapping=load_mapping(mapping))
    assert "(its columns: " in str(err.value) and "Seats" in str(err.value)
    assert err.value.problems == [(f"{mapping}:{_line_of(mapping, 'Seets')}: fields.account.seats: no column "
                                  f"'Seets' in the header of {EXPORT.name} (did you mean 'Seats'?)")]


def test_an_empty_export_is_one_problem(tmp_path):
    empty = tmp_path / "export.csv"
    empty.write_text("")
    with pytest.raises(DataError) as err:
        read_cases(empty, "upgrades", mapping=load_mapping(MAPPING))
    assert str(err.value) == f"{empty}: empty file: no header row and no cases; nothing was imported"
    assert err.value.problems == []


@pytest.mark.parametrize("text, expected", [
    ("$1,200.00", "1200.00"), ("1200", "1200"), ("USD 1,200.50", "1200.50"), ("(12.00)", "-12.00"),
    ("99.5 USD", "99.5"), ("-3.10", "-3.10"), ("1 200.00", "1200.00"), (" $0.99 ", "0.99"), ("-$3.10", "-3.10"),
    ("US$12", "12"), ("1\u00a0200.00", "1200.00"),
])
def test_money_as_text(text, expected):
    assert parse_money(text) == Decimal(expected)


def test_money_with_decimal_comma_and_rejections():
    assert parse_money("1.200,50 €", decimal_comma=True, currency="EUR") == Decimal("1200.50")
    for text in ("$1,2O0.00", "12,00,0", "1.2.3", "abc", "$"):
        with pytest.raises(ValueError):
            parse_money(text)


def test_jsonl_export_with_nested_objects_labels_and_templates(tmp_path):
    """A second shape: JSONL with nested objects, a template field and day-first dates."""
    from evalkit.dataset._mapping_rows import map_row

    mapping = ImportMapping.model_validate({
        "date_formats": ["%d/%m/%Y"],
        "fields": {
            "case_id": {"template": "T-{id}"},
            "account.company": "org.name",
            "account.period_start": {"column": "org.term.start", "type": "date"},
            "segment": {"column": "cat", "labels": {"Legacy Pricing": "legacy_pricing"}, "unmapped": "keep"},
            "request.target_seats": {"column": "seats", "type": "int"},
            "account.flags.failed_payment": {"column": "flags.failed", "type": "bool", "default": False},
        },
        "segment_defaults": {"legacy_pricing": {"rubric.escalate_to": "billing"}},
    })
    row = {"id": 7, "org": {"name": "Acme", "term": {"start": "03/02/2025"}}, "cat": "legacy-pricing",
           "seats": "1,200", "flags": {}}
    out, problems = map_row(row, mapping, "x.jsonl:line 1")
    assert problems == []
    assert out == {"case_id": "T-7", "account": {"company": "Acme", "period_start": "2025-02-03",
                                                   "flags": {"failed_payment": False}},
                   "segment": "legacy_pricing", "request": {"target_seats": 1200},
                   "rubric": {"escalate_to": "billing"}}
    out, _ = map_row({**row, "cat": "Brand-new queue"}, mapping, "x")
    assert out["segment"] == "Brand-new queue"  # free labels are kept when asked
    _, problems = map_row({**row, "org": {"name": "A", "term": {"start": "2025-13-45"}}}, mapping, "x.jsonl:line 2")
    assert problems and "x.jsonl:line 2: column 'org.term.start' -> field account.period_start" in problems[0]


def test_datetimes_and_items_of_a_thread():
    from evalkit.dataset._mapping import FieldRule
    from evalkit.dataset._mapping_values import apply_rule

    mapping = ImportMapping.model_validate({"fields": {"x": "x"}})
    rule = FieldRule(column="thread", items={"at": {"column": "ts", "type": "datetime"}, "text": "body"})
    thread = json.dumps([{"ts": "2025-01-02T10:00:00Z", "body": "hi"}, {"ts": "01/03/2025 09:30", "body": "yo"}])
    assert apply_rule({"thread": thread}, "history", rule, mapping) == [
        {"at": datetime(2025, 1, 2, 10, 0), "text": "hi"}, {"at": datetime(2025, 1, 3, 9, 30), "text": "yo"}]
    assert apply_rule({"thread": ""}, "history", rule, mapping) is None
    with pytest.raises(ValueError, match="element 1"):
        apply_rule({"thread": json.dumps([{"ts": "2025-01-02", "body": "a"}, {"ts": "soon", "body": "b"}])},
                   "history", rule, mapping)
    assert date(2025, 1, 2) == apply_rule({"d": "Jan 02, 2025"}, "d", FieldRule(column="d", type="date"), mapping)


def test_imported_segments_are_free_labels(tmp_path):
    rows = _rows(EXPORT)[:5]
    raw = MAPPING.read_text(encoding="utf-8").replace("    labels:\n      Upgrade - standard: routine",
                                                        "    unmapped: keep\n    labels:\n      Upgrade - standard: routine")
    mapping_path = tmp_path / "mapping.yaml"
    mapping_path.write_text(raw, encoding="utf-8")
    rows[0]["Queue"] = "Enterprise renewals (EMEA)"
    cases = read_cases(_write(tmp_path / "e.csv", rows), "upgrades", mapping=load_mapping(mapping_path))
    assert cases[0].segment == "Enterprise renewals (EMEA)"


def test_mapping_json_schema_is_committed_and_current():
    committed = json.loads((ROOT / "docs" / "import-mapping.schema.json").read_text())
    assert committed == mapping_json_schema(), "regenerate with: evalkit dataset mapping-schema -o docs/import-mapping.schema.json"


def test_docs_table_of_mapping_keys_is_generated_from_the_models():
    from evalkit.dataset._mapping import mapping_rules_markdown

    doc = (ROOT / "docs" / "datasets.md").read_text()
    block = doc.split("<!-- mapping-rules:start -->\n", 1)[1].split("<!-- mapping-rules:end -->", 1)[0]
    assert block == mapping_rules_markdown(), "regenerate the table in docs/datasets.md from mapping_rules_markdown()"
