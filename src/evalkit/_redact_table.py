"""Redaction of pyarrow tables (parquet files): the string columns, screened in pyarrow first, with
``evalkit._secrets``' rules."""

from __future__ import annotations

import json
from typing import Any

from evalkit._secrets import DETECT_PATTERN, redact_obj, secret_forms, secret_values


def redact_table(table: Any) -> Any:
    """A pyarrow Table with secrets redacted in every string column (also inside lists).

    Columns are screened in pyarrow first; only rows that may hold a secret go through
    Python, so a clean million-row table costs one vectorised scan per string column."""
    import pyarrow as pa
    import pyarrow.compute as pc

    values = secret_values()
    for i, col_field in enumerate(table.schema):
        col = table.column(i)
        if _holds_strings(col_field.type, pa):
            fixed = _redact_array(col, values, pa, pc)
            if fixed is not None:
                table = table.set_column(i, col_field, fixed)
    return table


def _holds_strings(t: Any, pa: Any) -> bool:
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return True
    if pa.types.is_dictionary(t):
        return _holds_strings(t.value_type, pa)
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_struct(t):
        return any(_holds_strings(t.field(j).type, pa) for j in range(t.num_fields))
    return False


def _flag(text: Any, values: tuple[str, ...], pc: Any) -> Any:
    """Boolean mask of the strings that may hold a secret (a superset; Python decides)."""
    mask = pc.match_substring_regex(text, DETECT_PATTERN)
    for v in secret_forms(values):
        mask = pc.or_(mask, pc.match_substring(text, v))
    return mask


def _redact_array(col: Any, values: tuple[str, ...], pa: Any, pc: Any) -> Any:
    """The redacted column, or None when nothing in it needs redaction."""
    t = col.type
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        mask = _flag(col, values, pc)
    elif (pa.types.is_list(t) or pa.types.is_large_list(t)) and (
            pa.types.is_string(t.value_type) or pa.types.is_large_string(t.value_type)):
        parts = []  # a row is flagged when any of its strings is
        for chunk in col.chunks:
            flat_mask = _flag(pc.list_flatten(chunk), values, pc)
            rows = pc.filter(pc.list_parent_indices(chunk), flat_mask).to_pylist()
            flags = [False] * len(chunk)
            for r in rows:
                flags[r] = True
            parts.append(pa.array(flags, type=pa.bool_()))
        mask = pa.chunked_array(parts, type=pa.bool_())
    else:  # structs, dictionaries, deeper nesting: judge each row's JSON text
        mask = _flag(pa.chunked_array([pa.array([json.dumps(v, default=str) for v in chunk.to_pylist()],
                                                type=pa.string()) for chunk in col.chunks], type=pa.string()),
                     values, pc)
    if not mask.num_chunks or not pc.any(mask).as_py():
        return None
    chunks, offset = [], 0
    for chunk in col.chunks:  # only the flagged rows go through Python
        flags = mask.slice(offset, len(chunk)).to_pylist()
        offset += len(chunk)
        if not any(flags):
            chunks.append(chunk)
            continue
        items = chunk.to_pylist()
        chunks.append(pa.array([redact_obj(v, values=values) if f else v for v, f in zip(items, flags)], type=t))
    return pa.chunked_array(chunks, type=t)
