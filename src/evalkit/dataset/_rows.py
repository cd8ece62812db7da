"""Checking case rows against a task's case model, collecting every problem."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from evalkit.dataset._problems import pydantic_problems
from evalkit.errors import ConfigError

if TYPE_CHECKING:
    import pyarrow as pa

    from evalkit.tasks import Task

IDENTITY_FIELDS = ("case_id", "segment", "variant")


def resolve_task(task: Task | str | None, fallback: str | None = None) -> Task:
    """A Task object as given, or loaded by name through the ``evalkit.tasks`` entry points."""
    if task is None:
        task = fallback
    if task is None:
        raise ConfigError("no task given and none recorded in the manifest")
    if isinstance(task, str):
        import evalkit.tasks  # looked up at call time so tests can substitute a registry

        return evalkit.tasks.get_task(task)
    return task


def identity_problems(case: BaseModel, where: str) -> list[str]:
    """The three columns every case needs as non-empty strings (the store indexes by them) without
    leading or trailing whitespace: ids are compared exactly, so 'NB-0011 ' would be another case than
    'NB-0011' (and a segment ' promotion' another segment), which no one means."""
    problems = []
    for name in IDENTITY_FIELDS:
        value = getattr(case, name, None)
        if not isinstance(value, str) or not value:
            problems.append(f"{where}: field {name}: must be a non-empty string (got {value!r})")
        elif value != value.strip():
            problems.append(f"{where}: field {name}: must not begin or end with whitespace ({name}s are "
                            f"compared exactly) (got {value!r})")
    return problems


def validation_context(task: Task) -> dict[str, Any] | None:
    """The pydantic validation context ``task``'s case model checks names against (its catalogue), if any."""
    context = getattr(task, "validation_context", None)
    return dict(context) if context else None


def coerce_case(case: Any, case_model: type[BaseModel], where: str,
                context: dict[str, Any] | None = None) -> tuple[BaseModel | None, list[str]]:
    """``case`` as an instance of ``case_model`` (validating dicts and foreign models), or problems.
    ``context``: the task's validation context; an instance is validated again when one is given."""
    try:
        if not isinstance(case, case_model) or context is not None:
            data = case.model_dump() if isinstance(case, BaseModel) else case
            if not isinstance(data, Mapping):
                return None, [f"{where}: expected an object, got {type(case).__name__}"]
            case = case_model.model_validate(data, context=context)
    except ValidationError as exc:
        return None, pydantic_problems(exc, where=where)
    problems = identity_problems(case, where)
    return (None if problems else case), problems


def validate_table(table: pa.Table, case_model: type[BaseModel], where: str,
                   context: dict[str, Any] | None = None,
                   rows: Sequence[int] | None = None) -> tuple[list[BaseModel], list[str]]:
    """Validate the stored rows (all, or the ``rows`` given, in that order); problems read
    '<file>:row N (case_id X): field a.b: reason'.

    The case JSON becomes Python text a slice at a time: the whole column at once held every case's
    text twice over (the strings and their arrow copy) while the models were built."""
    cases: list[BaseModel] = []
    problems: list[str] = []
    ids = table.column("case_id").to_pylist()
    segments = table.column("segment").to_pylist()
    variants = table.column("variant").to_pylist()
    texts = table.column("case_json")
    picked = list(range(table.num_rows) if rows is None else rows)
    first_row: dict[str, int] = {}
    for start in range(0, len(picked), _SLICE_ROWS):
        part = picked[start:start + _SLICE_ROWS]
        for i, text in zip(part, texts.take(part).to_pylist()):
            row_where = f"{where}:row {i + 1} (case_id {ids[i]})"
            if ids[i] in first_row:
                problems.append(f"{row_where}: field case_id: duplicate case_id (first on row {first_row[ids[i]]})")
            first_row.setdefault(ids[i], i + 1)
            try:
                case = case_model.model_validate_json(text or "", context=context)
            except ValidationError as exc:
                problems.extend(pydantic_problems(exc, where=row_where))
                continue
            for name, column_value in zip(IDENTITY_FIELDS, (ids[i], segments[i], variants[i])):
                if getattr(case, name, None) != column_value:
                    problems.append(f"{row_where}: field {name}: column says {column_value!r} "
                                    f"but case_json says {getattr(case, name, None)!r}")
            cases.append(case)
    return cases, problems


_SLICE_ROWS = 256
"""Case texts decoded at a time while validating (a long-context case is ~10 KB to ~1 MB of JSON)."""


def count_problems(table: pa.Table, manifest_counts: Mapping[str, Mapping[str, int]], where: str) -> list[str]:
    """The manifest's per-segment/per-variant counts must match the table."""
    problems = []
    for column, expected in manifest_counts.items():
        actual = dict(Counter(table.column(column).to_pylist()))
        if actual != dict(expected):
            problems.append(f"{where}: {column}_counts {dict(sorted(expected.items()))} "
                            f"do not match the table {dict(sorted(actual.items()))}")
    return problems
