"""Turn pydantic validation errors into one-line problems: 'where: field a.b.c: reason'."""

from __future__ import annotations

import re

from pydantic import ValidationError

_MAX_INPUT_REPR = 60


def field_path(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or "(row)"


def pydantic_problems(exc: ValidationError, *, where: str) -> list[str]:
    """One problem per error, each naming the location and the dotted field path.

    The offending input is shown when it is a short scalar: it helps find the row in
    a spreadsheet, while whole nested objects would only drown the message.
    """
    problems = []
    for err in exc.errors(include_url=False):
        reason = err["msg"]
        value = err.get("input")
        if err["type"] != "missing" and isinstance(value, (str, int, float, bool)):
            shown = repr(value)
            if len(shown) <= _MAX_INPUT_REPR:
                reason += f" (got {shown})"
        problems.append(f"{where}: field {field_path(tuple(err['loc']))}: {reason}")
    return problems


_SHOWN_ROWS = 3
_GOT = re.compile(r"^(?P<what>.*?)(?: \(got (?P<got>.*)\))?$", re.DOTALL)
_ROW_NUMBER = re.compile(r"^(?P<kind>line|data row) (?P<number>\d+)(?: \(line \d+\))?$")


def row_label(where: str, file: str) -> str:
    """The row part of a problem's ``where`` (``line 4``, ``data row 3 (line 4)``)."""
    return where[len(file) + 1:] if where.startswith(f"{file}:") else where


def grouped_row_problems(file: str, rows: list[tuple[str, list[str]]]) -> list[str]:
    """Every bad row's problems, the same problem in several rows said once with its count and first rows:
    ``f.jsonl: field note: Extra inputs are not permitted (got 'x') in 300 rows (lines 1, 2, 3, …)``.

    ``rows``: (where, problems) of each bad row, in file order, each problem ``'<where>: what'``. A problem
    seen in one row keeps its own form. Problems that differ only in the value shown (``(got …)``) are one
    problem, with the first few values listed."""
    groups: dict[str, tuple[list[str], list[str], list[str]]] = {}  # what -> (wheres, values, original)
    for where, problems in rows:
        for problem in problems:
            detail = problem[len(where) + 2:] if problem.startswith(f"{where}: ") else problem
            match = _GOT.match(detail)
            what, got = (match["what"], match["got"]) if match else (detail, None)
            wheres, values, originals = groups.setdefault(what, ([], [], []))
            if not wheres or wheres[-1] != where:
                wheres.append(where)
                originals.append(problem)
            if got is not None and got not in values:
                values.append(got)
    out = []
    for what, (wheres, values, originals) in groups.items():
        if len(wheres) == 1:
            out.append(originals[0])
            continue
        shown = ", ".join(values[:_SHOWN_ROWS]) + (", …" if len(values) > _SHOWN_ROWS else "")
        got = f" (got {shown})" if values else ""
        out.append(f"{file}: {what}{got} in {len(wheres):,} rows ({_row_list(file, wheres)})")
    return out


def _row_list(file: str, wheres: list[str]) -> str:
    """``lines 1, 2, 3, …`` / ``data rows 1, 2, 3, …`` (the first few rows)."""
    labels = [row_label(w, file) for w in wheres[:_SHOWN_ROWS]]
    matches = [_ROW_NUMBER.match(label) for label in labels]
    more = ", …" if len(wheres) > _SHOWN_ROWS else ""
    if all(matches) and len({m["kind"] for m in matches if m}) == 1:
        return f"{matches[0]['kind']}s " + ", ".join(m["number"] for m in matches if m) + more
    return "; ".join(labels) + more
