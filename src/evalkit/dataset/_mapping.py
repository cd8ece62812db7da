"""Column mappings: a team's own export (CSV or JSONL, their column names and formats)
turned into a task's case rows.

A mapping is a small YAML file (``ImportMapping``, JSON Schema exported). Each target
field, named by its dotted path in the task's case model, takes its value from a source
column (a dotted path descends into a nested JSON column or object), a constant, or a
template over several columns, then a parser (money as text, dates in several formats,
free-text labels through a ``labels`` table, JSON, lists). Every problem names the row,
the source column and the target field; the mapped row is then validated by the task's
case model exactly as a native row is.
"""

from __future__ import annotations

import json
import re
import string
from collections.abc import Iterator, Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from evalkit.errors import ConfigError

_FORBID = ConfigDict(extra="forbid")

# Tried in order after ISO 8601; a mapping lists its own when its export is day-first.
DEFAULT_DATE_FORMATS = ("%m/%d/%Y", "%m/%d/%y", "%d %b %Y", "%d %B %Y", "%b %d, %Y", "%B %d, %Y", "%Y/%m/%d",
                        "%d.%m.%Y")
DEFAULT_DATETIME_FORMATS = ("%m/%d/%Y %H:%M", "%m/%d/%Y %I:%M %p", "%Y-%m-%d %H:%M", "%d %b %Y %H:%M",
                            "%b %d, %Y %I:%M %p")
_TRUE = {"true", "yes", "y", "1", "t", "x", "checked"}
_FALSE = {"false", "no", "n", "0", "f", ""}
_CURRENCY = re.compile(r"^(?:[A-Z]{3}\s*)?[$€£¥]?\s*|\s*(?:[$€£¥]|\b[A-Z]{3})$")

Kind = Literal["str", "int", "float", "bool", "money", "date", "datetime", "json", "list"]


class FieldRule(BaseModel):
    """Where one target field's value comes from, and how it is parsed."""

    model_config = _FORBID
    column: str | None = Field(None, description="Source column; 'a.b' descends into a nested JSON column/object.")
    const: Any = Field(None, description="A constant for every row (instead of a column).")
    template: str | None = Field(None, description="Python format string over columns, e.g. '{first} {last}'.")
    type: Kind = Field("str", description="How the source text is parsed.")
    labels: dict[str, Any] | None = Field(
        None, description="Free-text label -> value (matched ignoring case, spaces, '-' and '_').")
    unmapped: Literal["error", "keep", "default"] = Field(
        "error", description="A label missing from `labels`: a row error, kept as is, or `default`.")
    default: Any = Field(None, description="Used when the source is blank (and for unmapped='default').")
    split: str = Field(",", description="Separator for type 'list'.")
    formats: list[str] | None = Field(None, description="strptime formats for date/datetime, tried in order.")
    items: dict[str, FieldRule | str] | None = Field(
        None, description="For a list of objects (e.g. a JSON thread): a mapping applied to each element.")

    @model_validator(mode="after")
    def _one_source(self) -> FieldRule:
        given = [k for k in ("column", "template") if getattr(self, k) is not None]
        if len(given) > 1:
            raise ValueError(f"give only one of column/template (got {', '.join(given)})")
        if not given and self.const is None and self.default is None:
            raise ValueError("give one of column, template or const")
        return self


class ImportMapping(BaseModel):
    """A mapping file: target field (dotted path in the case model) -> rule."""

    model_config = _FORBID
    format_version: Literal[1] = Field(1, description="The mapping file format's version.")
    task: str | None = Field(None, description="The task whose case model the rows become (default: the CLI's).")
    catalogue: str | None = Field(None, description=(
        "The team's catalogue and policy file (relative to this mapping file): cases' plan names are checked "
        "against it and the dataset version ships it (see docs/catalogue.md)."))
    date_formats: list[str] = Field(default_factory=lambda: list(DEFAULT_DATE_FORMATS), description=(
        "strptime formats tried in order after ISO 8601 for type 'date' (first match wins)."))
    datetime_formats: list[str] = Field(default_factory=lambda: list(DEFAULT_DATETIME_FORMATS), description=(
        "strptime formats tried in order after ISO 8601 for type 'datetime'."))
    decimal_comma: bool = Field(False, description="Money written as 1.200,50 (comma decimal separator).")
    fields: dict[str, FieldRule | str] = Field(description="Target field -> rule, or just a source column name.")
    segment_defaults: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Segment -> {target field: value} for fields a row leaves empty "
                                          "(e.g. required disclosures or who must be involved).")

    def rules(self) -> dict[str, FieldRule]:
        return {target: _rule(r) for target, r in self.fields.items()}


def _rule(rule: FieldRule | str) -> FieldRule:
    return FieldRule(column=rule) if isinstance(rule, str) else rule


