from __future__ import annotations

import csv
import json

import pytest

from evalkit.dataset import import_file, load_dataset
from evalkit.errors import DataError


def _jsonl(path, objs):
    path.write_text("".join((o if isinstance(o, str) else json.dumps(o)) + "\n" for o in objs))
    return path


def _good(toy, n=4):
    return [json.loads(c.model_dump_json()) for c in toy.generate(n, 5)]


def test_jsonl_import_round_trips(toy, store, tmp_path):
    cases = _good(toy)
    src = _jsonl(tmp_path / "cases.jsonl", cases)
    folder = import_file(src, name="imp", version="v1", task="toy", store=store)
    ds = load_dataset("imp@v1", store=store)
    assert folder == store / "imp" / "v1"
    assert [json.loads(c.model_dump_json()) for c in ds.cases] == cases
    assert ds.manifest.generator is None and "cases.jsonl" in ds.manifest.description


def test_jsonl_with_bad_rows_lists_every_problem_and_writes_nothing(toy, store, tmp_path):
    cases = _good(toy, 6)
    cases[1]["account"]["seats"] = "many"          # line 2: nested field
    del cases[3]["segment"]                        # line 4: missing field
    cases[4]["account"]["renews_on"] = "31/12/2025"  # line 5: bad date
    lines = [*cases[:5], "{oops", cases[5], dict(cases[0])]  # line 6 bad JSON, line 8 duplicate id
    src = _jsonl(tmp_path / "bad.jsonl", lines)
    with pytest.raises(DataError) as err:
        import_file(src, name="imp", version="v1", task="toy", store=store)
    problems = err.value.problems
    assert "5 of 8 rows are invalid" in str(err.value)
    assert any(p.startswith(f"{src}:line 2: field account.seats:") for p in problems)
    assert any(p.startswith(f"{src}:line 4: field segment: Field required") for p in problems)
    assert any(p.startswith(f"{src}:line 5: field account.renews_on:") for p in problems)
    assert any(p.startswith(f"{src}:line 6: invalid JSON") for p in problems)
    assert any(p.startswith(f"{src}:line 8: field case_id: duplicate") and "line 1" in p for p in problems)
    assert not any(":line 1:" in p or ":line 3:" in p or ":line 7:" in p for p in problems)
    assert not store.exists()


def _csv(path, header, rows):
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


HEADER = ["case_id", "segment", "variant", "account.plan", "account.seats", "account.price",
          "account.renews_on", "history", "tags", "note"]


def test_csv_import_with_dotted_headers_and_json_cells(toy, store, tmp_path):
    rows = [
        ["a1", "routine", "r-1", "team", "5", "12.50", "2025-03-01", '["hi", "upgrade me"]', '{"k": "v"}', ""],
        ["a2", "promotion", "p-1", "business", "40", "999.99", "2025-12-31", "", "", "[1, 2] stays text"],
    ]
    src = _csv(tmp_path / "cases.csv", HEADER, rows)
    import_file(src, name="csvset", version="v1", task="toy", store=store)
    a1, a2 = load_dataset("csvset@v1", store=store).cases
    assert a1.account.seats == 5 and str(a1.account.price) == "12.50"
    assert a1.account.renews_on.isoformat() == "2025-03-01"
    assert a1.history == ["hi", "upgrade me"] and a1.tags == {"k": "v"} and a1.note is None
    assert a2.history == [] and a2.note == "[1, 2] stays text"  # blank cell = missing -> default


def test_csv_bad_rows_use_data_row_numbers(toy, store, tmp_path):
    rows = [
        ["a1", "routine", "r-1", "team", "5", "12.50", "2025-03-01", "", "", ""],
        ["a2", "routine", "r-1", "team", "zero", "12.50", "2025-03-01", "", "", ""],
        ["a3", "routine", "r-1", "team", "5", "", "2025-03-01", "[not json", "", ""],
    ]
    src = _csv(tmp_path / "bad.csv", HEADER, rows)
    with pytest.raises(DataError) as err:
        import_file(src, name="csvset", version="v1", task="toy", store=store)
    problems = err.value.problems
    assert any(p.startswith(f"{src}:data row 2 (line 3): field account.seats:") for p in problems)
    assert any(p.startswith(f"{src}:data row 3 (line 4): field history: invalid JSON") for p in problems)
    assert not store.exists()


def test_unsupported_or_missing_file(toy, store, tmp_path):
    with pytest.raises(DataError, match="file not found"):
        import_file(tmp_path / "nope.jsonl", name="x", version="v1", task="toy", store=store)
    (tmp_path / "cases.xlsx").write_text("x")
    with pytest.raises(DataError, match="unsupported file type"):
        import_file(tmp_path / "cases.xlsx", name="x", version="v1", task="toy", store=store)
    with pytest.raises(DataError, match="no cases"):
        import_file(_jsonl(tmp_path / "empty.jsonl", []), name="x", version="v1", task="toy", store=store)
    assert not store.exists()


