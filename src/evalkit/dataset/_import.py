"""Importing cases from JSONL or CSV: validate every row first, publish only if all are good.

Problems name the file, the row as the user sees it (JSONL: ``line N``; CSV: ``data row N
(line M)``, the header not counted) and the dotted field path.
"""

from __future__ import annotations

import csv
import json
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from evalkit._unicode import lone_surrogate_at
from evalkit.dataset._problems import grouped_row_problems
from evalkit.dataset._rows import coerce_case, resolve_task, validation_context
from evalkit.errors import ConfigError, DataError

if TYPE_CHECKING:
    from evalkit.dataset._mapping import ImportMapping
    from evalkit.tasks import Task

_CONTAINERS = (list, tuple, set, frozenset, dict)
# A parsed row, or None plus the problem that stopped it from parsing.
Parsed = tuple[str, dict[str, Any] | None, list[str]]


def _unwrap(annotation: Any) -> list[Any]:
    """The concrete types an annotation admits (Optional/Union/Annotated peeled off)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return [t for arg in typing.get_args(annotation) for t in _unwrap(arg) if t is not type(None)]
    return [annotation]


def _is_structured(tp: Any) -> bool:
    origin = typing.get_origin(tp) or tp
    return (isinstance(origin, type) and (issubclass(origin, _CONTAINERS) or issubclass(origin, BaseModel))) \
        or origin in (typing.Mapping, typing.Sequence) or str(origin).startswith("collections.abc.")


def _fields(model: type[BaseModel]) -> dict[str, Any]:
    """Field annotations by the key a row uses (the alias when one is set)."""
    return {(info.alias or name): info.annotation for name, info in model.model_fields.items()}


def json_cell(model: type[BaseModel], dotted: str) -> bool:
    """Whether the CSV column ``dotted`` holds JSON text (a list, dict or whole sub-model).

    Decided from the case model, not from the cell, so a message that happens to look
    like JSON ("[1, 2]") stays a string when the field is a string.
    """
    current: type[BaseModel] | None = model
    annotation: Any = None
    for part in dotted.split("."):
        if current is None or part not in (fields := _fields(current)):
            return False
        annotation = fields[part]
        models = [t for t in _unwrap(annotation) if isinstance(t, type) and issubclass(t, BaseModel)]
        current = models[0] if len(models) == 1 else None
    return any(_is_structured(t) for t in _unwrap(annotation))


def _set_dotted(target: dict[str, Any], dotted: str, value: Any) -> str | None:
    """Place ``value`` at a dotted path; return a problem if another column already holds that spot."""
    parts = dotted.split(".")
    node = target
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            return f"column {dotted!r} conflicts with column {part!r}"
        node = child
    if parts[-1] in node:
        return f"column {dotted!r} is given twice"
    node[parts[-1]] = value
    return None


class _RepeatedKey(ValueError):
    pass


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object, refusing a key given twice (json keeps the last one silently)."""
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        repeated = next(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        raise _RepeatedKey(repeated)
    return obj


def _read_jsonl(path: Path) -> Iterator[Parsed]:
    with open(path, encoding="utf-8-sig") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            where = f"{path}:line {number}"
            try:  # without its newline: a truncated line's error is at its own end, not "column 1" of the next
                obj = json.loads(line.rstrip("\n"), object_pairs_hook=_unique_keys)
            except json.JSONDecodeError as exc:
                yield where, None, [f"{where}: invalid JSON: {exc.msg} (column {exc.colno})"]
                continue
            except _RepeatedKey as exc:
                yield where, None, [f"{where}: key {exc.args[0]!r} is given twice in one JSON object"]
                continue
            if not isinstance(obj, dict):
                yield where, None, [f"{where}: expected a JSON object, got {type(obj).__name__}"]
                continue
            if (field := lone_surrogate_at(obj)) is not None:
                problem = f"{where}: field {field}: lone surrogate escape (e.g. \\ud800) is not valid Unicode text"
                yield where, None, [problem]
                continue
            yield where, obj, []


_OTHER_DELIMITERS = {";": "semicolon", "\t": "tab", "|": "pipe"}


def check_header(path: Path, header: list[str]) -> list[str]:
    """The CSV header, refused at once if it cannot be a comma-separated header: an empty file, or one
    column that holds another delimiter (a ';'-separated export read as one column fails on every row)."""
    if not header:
        raise DataError(f"{path}: empty file: no header row and no cases; nothing was imported")
    if len(header) == 1:
        found = [(d, name) for d, name in _OTHER_DELIMITERS.items() if d in header[0]]
        if found:
            delimiter, name = max(found, key=lambda f: header[0].count(f[0]))
            shown = header[0] if len(header[0]) <= 60 else header[0][:59] + "…"
            raise DataError(f"{path}:line 1: the header is one column {shown!r}: the file looks "
                            f"{name}-separated ({delimiter!r}); evalkit reads comma-separated CSV: export or save "
                            "it with ',' as the delimiter; nothing was imported")
    return header


def csv_records(path: Path) -> Iterator[tuple[str, list[str], list[str], list[str]]]:
    """(where, header, cells, problems) of every non-blank data row of a CSV file; a row is named
    ``data row N (line M)`` (the header not counted). The one CSV reader for native and mapped imports."""
    with open(path, encoding="utf-8-sig", newline="") as fh:
        # strict: an unterminated quote stops the import, not a cell swallowing the rest of the file
        reader = csv.reader(fh, strict=True)
        records = _located(path, reader)
        header = check_header(path, [h.strip() for h in next(records, None) or []])
        last_line = reader.line_num
        for number, cells in enumerate(records, start=1):
            where = f"{path}:data row {number} (line {last_line + 1})"
            last_line = reader.line_num
            if not any(c.strip() for c in cells):
                continue
            # One problem for the row, not one per column a short row lacks (or a field silently defaulted).
            ragged = [f"{where}: {len(cells)} cells but the header has {len(header)} columns"] \
                if len(cells) != len(header) else []
            yield where, header, cells, ragged


def _located(path: Path, reader: Any) -> Iterator[list[str]]:
    """The reader's records; a csv.Error becomes a DataError naming the line (and the opening quote)."""
    from evalkit.dataset._csv import csv_error

    while True:
        start = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise DataError(csv_error(path, start, reader.line_num, exc)) from None
        yield cells


def _read_csv(path: Path, model: type[BaseModel]) -> Iterator[Parsed]:
    json_columns: set[str] | None = None
    for where, header, cells, problems in csv_records(path):
        if json_columns is None:
            json_columns = {h for h in header if json_cell(model, h)}
        row: dict[str, Any] = {}
        for column, cell in zip(header, cells):
            if cell.strip() == "":
                continue  # blank cell = field not given (its default applies, or 'Field required')
            value: Any = cell
            if column in json_columns:
                try:
                    value = json.loads(cell)
                except json.JSONDecodeError as exc:
                    problems.append(f"{where}: field {column}: invalid JSON in cell: {exc.msg}")
                    continue
            if (clash := _set_dotted(row, column, value)) is not None:
                problems.append(f"{where}: {clash}")
        yield where, (None if problems else row), problems


def _bad_utf8_line(path: Path) -> str:
    """``line N`` of the first line that is not UTF-8."""
    with open(path, "rb") as fh:
        for number, raw in enumerate(fh, start=1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                return f"line {number}"
    return "?"


def _unknown_targets(mapping: ImportMapping, model: type[BaseModel]) -> list[str]:
    from evalkit.dataset._mapping_rows import check_targets

    return check_targets(mapping, model)


def _mapped_rows(path: Path, mapping: ImportMapping) -> Iterator[Parsed]:
    """A team's export through its column mapping: rows in the task's case shape, or row problems."""
    from evalkit.dataset._mapping_rows import check_columns, map_row, raw_rows, repeated_columns

    if path.suffix.lower() == ".csv":
        with open(path, encoding="utf-8-sig", newline="") as fh:
            header = check_header(path, [h.strip() for h in next(csv.reader(fh), None) or []])
        if missing := check_columns(path, mapping, header):
            raise DataError(f"{path}: the mapping names columns the file does not have (its columns: "
                            f"{', '.join(header)}); nothing was imported", problems=missing)
        if repeated := repeated_columns(path, mapping, header):
            raise DataError(f"{path}: the header gives a column the mapping reads twice; nothing was imported",
                            problems=repeated)
    for where, raw, problems in raw_rows(path):
        if raw is None:
            yield where, None, problems
            continue
        row, problems = map_row(raw, mapping, where)
        if row is not None and (field := lone_surrogate_at(row)) is not None:
            bad = f"{where}: field {field}: lone surrogate escape (e.g. \\ud800) is not valid Unicode text"
            row, problems = None, [*problems, bad]
        yield where, row, problems


def read_cases(file: str | Path, task: Task | str, *, mapping: ImportMapping | None = None) -> list[BaseModel]:
    """Every case of a JSONL or CSV file, validated; DataError lists every bad row if any.

    With ``mapping`` the file is a team's own export (their columns and formats) mapped to
    the task's case model first; without it the columns are the case model's own fields.
    """
    path = Path(file)
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    resolved = resolve_task(task)
    model, context = resolved.case_model, validation_context(resolved)
    suffix = path.suffix.lower()
    if suffix not in (".jsonl", ".ndjson", ".csv"):
        raise DataError(f"{path}: unsupported file type {suffix or '(none)'!r}; use .jsonl or .csv")
    if mapping is not None:
        rows = _mapped_rows(path, mapping)
    elif suffix == ".csv":
        rows = _read_csv(path, model)
    else:
        rows = _read_jsonl(path)

    if mapping is not None:  # load_mapping checked a file's already; this is for a mapping built in code
        from evalkit.dataset._mapping import target_clashes

        if clashes := target_clashes(mapping):
            raise ConfigError(f"{mapping.file}: invalid mapping\n" + "\n".join(clashes))
    if mapping is not None and (unknown := _unknown_targets(mapping, model)):
        raise DataError(f"{mapping.file}: the mapping names fields the {resolved.name} case model does not "
                        "have; nothing was imported", problems=unknown)
    cases: list[BaseModel] = []
    bad_rows: list[tuple[str, list[str]]] = []
    first_seen: dict[str, str] = {}
    total = 0
    try:
        for where, obj, row_problems in rows:
            total += 1
            case = None
            if obj is not None:
                case, row_problems = coerce_case(obj, model, where, context)
            if case is not None and case.case_id in first_seen:
                first = first_seen[case.case_id].rpartition(":")[2]
                row_problems = [f"{where}: field case_id: duplicate case_id {case.case_id!r} (first at {first})"]
                case = None
            if case is None:
                bad_rows.append((where, row_problems))
                continue
            first_seen[case.case_id] = where
            cases.append(case)
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}:{_bad_utf8_line(path)}: not UTF-8 text ({exc.reason}); save the file as UTF-8; "
                        "nothing was imported") from None
    except csv.Error as exc:
        raise DataError(f"{path}: unreadable CSV file: {exc}") from exc
    if bad_rows:
        raise DataError(f"{path}: {len(bad_rows)} of {total} rows are invalid; nothing was imported",
                        problems=grouped_row_problems(str(path), bad_rows))
    if not cases:
        raise DataError(f"{path}: no cases found")
    return cases


