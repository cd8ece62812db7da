"""The fixed schemas of the parquet tables a run writes (``results.parquet``, ``scores.parquet``).

Every column has an explicit Arrow type that does not depend on the data: a run without
a single failed call still writes ``error_class`` as ``string`` (all null), so every run
of one format version can be read as one dataset (DuckDB ``read_parquet('reports/*/scores.parquet')``,
``pyarrow.dataset``, ``pandas.read_parquet([...])``).

The model's parsed decision is spread into typed ``decision_<field>`` columns. Which
fields and types is the task's business: they are derived from the task's
``decision_model`` (pydantic), or taken from ``task.decision_arrow_fields()`` when the
task defines it. docs/tables.md is generated from this module (``tables_markdown``)
and a test keeps it current.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import json
import types
import typing
from collections.abc import Mapping
from typing import Any

import pyarrow as pa

FORMAT_VERSION = 3
"""Bumped whenever a column is added, removed or retyped. 1 = the untyped tables before this module;
3 = results gained ``finish_reason`` and ``truncated``."""
DECISION_PREFIX = "decision_"
_META_TABLE = b"evalkit.table"
_META_FORMAT = b"evalkit.format"

# (name, type, nullable, meaning)
_Column = tuple[str, pa.DataType, bool, str]

_STR, _I64, _F64, _BOOL = pa.string(), pa.int64(), pa.float64(), pa.bool_()
_USAGE: tuple[_Column, ...] = (
    ("input_tokens", _I64, True, "input tokens including cached ones (null = not reported)"),
    ("output_tokens", _I64, True, "output tokens (null = not reported)"),
    ("cached_tokens", _I64, True, "input tokens read from the provider's prompt cache"),
    ("reasoning_tokens", _I64, True, "hidden reasoning tokens, part of output_tokens"),
)

RESULTS_COLUMNS: tuple[_Column, ...] = (
    ("run_id", _STR, False, "the run folder's name"),
    ("config", _STR, False, "configuration name from the suite"),
    ("case_id", _STR, False, "dataset case"),
    ("sample_index", _I64, False, "0 for the main answer, 1..k-1 for self-consistency samples"),
    ("status", _STR, False, "`ok` (an answer came back) or `failed` (no answer after retries)"),
    ("raw_output", _STR, True, "the model's answer text, untouched (null when the call failed)"),
    ("model_version", _STR, True, "the model id the provider says answered"),
    ("finish_reason", _STR, True, "why the answer ended, in the provider's words: `stop`, `length`, `end_turn`, ..."),
    ("truncated", _BOOL, False, "the answer was cut at max_tokens (finish_reason `length` or `max_tokens`)"),
    ("error_class", _STR, True, "why the call failed: rate_limited, timeout, server_error, ... (null when ok)"),
    ("error_message", _STR, True, "the provider's error message (secrets redacted; null when ok)"),
    ("attempts", _I64, False, "provider attempts made (0 for a cache hit)"),
    *_USAGE,
    ("cost_usd", _F64, True, "USD spent in this run, over every billed attempt (0 for a cache hit; null = unknown)"),
    ("nominal_cost_usd", _F64, True, "USD the answer cost when it was bought (null = unknown)"),
    ("cache_hit", _BOOL, False, "served from the response cache"),
    ("latency_s", _F64, True, "wall time of the call including retries"),
    ("cache_key", _STR, False, "sha256 of the request (the response-cache key)"),
    ("execution", _STR, False, "`direct` (one request per call) or `batch` (provider batch API at batch prices)"),
)

SCORES_COLUMNS: tuple[_Column, ...] = (
    ("run_id", _STR, False, "the run folder's name"),
    ("config", _STR, False, "configuration name from the suite"),
    ("case_id", _STR, False, "dataset case"),
    ("segment", _STR, False, "edge-case family of the case"),
    ("variant", _STR, False, "the case generator's variant within the segment"),
    ("status", _STR, False, "`ok` (valid decision), `invalid` (unparseable output) or `failed` (call failed)"),
    ("invalid_reason", _STR, True, "why the output was invalid or the call failed"),
    ("action", _STR, True, "the model's action (null when invalid or failed)"),
    ("expected_action", _STR, False, "the reviewed decision's action"),
    ("deferred", _BOOL, False, "the model escalated to a human"),
    ("correct", _BOOL, False, "decision fields match the reviewed decision or an accepted alternative"),
    ("good", _BOOL, False, "correct and the handling fits the context"),
    ("wrong_fields", pa.list_(_STR), False, "decision fields that differ from the closest accepted decision"),
    ("reasons", pa.list_(_STR), False, "machine-readable failure reasons"),
    ("confidence", _F64, True, "the configuration's chosen confidence signal in [0, 1]"),
    ("confidence_stated", _F64, True, "confidence the model stated"),
    ("confidence_logprob", _F64, True, "probability of the chosen action's tokens"),
    ("confidence_consistency", _F64, True, "agreement of self-consistency samples with the main answer"),
    *_USAGE,
    ("cost_usd", _F64, True, "nominal USD over the case's billed attempts (null = unknown, never 0)"),
    ("total_tokens", _I64, True, "input + output tokens"),
    ("history_turns_total", _I64, False, "turns in the case's history"),
    ("history_turns_included", _I64, False, "turns the context policy put in the prompt"),
    ("history_tokens", _I64, False, "tokens of the included history"),
    ("retrieved_tokens", _I64, False, "tokens of the passages a retrieval context policy added (0 without)"),
    ("retrieved_ids", pa.list_(_STR), False, "corpus ids of those passages, in rank order"),
    ("deciding_turn_from_end", _I64, True, "most-recent turns needed to include the deciding fact"),
    ("cache_hit", _BOOL, False, "every call of the case came from the response cache"),
    ("attempts", _I64, False, "provider attempts for the case"),
    ("error_class", _STR, True, "why the main call failed (null when it did not)"),
    ("error_message", _STR, True, "the main call's error message (null when it did not fail)"),
    ("human_good", _BOOL, True, "a human reviewer's good/not-good label, when the dataset has one"),
    ("judge_good", _BOOL, True, "LLM judge verdict, when a judge is configured"),
    ("judge_reason", _STR, True, "the judge's reason"),
    ("simulated", _BOOL, False, "produced by a simulated provider"),
    ("execution", _STR, False, "`direct` or `batch`"),
)


# -- decision columns --------------------------------------------------------------

def _strip_optional(annotation: Any, metadata: list[Any]) -> Any:
    """The annotation without ``None`` alternatives and ``Annotated`` wrappers (their metadata collected)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        inner, *extra = typing.get_args(annotation)
        for item in extra:  # Field(max_digits=..) inside Annotated arrives as a FieldInfo
            metadata.extend(getattr(item, "metadata", None) or [item])
        return _strip_optional(inner, metadata)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return _strip_optional(args[0], metadata)
    return annotation


