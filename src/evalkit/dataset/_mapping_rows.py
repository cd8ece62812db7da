"""One mapped row: a source row of a team's export (CSV cells, JSONL objects) through
every rule of a mapping into a case row, with the per-segment defaults; and the checks
made once per file (the mapped columns the header lacks)."""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from evalkit.dataset._mapping import ImportMapping, template_columns
from evalkit.dataset._mapping_values import RowError, apply_rule, place
from evalkit.errors import ConfigError


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def _has(target: Mapping[str, Any], dotted: str) -> bool:
    node: Any = target
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or node.get(part) is None:
            return False
        node = node[part]
    return True


def map_row(row: Mapping[str, Any], mapping: ImportMapping, where: str) -> tuple[dict[str, Any] | None, list[str]]:
    """A case dict from one source row, or every problem with it ('<where>: column X -> field Y: why')."""
    out: dict[str, Any] = {}
    problems: list[str] = []
    for target, rule in mapping.rules().items():
        try:
            value = apply_rule(row, target, rule, mapping)
        except RowError as exc:
            problems.append(f"{where}: {exc}")
            continue
        if value is not None:
            place(out, target, _jsonable(value))
    if problems:
        return None, problems
    defaults = mapping.segment_defaults.get(str(out.get("segment")), {}) or mapping.segment_defaults.get("*", {})
    for target, value in defaults.items():
        if not _has(out, target):
            place(out, target, _jsonable(value))
    return out, []


def raw_rows(path: Path) -> Iterator[tuple[str, dict[str, Any] | None, list[str]]]:
    """Source rows as the export has them (CSV cells as text, JSONL objects as parsed)."""
    import csv

    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        from evalkit.dataset._import import _read_jsonl  # one JSONL reader for native and mapped imports

        yield from _read_jsonl(path)
        return
    if suffix != ".csv":
        raise ConfigError(f"{path}: unsupported file type {suffix or '(none)'!r}; use .csv or .jsonl")
    # Exports carry whole threads in one cell; csv's default 128 KiB cell limit is too small for them.
    csv.field_size_limit(max(csv.field_size_limit(), 64 * 2**20))
    from evalkit.dataset._import import csv_records

    for where, header, cells, ragged in csv_records(path):
        yield (where, None, ragged) if ragged else (where, dict(zip(header, cells)), [])


def _read_columns(mapping: ImportMapping) -> Iterator[tuple[str, str]]:
    """(target, source column) of every column a rule reads (a template reads several)."""
    for target, rule in mapping.rules().items():
        for column in [rule.column] if rule.column else template_columns(rule.template) if rule.template else []:
            yield target, column


def _header_name(column: str, header: list[str]) -> str | None:
    """The header column a source column is read from: itself, or the longest header 'a' of a dotted 'a.b'
    (as the row lookup resolves it); None if the header has neither."""
    if column in header:
        return column
    heads = [h for h in header if column.startswith(h + ".")]
    return max(heads, key=len) if heads else None


def check_columns(path: Path, mapping: ImportMapping, header: list[str]) -> list[str]:
    """Mapped columns the CSV header lacks (checked once, before any row), each blamed on the mapping's line."""
    missing = []
    for target, column in _read_columns(mapping):
        if _header_name(column, header) is None:
            close = difflib.get_close_matches(column, header, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            missing.append(f"{mapping.at('fields', target)}: no column {column!r} in the header of {path.name}{hint}")
    return missing


def repeated_columns(path: Path, mapping: ImportMapping, header: list[str]) -> list[str]:
    """Header columns given twice that the mapping reads: a row would silently keep the last one's cell.
    (A repeated column nothing reads is left alone: exports often carry unused duplicates.)"""
    problems: dict[str, str] = {}
    for target, column in _read_columns(mapping):
        name = _header_name(column, header)
        if name is None or name in problems or header.count(name) < 2:
            continue
        places = " and ".join(str(i) for i, h in enumerate(header, start=1) if h == name)
        problems[name] = (f"{path}:line 1: column {name!r} is given twice in the header (columns {places}); "
                          f"{mapping.at('fields', target)} reads it: rename or remove one of them")
    return list(problems.values())


def check_targets(mapping: ImportMapping, case_model: type[BaseModel]) -> list[str]:
    """Target fields (``fields:`` and ``segment_defaults:``) the case model does not have, each blamed on
    the mapping's line: checked once, before any row (else every row fails with the same unknown field)."""
    problems = []
    for target, rule in mapping.rules().items():
        if (why := unknown_field(case_model, target)) is not None:
            problems.append(f"{mapping.at('fields', target)}: {why}")
        elif rule.items:
            element = _list_element_model(case_model, target)
            for item_target in rule.items if element is not None else ():
                if (why := unknown_field(element, item_target)) is not None:
                    problems.append(f"{mapping.at('fields', target, 'items', item_target)}: {why} (in each item)")
    for segment, defaults in mapping.segment_defaults.items():
        for target in defaults:
            if (why := unknown_field(case_model, target)) is not None:
                problems.append(f"{mapping.at('segment_defaults', segment, target)}: {why}")
    return problems


def _model_of(annotation: Any) -> type[BaseModel] | None:
    from evalkit.dataset._import import _unwrap

    models = [t for t in _unwrap(annotation) if isinstance(t, type) and issubclass(t, BaseModel)]
    return models[0] if len(models) == 1 else None


def unknown_field(model: type[BaseModel], dotted: str) -> str | None:
    """Why ``dotted`` is not a field path of ``model`` (None if it is, or if it leads into free-form data)."""
    from evalkit.dataset._import import _fields

    current: type[BaseModel] | None = model
    parts = dotted.split(".")
    for depth, part in enumerate(parts):
        if current is None:
            return None  # below a dict, list or union field: its keys are not known here
        fields = _fields(current)
        if part not in fields:
            if current.model_config.get("extra") == "allow":
                return None
            under = f"under {'.'.join(parts[:depth])!r}" if depth else "at the top level"
            close = difflib.get_close_matches(part, fields, n=1)
            hint = f" (did you mean {'.'.join([*parts[:depth], close[0]])!r}?)" if close else ""
            return f"the case model has no field {part!r} {under}{hint}"
        current = _model_of(fields[part])
    return None


def _list_element_model(model: type[BaseModel], dotted: str) -> type[BaseModel] | None:
    """The item model of a list field (``history`` -> its turn model), if ``dotted`` is one."""
    import typing

    from evalkit.dataset._import import _fields, _unwrap

    current: Any = model
    annotation: Any = None
    for part in dotted.split("."):
        if current is None:
            return None
        annotation = _fields(current).get(part)
        current = _model_of(annotation) if annotation is not None else None
    for tp in _unwrap(annotation):
        if typing.get_origin(tp) in (list, tuple) and (args := typing.get_args(tp)):
            return _model_of(args[0])
    return None
