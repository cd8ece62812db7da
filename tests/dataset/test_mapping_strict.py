"""Strict mapped imports: templates substitute plain column names (no str.format semantics, checked when the
mapping is loaded), money refuses malformed amounts and foreign currencies, seat counts are bounded, an
invalid JSON line is reported at its own line and column, and a JSON row missing a key takes the rule's default.
Every problem is exit 2 naming file, row (or mapping line) and field; nothing is written."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from mappinghelpers import ACME, acme_export, import_mapped, line_of

from evalkit.dataset import read_cases
from evalkit.dataset._mapping import ImportMapping, load_mapping
from evalkit.dataset._mapping_rows import map_row
from evalkit.dataset._mapping_values import RowError, parse_money
from evalkit.errors import ConfigError, DataError


def _acme(tmp_path: Path, *, replace: tuple[str, str] | None = None, **cells: str) -> tuple[Path, Path]:
    """The first 3 Acme rows (cells of the first replaced) and the Acme mapping (one line replaced)."""
    export = acme_export(tmp_path, **cells)
    text = (ACME / "mapping.yaml").read_text(encoding="utf-8")
    if replace is not None:
        assert replace[0] in text
        text = text.replace(replace[0], replace[1])
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(text, encoding="utf-8")
    (tmp_path / "catalogue.yaml").write_bytes((ACME / "catalogue.yaml").read_bytes())
    return export, mapping


# 1. templates


def test_a_template_reaches_dotted_nested_columns_and_columns_with_spaces(tmp_path):
    export, mapping = _acme(tmp_path, replace=("  account.company: Customer.name\n",
                                               '  account.company: {template: "{Customer.name} / {Ticket #} {{x}}"}\n'))
    cases = read_cases(export, "upgrades", mapping=load_mapping(mapping))
    assert cases[0].account.company.endswith(f" / {cases[0].case_id} {{x}}")
    assert not cases[0].account.company.startswith(" /")


@pytest.mark.parametrize("target, template, why", [
    ("account.company", "{Seats:d}", "no ':'"),
    ("account.company", "{Seats:>999999999}", "no ':'"),  # used to pad to a billion characters (hang)
    ("account.company", "{Queue!r}", "no '!'"),
    ("case_id", "{Queue!r:>{Seats}}", "unbalanced '{'"),
    ("case_id", "{}", "empty '{}'"),
    ("case_id", "Ticket }", "unbalanced '}'"),
])
def test_a_template_with_format_semantics_is_refused_when_the_mapping_is_loaded(tmp_path, monkeypatch, target,
                                                                                 template, why):
    old = "  account.company: Customer.name\n" if target == "account.company" else '  case_id: "Ticket #"\n'
    export, mapping = _acme(tmp_path, replace=(old, f"  {target}: {{template: {json.dumps(template)}}}\n"))
    r, text, store = import_mapped(tmp_path, monkeypatch, export, mapping)
    assert r.exit_code == 2, text
    assert f"{mapping}:{line_of(mapping, 'template:')}: fields.{target}: " in text
    assert why in text and "Traceback" not in text and "internal error" not in text
    assert not store.exists() or not any(store.rglob("*"))
    with pytest.raises(ConfigError):
        load_mapping(mapping)


def test_a_template_value_is_not_formatted_by_python():
    mapping = ImportMapping.model_validate({"fields": {"case_id": {"template": "{a}-{b.c}"}}})
    out, problems = map_row({"a": "{0.__class__}", "b": {"c": 7}}, mapping, "x.jsonl:line 1")
    assert problems == [] and out == {"case_id": "{0.__class__}-7"}


# 2. seat counts


@pytest.mark.parametrize("cells, field", [
    ({"Seats": str(10**30)}, "account.seats"),
    ({"Seats": str(2**63)}, "account.seats"),
    ({"Wants seats": "1000001"}, "request.target_seats"),
    ({"Resolved seats": str(2**63)}, "reviewed.seats"),
])
def test_an_unrealistic_seat_count_is_refused_naming_row_and_field(tmp_path, monkeypatch, cells, field):
    export, mapping = _acme(tmp_path, **cells)
    r, text, store = import_mapped(tmp_path, monkeypatch, export, mapping)
    assert r.exit_code == 2, text
    assert f"{export}:data row 1 (line 2): field {field}: " in text and "1,000,000" in text
    assert "Traceback" not in text and not (store.exists() and any(store.rglob("*")))
    column = next(iter(cells))
    export, mapping = _acme(tmp_path, **{column: "1,000,000"})  # the bound itself is still a case
    assert read_cases(export, "upgrades", mapping=load_mapping(mapping))[0] is not None


# 3. money


@pytest.mark.parametrize("text, why", [
    ("(12.00", "unbalanced parenthesis"), ("12.00)", "unbalanced parenthesis"),
    ("--5", "more than one sign"), ("(-5)", "more than one sign"), ("-$-5", "more than one sign"),
    ("12 34", "digits separated by spaces"), ("1 2 3", "digits separated by spaces"),
    ("EUR 1,200.50", "marked 'EUR'"), ("¥1200", "marked '¥'"), ("€ 99.5", "marked '€'"), ("99 GBP", "marked 'GBP'"),
    ("$5 USD", "more than one currency mark"),
])
def test_malformed_money_and_foreign_currencies_are_refused(text, why):
    with pytest.raises(RowError, match=why):
        parse_money(text)


def test_the_mapping_currency_is_the_one_accepted():
    assert parse_money("EUR 1.200,50", decimal_comma=True, currency="EUR") == Decimal("1200.50")
    assert parse_money("1 200,50 €", decimal_comma=True, currency="EUR") == Decimal("1200.50")
    assert parse_money("£3", currency="GBP") == Decimal(3)
    with pytest.raises(RowError, match=r"marked '\$'"):
        parse_money("$3", currency="EUR")
    assert ImportMapping.model_validate({"fields": {"x": "x"}}).currency == "USD"


def test_a_foreign_currency_in_a_mapped_export_names_row_column_and_field(tmp_path, monkeypatch):
    export, mapping = _acme(tmp_path, **{"Current price": "EUR 1,200.50"})
    r, text, store = import_mapped(tmp_path, monkeypatch, export, mapping)
    assert r.exit_code == 2, text
    assert (f"{export}:data row 1 (line 2): column 'Current price' -> field account.recurring_price: "
            "cannot read 'EUR 1,200.50' as an amount of money: the amount is marked 'EUR'") in text
    assert not store.exists() or not any(store.rglob("*"))


# 4. an invalid JSON line


def test_a_truncated_json_line_is_reported_at_its_own_line_and_column(tmp_path, toy, store):
    good = [json.loads(c.model_dump_json()) for c in toy.generate(2, 5)]
    path = tmp_path / "cases.jsonl"
    cut = '{"case_id": "b", "x": 1'
    path.write_text(json.dumps(good[0]) + "\n" + cut + "\n" + json.dumps(good[1]) + "\n")
    with pytest.raises(DataError) as err:
        read_cases(path, toy)
    problems = "\n".join(err.value.problems)
    assert f"{path}:line 2: invalid JSON: Expecting ',' delimiter (column {len(cut) + 1})" in problems, problems


# 5. a missing JSON key takes the rule's default


def test_a_json_row_missing_a_key_takes_the_rules_default_and_without_one_is_an_error():
    mapping = ImportMapping.model_validate({"fields": {
        "case_id": "id", "variant": {"column": "Tag", "default": "imported"},
        "account.company": {"template": "{org} ({Tag})", "default": "unknown"},
        "account.flags.failed_payment": {"column": "failed", "type": "bool", "default": False}}})
    out, problems = map_row({"id": "c1", "org": "Acme"}, mapping, "x.jsonl:line 1")
    assert problems == []
    assert out == {"case_id": "c1", "variant": "imported", "account": {"company": "Acme ()",
                                                                       "flags": {"failed_payment": False}}}
    _, problems = map_row({"Tag": "t"}, mapping, "x.jsonl:line 2")
    assert problems == ["x.jsonl:line 2: column 'id' -> field case_id: no column 'id' in this row"]