def _decimal_type(metadata: list[Any]) -> pa.DataType:
    digits = places = None
    for m in metadata:
        digits = getattr(m, "max_digits", None) or digits
        places = getattr(m, "decimal_places", None) if getattr(m, "decimal_places", None) is not None else places
    if digits is not None and places is not None and digits <= 38:
        return pa.decimal128(digits, places)
    return _STR  # precision unknown: text is lossless


def arrow_type_for(annotation: Any, metadata: list[Any] | None = None) -> pa.DataType:
    """Arrow type of one pydantic field annotation. Nested models and mappings are JSON text."""
    from pydantic import BaseModel

    metadata = list(metadata or [])
    ann = _strip_optional(annotation, metadata)
    origin = typing.get_origin(ann)
    if origin is typing.Literal:
        values = typing.get_args(ann)
        if all(isinstance(v, bool) for v in values):
            return _BOOL
        if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            return _I64
        return _STR
    if origin in (list, tuple, set, frozenset):
        args = [a for a in typing.get_args(ann) if a is not Ellipsis]
        return pa.list_(arrow_type_for(args[0]) if len(args) == 1 else _STR)
    if not isinstance(ann, type):
        return _STR
    if issubclass(ann, bool):
        return _BOOL
    if issubclass(ann, enum.Enum):
        return _STR
    if issubclass(ann, int):
        return _I64
    if issubclass(ann, float):
        return _F64
    if issubclass(ann, decimal.Decimal):
        return _decimal_type(metadata)
    if issubclass(ann, dt.datetime):
        return pa.timestamp("us", tz="UTC")
    if issubclass(ann, dt.date):
        return pa.date32()
    if issubclass(ann, str):
        return _STR
    if issubclass(ann, BaseModel):
        return _STR
    return _STR