def test_import_over_existing_version_is_refused(toy, store, tmp_path):
    src = _jsonl(tmp_path / "cases.jsonl", _good(toy))
    import_file(src, name="imp", version="v1", task="toy", store=store)
    with pytest.raises(DataError, match="immutable"):
        import_file(src, name="imp", version="v1", task="toy", store=store)


def test_the_same_problem_in_many_rows_is_said_once_with_its_count_and_first_rows(toy, store, tmp_path):
    cases = _good(toy, 300)
    for case in cases:
        case["remark"] = "x"
    cases[7]["account"]["seats"] = "many"  # a problem of its own keeps its own line
    src = _jsonl(tmp_path / "extra.jsonl", cases)
    with pytest.raises(DataError) as err:
        import_file(src, name="imp", version="v1", task="toy", store=store)
    assert "300 of 300 rows are invalid" in str(err.value)
    assert err.value.problems == [
        f"{src}: field remark: Extra inputs are not permitted (got 'x') in 300 rows (lines 1, 2, 3, …)",
        (f"{src}:line 8: field account.seats: Input should be a valid integer, unable to parse string as an "
        "integer (got 'many')")]
    assert not store.exists()


def test_one_problem_with_different_values_lists_the_first_values_and_csv_data_rows(toy, store, tmp_path):
    rows = [[f"c{i}", "routine", "v", "team", f"x{i}", "1.00", "2025-01-01", "", "", ""] for i in range(5)]
    src = _csv(tmp_path / "seats.csv", HEADER, rows)
    with pytest.raises(DataError) as err:
        import_file(src, name="imp", version="v1", task="toy", store=store)
    (problem,) = err.value.problems
    assert problem.startswith(f"{src}: field account.seats: Input should be a valid integer")
    assert problem.endswith("(got 'x0', 'x1', 'x2', …) in 5 rows (data rows 1, 2, 3, …)")


@pytest.mark.parametrize("delimiter, name", [(";", "semicolon"), ("\t", "tab")])
def test_a_csv_with_another_delimiter_is_refused_once_with_a_hint(toy, store, tmp_path, delimiter, name):
    src = tmp_path / "export.csv"
    src.write_text(delimiter.join(HEADER) + "\n" + "\n".join(
        delimiter.join([f"c{i}", "routine", "v", "team", "3", "1.00", "2025-01-01", "", "", ""]) for i in range(20)))
    with pytest.raises(DataError) as err:
        import_file(src, name="imp", version="v1", task="toy", store=store)
    assert str(err.value).startswith(f"{src}:line 1: the header is one column")
    assert f"looks {name}-separated" in str(err.value) and "with ',' as the delimiter" in str(err.value)
    assert err.value.problems == []
    assert not store.exists()


def test_an_empty_csv_is_one_problem(toy, store, tmp_path):
    src = tmp_path / "empty.csv"
    src.write_text("")
    with pytest.raises(DataError, match="empty file: no header row") as err:
        import_file(src, name="imp", version="v1", task="toy", store=store)
    assert err.value.problems == []


def test_a_case_id_with_leading_or_trailing_whitespace_is_an_error_naming_the_row(toy, store, tmp_path):
    rows = [[case_id, "routine", "v", "team", "3", "1.00", "2025-01-01", "", "", ""]
            for case_id in ("NB-0011", "NB-0011 ", " NB-0011", "NB-0012")]
    src = _csv(tmp_path / "ids.csv", HEADER, rows)
    with pytest.raises(DataError) as err:
        import_file(src, name="imp", version="v1", task="toy", store=store)
    assert "2 of 4 rows are invalid" in str(err.value)
    assert err.value.problems == [
        (f"{src}: field case_id: must not begin or end with whitespace (case_ids are compared exactly) "
        "(got 'NB-0011 ', ' NB-0011') in 2 rows (data rows 2, 3)")]
    assert not store.exists()


def test_a_segment_with_surrounding_whitespace_is_refused_when_publishing(toy, store):
    from evalkit.dataset import write_dataset

    case = next(toy.generate(1, 5)).model_copy(update={"segment": "routine "})
    with pytest.raises(DataError) as err:
        write_dataset([case], name="imp", version="v1", task="toy", store=store)
    assert err.value.problems == [("case #1: field segment: must not begin or end with whitespace (segments are "
                                  "compared exactly) (got 'routine ')")]