def load_mapping(path: str | Path) -> ImportMapping:
    """Read and check a mapping YAML file; problems name the file and the YAML path."""
    import yaml

    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: mapping file not found")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    try:
        return ImportMapping.model_validate(raw)
    except ValidationError as exc:
        lines = [f"{path}: {'.'.join(str(p) for p in e['loc']) or '(top level)'}: {e['msg']}" for e in exc.errors()]
        raise ConfigError(f"{path}: invalid mapping\n" + "\n".join(lines)) from None


def mapping_json_schema() -> dict[str, Any]:
    return ImportMapping.model_json_schema()


def mapping_rules_markdown() -> str:
    """The table of rule keys in docs/datasets.md, generated from the models (a test keeps it current)."""
    rows = ["| key | default | meaning |", "|---|---|---|"]
    for model in (ImportMapping, FieldRule):
        for name, info in model.model_fields.items():
            default = "(required)" if info.is_required() else \
                repr(info.default_factory() if info.default_factory else info.default)  # type: ignore[call-arg]
            where = "rule" if model is FieldRule else "file"
            rows.append(f"| `{name}` ({where}) | `{default}` | {(info.description or '').replace('|', '/')} |")
    return "\n".join(rows) + "\n"


def label_key(text: Any) -> str:
    """How free-text labels are matched: case, spacing, '-', '_' and '/' do not matter."""
    return re.sub(r"[\s_\-/]+", " ", str(text)).strip().casefold()


class _RowError(ValueError):
    pass


def _lookup(row: Mapping[str, Any], column: str) -> Any:
    """A source value; 'a.b.c' descends into nested objects or JSON text, unless 'a.b.c' is itself a column."""
    if column in row:
        return row[column]
    parts = column.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        head = ".".join(parts[:cut])
        if head not in row:
            continue
        node = row[head]
        for part in parts[cut:]:
            if isinstance(node, str) and node.strip()[:1] in ("{", "["):
                try:
                    node = json.loads(node)
                except json.JSONDecodeError as exc:
                    raise _RowError(f"column {head!r} is not valid JSON: {exc.msg}") from None
            if node is None or node == "":
                return None
            if isinstance(node, list) and part.isdigit():
                node = node[int(part)] if int(part) < len(node) else None
            elif isinstance(node, Mapping):
                node = node.get(part)
            else:
                raise _RowError(f"column {head!r} has no key {part!r} (value is not an object)")
        return node
    raise _RowError(f"no column {column!r} in this row")


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def parse_money(text: Any, *, decimal_comma: bool = False) -> Decimal:
    """'$1,200.00', '1200', 'USD 99.5', '(12.00)' (negative), '1.200,50 €' with decimal_comma."""
    if isinstance(text, (int, Decimal)):
        return Decimal(text)
    if isinstance(text, float):
        return Decimal(str(text))
    s = str(text).strip()
    negative = s.startswith("(") and s.endswith(")")
    s = s.strip("()").strip()
    if s.startswith("-"):
        negative, s = True, s[1:].strip()
    s = _CURRENCY.sub("", s).strip()
    if s.startswith("-"):
        negative, s = True, s[1:].strip()
    s = s.replace(" ", "").replace("\u00a0", "")
    if decimal_comma:
        s = s.replace(".", "").replace(",", ".")
    elif re.fullmatch(r"\d{1,3}(,\d{3})+(\.\d+)?|\d+(\.\d+)?", s):
        s = s.replace(",", "")
    if not re.fullmatch(r"\d+(\.\d+)?", s):
        raise _RowError(f"cannot read {text!r} as an amount of money")
    try:
        value = Decimal(s)
    except InvalidOperation:
        raise _RowError(f"cannot read {text!r} as an amount of money") from None
    return -value if negative else value


def _parse_when(text: Any, formats: list[str], kind: Literal["date", "datetime"]) -> date | datetime:
    if isinstance(text, datetime):
        return text if kind == "datetime" else text.date()
    if isinstance(text, date):
        return text if kind == "date" else datetime(text.year, text.month, text.day)
    s = str(text).strip()
    try:  # ISO 8601 first: unambiguous
        iso = datetime.fromisoformat(s)
        return iso.date() if kind == "date" else iso.replace(tzinfo=None)
    except ValueError:
        pass
    for fmt in formats:
        try:
            parsed = datetime.strptime(s, fmt)
        except ValueError:
            continue
        return parsed.date() if kind == "date" else parsed
    raise _RowError(f"cannot read {text!r} as a {kind} (tried ISO 8601 and {', '.join(formats)})")


def _parse_bool(text: Any) -> bool:
    if isinstance(text, bool):
        return text
    key = str(text).strip().casefold()
    if key in _TRUE:
        return True
    if key in _FALSE:
        return False
    raise _RowError(f"cannot read {text!r} as yes/no")


