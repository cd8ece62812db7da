"""One mapped row: a source row of a team's export (CSV cells, JSONL objects) through
every rule of a mapping into a case row, with the per-segment defaults; and the checks
made once per file (the mapped columns the header lacks)."""

from __future__ import annotations

import string
from collections.abc import Iterator, Mapping
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from evalkit.dataset._mapping import ImportMapping
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

    for where, header, cells, wide in csv_records(path):
        yield (where, None, wide) if wide else (where, dict(zip(header, cells)), [])


def check_columns(path: Path, mapping: ImportMapping, header: list[str]) -> list[str]:
    """Mapped columns the CSV header lacks (checked once, before any row)."""
    missing = []
    for target, rule in mapping.rules().items():
        columns = [rule.column] if rule.column else \
            [n for _, n, _, _ in string.Formatter().parse(rule.template or "") if n]
        for column in columns:
            if column in header or any(column.startswith(h + ".") for h in header):
                continue
            missing.append(f"{path}: mapping field {target}: no column {column!r} in the header "
                           f"(columns: {', '.join(header)})")
    return missing
