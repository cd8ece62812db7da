"""Mapped imports refuse what they would otherwise read wrongly: a header column given twice, a rule
target that is also another's parent, numbers written loosely, YAML keys YAML reads as booleans, rules
with two sources, bad date formats, short or unterminated CSV rows. Exit 2, naming file, line or row,
and field; nothing is written."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from mappinghelpers import ACME, import_mapped, line_of

from evalkit.dataset import read_cases
from evalkit.errors import ConfigError, DataError


def _acme_rows(n: int = 3) -> tuple[list[str], list[list[str]]]:
    csv.field_size_limit(64 * 2**20)
    with open(ACME / "ticket-export.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1:n + 1]


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _mapping(tmp_path: Path, *replace: tuple[str, str]) -> Path:
    """The Acme mapping (and its catalogue) in tmp_path, with text replaced."""
    text = (ACME / "mapping.yaml").read_text(encoding="utf-8")
    for old, new in replace:
        assert old in text, old
        text = text.replace(old, new)
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(text, encoding="utf-8")
    (tmp_path / "catalogue.yaml").write_bytes((ACME / "catalogue.yaml").read_bytes())
    return mapping


# 1. a header column given twice


def test_a_mapped_column_given_twice_in_the_header_is_refused_naming_both(tmp_path, monkeypatch):
    header, rows = _acme_rows()
    export = _write_csv(tmp_path / "export.csv", [*header, "Seats"], [[*r, "900"] for r in rows])
    mapping = _mapping(tmp_path)
    r, text, store = import_mapped(tmp_path, monkeypatch, export, mapping)
    assert r.exit_code == 2, text
    seats = header.index("Seats") + 1
    assert (f"{export}:line 1: column 'Seats' is given twice in the header (columns {seats} and "
            f"{len(header) + 1}); {mapping}:{line_of(mapping, 'account.seats:')}: fields.account.seats reads it"
            ) in text
    assert "Traceback" not in text and not store.exists()


def test_a_repeated_column_nothing_reads_is_left_alone(tmp_path):
    from evalkit.dataset._mapping import load_mapping

    header, rows = _acme_rows()
    export = _write_csv(tmp_path / "export.csv", [*header, "Unused", "Unused"], [[*r, "a", "b"] for r in rows])
    assert len(read_cases(export, "upgrades", mapping=load_mapping(_mapping(tmp_path)))) == 3


def test_a_json_line_with_a_key_given_twice_is_refused(tmp_path):
    from evalkit.dataset._mapping import ImportMapping

    export = tmp_path / "e.jsonl"
    export.write_text('{"id": "a", "seats": 3, "seats": 900}\n')
    mapping = ImportMapping.model_validate({"fields": {"case_id": "id", "account.seats": {"column": "seats"}}})
    with pytest.raises(DataError) as err:
        read_cases(export, "upgrades", mapping=mapping)
    assert f"{export}:line 1: key 'seats' is given twice in one JSON object" in err.value.problems


# 2. a target and its parent both mapped


def test_a_field_and_its_parent_both_mapped_are_refused_when_the_mapping_is_loaded(tmp_path, monkeypatch):
    header, rows = _acme_rows()
    export = _write_csv(tmp_path / "export.csv", header, rows)
    mapping = _mapping(tmp_path, ("  request.received:", "  request: {column: Received}\n  request.received:"))
    r, text, store = import_mapped(tmp_path, monkeypatch, export, mapping)
    assert r.exit_code == 2, text
    parent, child = line_of(mapping, "  request: {"), line_of(mapping, "request.received:")
    assert (f"{mapping}:{child}: fields.request.received: conflicts with 'request' ({mapping}:{parent}: "
            "fields.request)") in text
    assert "internal error" not in text and not store.exists()


@pytest.mark.parametrize("fields, segment_defaults, where", [
    ({"case_id": "id", "history": {"column": "t", "items": {"at": "ts", "at.x": "y"}}}, {},
     "mapping fields.history.items.at.x: conflicts with 'at'"),
    ({"case_id": "id", "rubric": {"column": "r", "type": "json"}}, {"*": {"rubric.escalate_to": "billing"}},
     "mapping segment_defaults.*.rubric.escalate_to: conflicts with 'rubric'"),
    ({"case_id": "id"}, {"*": {"rubric": {}, "rubric.escalate_to": "billing"}},
     "mapping segment_defaults.*.rubric.escalate_to: conflicts with 'rubric'"),
])
def test_nested_targets_in_items_and_segment_defaults_are_refused_too(tmp_path, fields, segment_defaults, where):
    from evalkit.dataset._mapping import ImportMapping

    export = tmp_path / "e.jsonl"
    export.write_text('{"id": "a"}\n')
    mapping = ImportMapping.model_validate({"fields": fields, "segment_defaults": segment_defaults})
    with pytest.raises(ConfigError, match="invalid mapping") as err:
        read_cases(export, "upgrades", mapping=mapping)
    assert where in str(err.value)


# 3. numbers written loosely


@pytest.mark.parametrize("cell, why", [
    ("1,0", "',' separates thousands only"), ("3,00", "',' separates thousands only"),
    ("1,0,0", "',' separates thousands only"), ("1_000", ""), ("１２", "digits must be 0-9 (found '１')"),
    ("٣٠", "digits must be 0-9 (found '٣')"), ("nan", ""),
])
def test_a_count_with_misplaced_commas_underscores_or_other_digits_is_a_row_error(tmp_path, monkeypatch, cell,
                                                                                    why):
    header, rows = _acme_rows()
    rows[0][header.index("Seats")] = cell
    export = _write_csv(tmp_path / "export.csv", header, rows)
    r, text, store = import_mapped(tmp_path, monkeypatch, export, _mapping(tmp_path))
    assert r.exit_code == 2, text
    assert f"{export}:data row 1 (line 2): column 'Seats' -> field account.seats: cannot read {cell!r} as a whole " \
           f"number{': ' + why if why else ''}" in text
    assert not store.exists()


@pytest.mark.parametrize("text, kind, expected", [
    ("1,000", "int", 1000), ("-12", "int", -12), (" 7 ", "int", 7), (12, "int", 12),
    ("1,000.5", "float", 1000.5), (".5", "float", 0.5), ("1e3", "float", 1000.0), (3, "float", 3.0),
])
def test_numbers_written_plainly_or_with_thousands_groups_are_read(text, kind, expected):
    from evalkit.dataset._mapping import FieldRule, ImportMapping
    from evalkit.dataset._mapping_values import apply_rule

    mapping = ImportMapping.model_validate({"fields": {"x": "x"}})
    value = apply_rule({"n": text}, "x", FieldRule(column="n", type=kind), mapping)
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize("kind", ["int", "float"])
@pytest.mark.parametrize("text", ["1,0", "1_000", "１２", "٣٠.٥٠", "1,000.5.5"])
def test_loose_numbers_are_refused_by_int_and_float(text, kind):
    from evalkit.dataset._mapping import FieldRule, ImportMapping
    from evalkit.dataset._mapping_values import RowError, apply_rule

    mapping = ImportMapping.model_validate({"fields": {"x": "x"}})
    with pytest.raises(RowError, match=f"cannot read {text!r}"):
        apply_rule({"n": text}, "x", FieldRule(column="n", type=kind), mapping)


@pytest.mark.parametrize("text", ["٣٠.٥٠", "$１２", "１,２００.００ USD"])
def test_money_with_digits_other_than_0_to_9_is_refused(text):
    from evalkit.dataset._mapping_values import RowError, parse_money

    with pytest.raises(RowError, match="digits must be 0-9"):
        parse_money(text)


# 4. label keys YAML would read as booleans or numbers


def test_label_keys_are_read_as_written_not_as_yaml_booleans_or_numbers(tmp_path):
    from evalkit.dataset._mapping import load_mapping
    from evalkit.dataset._mapping_rows import map_row

    path = tmp_path / "m.yaml"
    path.write_text("fields:\n"
                    "  case_id: id\n"
                    "  reviewed.action: {column: ok, labels: {Yes: approve, No: deny, Escalated: escalate}}\n"
                    "  account.pricing_cohort: {column: cohort, labels: {2020: early-2020, 1.50: x, 010: y}}\n"
                    "  history:\n"
                    "    column: thread\n"
                    "    items: {author: {column: who, labels: {Yes: customer, 'no': agent}}}\n")
    mapping = load_mapping(path)
    rules = mapping.rules()
    assert rules["reviewed.action"].labels == {"Yes": "approve", "No": "deny", "Escalated": "escalate"}
    assert rules["account.pricing_cohort"].labels == {"2020": "early-2020", "1.50": "x", "010": "y"}
    row = {"id": "a", "ok": "yes", "cohort": "2020", "thread": '[{"who": "YES"}, {"who": "No"}]'}
    out, problems = map_row(row, mapping, "x")
    assert problems == []
    assert out["reviewed"]["action"] == "approve" and out["account"]["pricing_cohort"] == "early-2020"
    assert out["history"] == [{"author": "customer"}, {"author": "agent"}]
    _, problems = map_row({**row, "ok": "true", "cohort": "1.5"}, mapping, "x")
    assert len(problems) == 2  # 'true' is not the label 'Yes', nor '1.5' the label '1.50'


def test_a_boolean_label_key_that_cannot_be_read_as_written_says_to_quote_it(tmp_path):
    from evalkit.dataset._mapping import ImportMapping, load_mapping

    path = tmp_path / "m.yaml"  # a merge key: the keys' order is not the file's, so they are not guessed
    path.write_text("fields:\n  case_id: id\n  reviewed.action:\n    column: ok\n"
                    "    labels: {<<: {Yes: approve}, No: deny}\n")
    with pytest.raises(ConfigError) as err:
        load_mapping(path)
    assert (f"{path}:5: fields.reviewed.action.labels: Value error, labels key True is not text: YAML reads an "
            "unquoted yes/no/on/off/true/false as true or false") in str(err.value)
    assert "quote the label as the export writes it ('Yes')" in str(err.value)
    built = ImportMapping.model_validate({"fields": {"x": {"column": "c", "labels": {2020: "a"}}}})
    assert built.rules()["x"].labels == {"2020": "a"}


# 5. smaller: two sources, bad date formats, short rows, unterminated quotes, time zones


@pytest.mark.parametrize("rule, got", [
    ("{column: Seats, const: 7, type: int}", "column and const"),
    ("{template: 'S{Seats}', const: 7}", "template and const"),
    ("{column: Seats, const: null}", "column and const"),
])
def test_a_rule_with_two_sources_is_refused_when_the_mapping_is_loaded(tmp_path, monkeypatch, rule, got):
    header, rows = _acme_rows()
    export = _write_csv(tmp_path / "export.csv", header, rows)
    mapping = _mapping(tmp_path, ("account.seats: {column: Seats, type: int}", f"account.seats: {rule}"))
    r, text, store = import_mapped(tmp_path, monkeypatch, export, mapping)
    assert r.exit_code == 2, text
    assert (f"{mapping}:{line_of(mapping, 'account.seats:')}: fields.account.seats: Value error, give one of "
            f"column, template or const (got {got})") in text
    assert not store.exists()


@pytest.mark.parametrize("rule, why", [
    ("{column: Seats, type: int, unmapped: default, labels: {many: 50}}",
     "unmapped: default needs a `default:` value to give unknown labels"),
    ("{column: Seats, type: int, unmapped: keep}", "unmapped: keep needs `labels`"),
    ("{column: Seats, type: int, unmapped: default, default: 1}", "unmapped: default needs `labels`"),
    ("{column: Seats, type: int, unmapped: default, default: null, labels: {many: 50}}",
     "unmapped: default needs a `default:` value to give unknown labels"),
    ("{column: Seats, type: int, unmapped: default, default: 5, labels: {}}",
     "unmapped: default with empty `labels` maps every label the same way"),
])
def test_an_unmapped_rule_that_cannot_act_is_refused_when_the_mapping_is_loaded(tmp_path, monkeypatch, rule, why):
    """`unmapped: default` without a default blanked every unknown label; without labels it did nothing."""
    header, rows = _acme_rows()
    export = _write_csv(tmp_path / "export.csv", header, rows)
    mapping = _mapping(tmp_path, ("account.seats: {column: Seats, type: int}", f"account.seats: {rule}"))
    r, text, store = import_mapped(tmp_path, monkeypatch, export, mapping)
    assert r.exit_code == 2, text
    assert f"{mapping}:{line_of(mapping, 'account.seats:')}: fields.account.seats: Value error, {why}" in text
    assert not store.exists()


@pytest.mark.parametrize("old, new, key, why", [
    ('date_formats: ["%m/%d/%Y", "%b %d, %Y"]', 'date_formats: ["%m/%d/%Y", "%d.%m.%Q"]', "date_formats",
     "'%d.%m.%Q' is not a usable strptime format: 'Q' is a bad directive in format '%d.%m.%Q'"),
    ('datetime_formats: ["%m/%d/%Y %H:%M"]', 'datetime_formats: ["%Y %Y"]', "datetime_formats",
     "'%Y %Y' is not a usable strptime format"),
    ("{column: Received, type: date}", "{column: Received, type: date, formats: [dd.mm.yyyy]}",
     "fields.request.received.formats", "'dd.mm.yyyy' has no strptime directive"),
    ("{column: Received, type: date}", "{column: Received, type: date, formats: ['%d.%m']}",
     "fields.request.received.formats", "'%d.%m' has no year (%Y, %y or %G): strptime would read every date in 1900"),
])
def test_a_date_format_strptime_cannot_use_is_refused_when_the_mapping_is_loaded(tmp_path, monkeypatch, old, new,
                                                                                   key, why):
    header, rows = _acme_rows()
    export = _write_csv(tmp_path / "export.csv", header, rows)
    mapping = _mapping(tmp_path, (old, new))
    r, text, store = import_mapped(tmp_path, monkeypatch, export, mapping)
    assert r.exit_code == 2, text
    assert f"{mapping}:{line_of(mapping, new)}: {key}" in text and why in text
    assert "data row" not in text and not store.exists()


def test_a_short_row_is_one_problem_like_a_long_one(tmp_path, monkeypatch):
    header, rows = _acme_rows(4)
    rows[1], rows[2] = rows[1][:5], [*rows[2], "extra"]
    export = _write_csv(tmp_path / "export.csv", header, rows)
    r, text, store = import_mapped(tmp_path, monkeypatch, export, _mapping(tmp_path))
    assert r.exit_code == 2, text
    problems = list(dict.fromkeys(line for line in text.splitlines() if line.startswith("  - ")))
    assert problems == [f"  - {export}:data row 2 (line 3): 5 cells but the header has {len(header)} columns",
                        (f"  - {export}:data row 3 (line 4): {len(header) + 1} cells but the header has "
                        f"{len(header)} columns")], text
    assert not store.exists()


def test_a_short_row_of_a_native_csv_is_refused_not_filled_with_defaults(tmp_path, toy):
    export = tmp_path / "cases.csv"
    export.write_text("case_id,segment,variant,account.plan,account.seats,account.price,account.renews_on,note\n"
                      "a,routine,base,pro,3,10.00,2025-01-01,hello\n"
                      "b,routine,base,pro,3,10.00,2025-01-01\n")
    with pytest.raises(DataError) as err:
        read_cases(export, "toy")
    assert err.value.problems == [f"{export}:data row 2 (line 3): 7 cells but the header has 8 columns"]


def _with_last_line(tmp_path: Path, last: str) -> Path:
    header, rows = _acme_rows()
    export = _write_csv(tmp_path / "export.csv", header, rows)
    with open(export, "a", encoding="utf-8", newline="") as fh:
        fh.write(last)
    return export


def test_an_unterminated_quote_is_reported_at_the_line_it_opens(tmp_path, monkeypatch):
    export = _with_last_line(tmp_path, 'upg-9,Billing hold,,"{}",Starter,"53,Monthly\r\nmore,text\r\n')
    opens = len(export.read_text(encoding="utf-8").splitlines()) - 1
    r, text, store = import_mapped(tmp_path, monkeypatch, export, _mapping(tmp_path))
    assert r.exit_code == 2, text
    assert (f"{export}:line {opens}: unterminated quote starting at line {opens}: the quoted cell runs to the end "
            "of the file; nothing was imported") in text
    assert "label" not in text and not store.exists()


def test_text_after_a_closing_quote_names_the_quoted_cell(tmp_path, monkeypatch):
    export = _with_last_line(tmp_path, 'upg-9,Billing hold,,"{}",Starter,"Hi,\r\nthere"53,Monthly\r\n')
    opens = len(export.read_text(encoding="utf-8").splitlines()) - 1
    r, text, store = import_mapped(tmp_path, monkeypatch, export, _mapping(tmp_path))
    assert r.exit_code == 2, text
    assert (f"{export}:line {opens}: the quoted cell starting at line {opens} is followed by text before the next "
            f"comma (at line {opens + 1}): a closing quote is missing") in text
    assert not store.exists()


def test_a_native_csv_with_an_unterminated_quote_is_refused_too(tmp_path, toy):
    export = tmp_path / "cases.csv"
    export.write_text('case_id,segment,variant,note\na,routine,base,"fine ""quoted"" text"\nb,routine,base,"open\n')
    with pytest.raises(DataError, match=f"{export}:line 3: unterminated quote starting at line 3"):
        read_cases(export, "toy")


@pytest.mark.parametrize("ts, formats, expected", [
    ("2025-01-02T10:00:00+02:00", None, "2025-01-02 08:00:00"),
    ("2025-01-02T23:30:00-05:00", None, "2025-01-03 04:30:00"),
    ("2025-01-02T10:00:00Z", None, "2025-01-02 10:00:00"),
    ("2025-01-02T10:00:00", None, "2025-01-02 10:00:00"),
    ("02/01/2025 10:00 +0530", ["%d/%m/%Y %H:%M %z"], "2025-01-02 04:30:00"),
])
def test_a_time_with_a_utc_offset_is_converted_to_utc_not_stripped(ts, formats, expected):
    from evalkit.dataset._mapping import FieldRule, ImportMapping
    from evalkit.dataset._mapping_values import apply_rule

    mapping = ImportMapping.model_validate({"fields": {"x": "x"}})
    rule = FieldRule(column="thread", items={"at": {"column": "ts", "type": "datetime", "formats": formats}})
    [turn] = apply_rule({"thread": json.dumps([{"ts": ts}])}, "history", rule, mapping)
    assert turn["at"].tzinfo is None and str(turn["at"]) == expected
    day = apply_rule({"d": "2025-01-02T23:30:00-05:00"}, "x", FieldRule(column="d", type="date"), mapping)
    assert str(day) == "2025-01-02"  # a date is the day the export wrote
