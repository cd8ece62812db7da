"""Money and counts in imported upgrades cases: prices and amounts are never negative (an accounting-style
'(12.00)' is a negative amount, refused naming the row and field), and true/false is not a number of seats."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from mappinghelpers import acme_export
from typer.testing import CliRunner

from evalkit.cli.main import app
from evalkit.dataset import read_cases
from evalkit.dataset._mapping import load_mapping
from evalkit.dataset._mapping_values import RowError, parse_money
from evalkit.errors import DataError

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT / "examples" / "cases.jsonl"
ACME = ROOT / "examples" / "acme"


def _text(result) -> str:
    return result.output + (result.stderr if result.stderr_bytes is not None else "")


def _native(tmp_path: Path, edits) -> Path:  # type: ignore[no-untyped-def]
    rows = [json.loads(line) for line in CASES.read_text().splitlines() if line.strip()][:len(edits) + 1]
    for row, edit in zip(rows, edits):
        edit(row)
    path = tmp_path / "cases.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _set(*keys: str, value):  # type: ignore[no-untyped-def]
    def edit(row: dict) -> None:
        node = row
        for key in keys[:-1]:
            node = node[key]
        node[keys[-1]] = value
    return edit


def test_native_import_refuses_negative_money_and_true_as_seats_naming_row_and_field(tmp_path, monkeypatch):
    path = _native(tmp_path, [_set("account", "seats", value=True),
                              _set("account", "recurring_price", value="-5.00"),
                              _set("request", "target_seats", value=False),
                              _set("reviewed", "new_recurring_price", value="-1.00")])
    store = tmp_path / "store"
    monkeypatch.setenv("EVALKIT_DATASETS", str(store))
    r = CliRunner().invoke(app, ["dataset", "import", str(path), "--name", "team", "--version", "v1"])
    text = _text(r)
    assert r.exit_code == 2, text
    assert "4 of 5 rows are invalid; nothing was imported" in text
    assert f"{path}:line 1: field account.seats: " in text and "not true/false" in text
    assert f"{path}:line 2: field account.recurring_price: " in text and "must not be negative" in text
    assert f"{path}:line 3: field request.target_seats: " in text
    assert f"{path}:line 4: field reviewed.new_recurring_price: " in text
    assert not store.exists() or not any(store.rglob("*"))


@pytest.mark.parametrize("field", [("account", "contract"), ("account", "promotion"), ("history_facts",)])
def test_every_case_price_and_count_is_checked(tmp_path, field):
    row = json.loads(CASES.read_text().splitlines()[0])
    facts = {("account", "contract"): {"contract_id": "C-1", "plan": "team", "negotiated_seat_price": "-3.00",
                                        "min_seats": True},
             ("account", "promotion"): {"code": "P", "percent_off": True, "eligible_plans": ["team"],
                                         "starts": "2026-01-01", "ends": "2026-12-31"},
             ("history_facts",): {"price_lock_price": "-20.00", "deciding_turn": True}}[field]
    _set(*field, value=facts)(row)
    path = tmp_path / "one.jsonl"
    path.write_text(json.dumps(row) + "\n")
    with pytest.raises(DataError) as err:
        read_cases(path, "upgrades")
    problems = "\n".join(err.value.problems)
    assert len(err.value.problems) == (1 if field == ("account", "promotion") else 2), problems
    assert f"{path}:line 1: field {'.'.join(field)}." in problems


def test_an_accounting_negative_price_in_a_mapped_export_is_refused_naming_row_and_field(tmp_path, monkeypatch):
    path = acme_export(tmp_path, **{"Current price": "(12.00)"})
    store = tmp_path / "store"
    monkeypatch.setenv("EVALKIT_DATASETS", str(store))
    r = CliRunner().invoke(app, ["dataset", "import", str(path), "--mapping", str(ACME / "mapping.yaml"),
                                 "--name", "acme", "--version", "v1"])
    text = _text(r)
    assert r.exit_code == 2, text
    assert f"{path}:data row 1 (line 2): field account.recurring_price: " in text
    assert "must not be negative" in text and "(12.00)" in text and "Traceback" not in text
    assert not store.exists() or not any(store.rglob("*"))


def test_a_json_true_is_not_an_amount_or_a_number_in_a_mapping(tmp_path):
    with pytest.raises(RowError, match="true/false"):
        parse_money(True)
    export = tmp_path / "export.jsonl"
    export.write_text(json.dumps({"id": "c1", "price": True, "seats": True}) + "\n")
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("format_version: 1\ntask: upgrades\nfields:\n  case_id: id\n"
                       "  account.recurring_price: {column: price, type: money}\n"
                       "  account.seats: {column: seats, type: int}\n")
    with pytest.raises(DataError) as err:
        read_cases(export, "upgrades", mapping=load_mapping(mapping))
    problems = "\n".join(err.value.problems)
    assert "column 'price' -> field account.recurring_price: cannot read True (true/false)" in problems
    assert "column 'seats' -> field account.seats: cannot read True (true/false) as a whole number" in problems