def import_file(file: str | Path, *, name: str, version: str, task: Task | str | None = None,
                description: str | None = None, parent: str | None = None, store: Path | str | None = None,
                mapping: str | Path | ImportMapping | None = None, catalogue: str | Path | None = None) -> Path:
    """Validate every row of a JSONL/CSV file and publish it as ``name@version``.

    ``mapping`` (a mapping YAML file or an ImportMapping) maps a team's own export first.
    ``catalogue`` (or the mapping's ``catalogue:``) is the team's catalogue file: rows are
    checked against it and the version ships it. Nothing is written (not even the dataset
    folder) unless every row is valid.
    """
    from evalkit.dataset._mapping import ImportMapping, load_mapping

    via = ""
    if mapping is not None and not isinstance(mapping, ImportMapping):
        via = f" through mapping {Path(mapping).name}"
        mapping_dir = Path(mapping).parent
        mapping = load_mapping(mapping)
        if catalogue is None and mapping.catalogue is not None:
            catalogue = mapping_dir / mapping.catalogue
    elif catalogue is None and mapping is not None and mapping.catalogue is not None:
        catalogue = Path(mapping.catalogue)
    task = task or (mapping.task if mapping is not None else None)
    if task is None:
        raise DataError("no task given: pass --task or set `task:` in the mapping file")
    from evalkit.dataset._publish import immutable_error, write_dataset
    from evalkit.dataset._refs import check_label, store_root

    check_label("name", name)
    check_label("version", version)
    if (final := store_root(store) / name / version).exists():  # fail before reading a large file
        raise immutable_error(final)
    resolved, attachments = _with_catalogue(resolve_task(task), catalogue)
    cases = read_cases(file, resolved, mapping=mapping)
    if description is None:
        description = f"Imported from {Path(file).name}{via}."
    return write_dataset(cases, name=name, version=version, task=resolved, description=description,
                         parent=parent, generator=None, store=store, attachments=attachments)


def _with_catalogue(task: Task, catalogue: str | Path | None) -> tuple[Task, dict[str, bytes]]:
    """The task under the catalogue file given for an import, and the attachment that ships it."""
    if catalogue is None:
        return task, {}
    from evalkit.tasks import bind_catalogue

    bound = bind_catalogue(task, file=catalogue)
    return bound, {bound.catalogue_file: Path(catalogue).read_bytes()}  # type: ignore[attr-defined]