def decision_fields(task: Any) -> list[tuple[str, pa.DataType, str]]:
    """(field, arrow type, description) of the task's decision, in declaration order."""
    custom = getattr(task, "decision_arrow_fields", None)
    if callable(custom):
        return [(name, typ, desc) for name, typ, desc in custom()]
    model = task.decision_model
    return [(name, arrow_type_for(info.annotation, list(info.metadata)), info.description or "")
            for name, info in model.model_fields.items()]


def decision_row(fields: list[tuple[str, pa.DataType, str]], decision: Mapping[str, Any] | None) -> dict[str, Any]:
    """``decision_<field>`` values of one parsed decision (all null when there is none)."""
    out: dict[str, Any] = {}
    for name, typ, _ in fields:
        value = None if decision is None else decision.get(name)
        if value is not None and typ == _STR and not isinstance(value, str):
            value = _as_text(value)
        elif value is not None and isinstance(value, enum.Enum):
            value = value.value
        out[DECISION_PREFIX + name] = value
    return out


def _as_text(value: Any) -> str:
    if isinstance(value, enum.Enum):
        return str(value.value)
    if hasattr(value, "model_dump_json"):
        return value.model_dump_json()
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, default=str, sort_keys=True)
    return str(value)


# -- schemas -----------------------------------------------------------------------

def _schema(table: str, columns: list[_Column]) -> pa.Schema:
    fields = [pa.field(name, typ, nullable=nullable, metadata={"description": desc})
              for name, typ, nullable, desc in columns]
    return pa.schema(fields, metadata={_META_TABLE: table.encode(), _META_FORMAT: str(FORMAT_VERSION).encode()})


def results_schema() -> pa.Schema:
    return _schema("results", list(RESULTS_COLUMNS))


def scores_schema(task: Any | None = None) -> pa.Schema:
    """The scores table's schema; with a task, its ``decision_<field>`` columns follow the fixed ones."""
    decision = [] if task is None else [
        (DECISION_PREFIX + name, typ, True, f"parsed decision field `{name}`" + (f": {desc}" if desc else ""))
        for name, typ, desc in decision_fields(task)]
    return _schema("scores", [*SCORES_COLUMNS, *decision])