def _convert(value: Any, rule: FieldRule, mapping: ImportMapping) -> Any:
    kind = rule.type
    if kind == "str":
        return value if isinstance(value, str) else json.dumps(value) if isinstance(value, (dict, list)) else str(value)
    if kind == "int":
        try:
            return int(str(value).replace(",", "").strip())
        except ValueError:
            raise _RowError(f"cannot read {value!r} as a whole number") from None
    if kind == "float":
        try:
            return float(str(value).replace(",", "").strip())
        except ValueError:
            raise _RowError(f"cannot read {value!r} as a number") from None
    if kind == "bool":
        return _parse_bool(value)
    if kind == "money":
        return parse_money(value, decimal_comma=mapping.decimal_comma)
    if kind in ("date", "datetime"):
        formats = rule.formats or (mapping.date_formats if kind == "date" else mapping.datetime_formats)
        return _parse_when(value, formats, kind)  # type: ignore[arg-type]
    if kind == "json":
        if isinstance(value, str):
            try:
                return json.loads(value)
            except json.JSONDecodeError as exc:
                raise _RowError(f"invalid JSON: {exc.msg} (column {exc.colno})") from None
        return value
    if kind == "list":
        if isinstance(value, list):
            return value
        return [part.strip() for part in str(value).split(rule.split) if part.strip()]
    raise _RowError(f"unknown type {kind!r}")  # unreachable: the model restricts it


def _labelled(value: Any, rule: FieldRule, mapping: ImportMapping) -> Any:
    """A free-text label through the rule's table (its values are already typed, as written in YAML)."""
    assert rule.labels is not None
    table = {label_key(k): v for k, v in rule.labels.items()}
    key = label_key(value)
    if key in table:
        return table[key]
    if rule.unmapped == "keep":
        return _convert(value, rule, mapping)
    if rule.unmapped == "default":
        return rule.default
    known = ", ".join(repr(k) for k in rule.labels)
    raise _RowError(f"label {value!r} is not in the mapping's labels ({known})")


def _source_value(row: Mapping[str, Any], rule: FieldRule) -> tuple[Any, str]:
    if rule.column is not None:
        return _lookup(row, rule.column), f"column {rule.column!r}"
    if rule.template is not None:
        names = [name for _, name, _, _ in string.Formatter().parse(rule.template) if name]
        values = {name: _lookup(row, name) for name in names}
        if all(_blank(v) for v in values.values()):
            return None, f"template {rule.template!r}"
        return rule.template.format_map({k: "" if v is None else v for k, v in values.items()}), \
            f"template {rule.template!r}"
    return rule.const, "constant"


def apply_rule(row: Mapping[str, Any], target: str, rule: FieldRule, mapping: ImportMapping) -> Any:
    """One target value from a source row; raises _RowError naming the column and field."""
    value, source = _source_value(row, rule)
    try:
        if _blank(value):
            return rule.default
        if rule.items is not None:
            elements = _convert(value, FieldRule(column="_", type="json"), mapping)
            if not isinstance(elements, list):
                raise _RowError(f"expected a list, got {type(elements).__name__}")
            sub_rules = {k: _rule(r) for k, r in rule.items.items()}
            out = []
            for index, element in enumerate(elements):
                if not isinstance(element, Mapping):
                    raise _RowError(f"element {index} is not an object")
                item: dict[str, Any] = {}
                for sub_target, sub_rule in sub_rules.items():
                    try:
                        _place(item, sub_target, apply_rule(element, sub_target, sub_rule, mapping))
                    except _RowError as exc:
                        raise _RowError(f"element {index}: {exc}") from None
                out.append(item)
            return out
        if rule.labels is not None:
            return _labelled(value, rule, mapping)
        return _convert(value, rule, mapping)
    except _RowError as exc:
        raise _RowError(f"{source} -> field {target}: {exc}") from None


def _place(target: dict[str, Any], dotted: str, value: Any) -> None:
    node = target
    parts = dotted.split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value


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
        except _RowError as exc:
            problems.append(f"{where}: {exc}")
            continue
        if value is not None:
            _place(out, target, _jsonable(value))
    if problems:
        return None, problems
    defaults = mapping.segment_defaults.get(str(out.get("segment")), {}) or mapping.segment_defaults.get("*", {})
    for target, value in defaults.items():
        if not _has(out, target):
            _place(out, target, _jsonable(value))
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
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        header = [h.strip() for h in next(reader, None) or []]
        last_line = reader.line_num
        for number, cells in enumerate(reader, start=1):
            where = f"{path}:data row {number} (line {last_line + 1})"
            last_line = reader.line_num
            if not any(c.strip() for c in cells):
                continue
            if len(cells) > len(header):
                yield where, None, [f"{where}: {len(cells)} cells but the header has {len(header)} columns"]
                continue
            yield where, dict(zip(header, cells)), []


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