def to_arrow(frame: Any, schema: pa.Schema, *, where: str) -> pa.Table:
    """A DataFrame as a table of exactly ``schema`` (a column missing from either side is a bug: raise)."""
    from evalkit.errors import DataError

    names = list(schema.names)
    extra = [c for c in frame.columns if c not in names]
    missing = [c for c in names if c not in frame.columns]
    if extra or missing:
        raise DataError(f"{where}: table does not match its declared schema (format {FORMAT_VERSION}): "
                        f"undeclared columns {extra}, missing columns {missing}; "
                        "declare new columns in evalkit/run/_table_schemas.py")
    try:
        return pa.Table.from_pandas(frame[names], schema=schema, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise DataError(f"{where}: a value does not fit its declared column type: {exc}") from exc


def table_format(schema: pa.Schema) -> tuple[str | None, int | None]:
    """(table name, format version) recorded in a parquet file's schema metadata."""
    meta = schema.metadata or {}
    fmt = meta.get(_META_FORMAT)
    table = meta.get(_META_TABLE)
    return (table.decode() if table else None, int(fmt) if fmt else None)


# -- docs --------------------------------------------------------------------------

def _type_name(typ: pa.DataType) -> str:
    return str(typ).replace("<item: ", "<").replace("large_", "")


def _table_md(schema: pa.Schema) -> list[str]:
    out = ["| column | type | null | meaning |", "|---|---|---|---|"]
    for f in schema:
        desc = (f.metadata or {}).get(b"description", b"").decode()
        out.append(f"| `{f.name}` | {_type_name(f.type)} | {'yes' if f.nullable else 'no'} | {desc} |")
    return out


def tables_markdown() -> str:
    """docs/tables.md: the run tables' schemas, generated from this module."""
    from evalkit.tasks import DEFAULT_TASK, get_task

    task = get_task(DEFAULT_TASK)
    decision = decision_fields(task)
    lines = [
        "# Run tables", "",
        "<!-- generated by evalkit.run._table_schemas.tables_markdown(); do not edit by hand -->", "",
        (f"Every run folder holds two parquet tables with a fixed schema (format version {FORMAT_VERSION}, "
        "recorded in each file's schema metadata as `evalkit.format`). Types never depend on the data: a "
        "column that is null in one run has the same type as in a run where it is filled, so all runs under "
        "`reports/` read as one dataset:"), "",
        "```sql",
        "-- DuckDB (also: evalkit runs query \"...\" with views runs, scores, results)",
        "CREATE VIEW scores AS SELECT * FROM read_parquet('reports/*/scores.parquet', union_by_name=true);",
        "SELECT config, segment, avg(good::INT) FROM scores GROUP BY ALL;",
        "```", "",
        "```python",
        "import glob",
        "",
        "import pandas as pd",
        "import pyarrow.dataset as ds",
        "",
        "files = sorted(glob.glob('reports/*/scores.parquet'))  # one table: never the folder itself",
        "scores = ds.dataset(files, format='parquet').to_table()  # pyarrow",
        "frame = pd.read_parquet(files)  # pandas",
        "```", "",
        ("Name the table's files (`*/scores.parquet` or `*/results.parquet`), never the reports folder: "
        "`ds.dataset('reports', format='parquet')` reads every parquet file under it, both tables, and unions "
        "them under the schema of whichever file comes first, without an error. "
        "Readers should select columns by name: a later format version may add columns; runs of different "
        "format versions combine with DuckDB's `union_by_name=true`. A copy of a run inside the reports folder "
        "(a baseline blessed there) repeats its run's rows; `evalkit runs query` leaves it out."), "",
        "## `results.parquet`: one row per call (case x configuration x sample)", "",
        *_table_md(results_schema()), "",
        "## `scores.parquet`: one row per case x configuration (the tidy table)", "",
        *_table_md(_schema("scores", list(SCORES_COLUMNS))), "",
        "### Decision columns", "",
        ("After the fixed columns come the model's parsed decision, one typed column per field the task "
        "declares, named `decision_<field>` (null when the output was invalid or the call failed). The task "
        "decides the fields (its `decision_model`, or `decision_arrow_fields()`): pydantic types map to "
        "Arrow as `str`/`Literal` -> string, `int` -> int64, `float` -> double, `bool` -> bool, `Decimal` "
        "with `max_digits`/`decimal_places` -> decimal128(p, s), `date` -> date32, `datetime` -> "
        f"timestamp[us, UTC], lists -> list, nested models -> JSON text. For the built-in `{task.name}` task:"), "",
        "| column | type | meaning |", "|---|---|---|",
        *[f"| `{DECISION_PREFIX}{name}` | {_type_name(typ)} | {desc} |" for name, typ, desc in decision], "",
    ]
    return "\n".join(lines)
