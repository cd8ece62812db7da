"""Column mappings: a team's own export (CSV or JSONL, their column names and formats)
turned into a task's case rows.

A mapping is a small YAML file (``ImportMapping``, JSON Schema exported). Each target
field, named by its dotted path in the task's case model, takes its value from a source
column (a dotted path descends into a nested JSON column or object), a constant, or a
template over several columns, then a parser (money as text, dates in several formats,
free-text labels through a ``labels`` table, JSON, lists). Every problem names the row,
the source column and the target field; the mapped row is then validated by the task's
case model exactly as a native row is.

This module owns the mapping file (its models, loading, schema); _mapping_values.py turns
one source value into a typed field value, _mapping_rows.py a whole source row into a case row.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from evalkit.errors import ConfigError

_FORBID = ConfigDict(extra="forbid")

# Tried in order after ISO 8601; a mapping lists its own when its export is day-first.
DEFAULT_DATE_FORMATS = ("%m/%d/%Y", "%m/%d/%y", "%d %b %Y", "%d %B %Y", "%b %d, %Y", "%B %d, %Y", "%Y/%m/%d",
                        "%d.%m.%Y")
DEFAULT_DATETIME_FORMATS = ("%m/%d/%Y %H:%M", "%m/%d/%Y %I:%M %p", "%Y-%m-%d %H:%M", "%d %b %Y %H:%M",
                            "%b %d, %Y %I:%M %p")

Kind = Literal["str", "int", "float", "bool", "money", "date", "datetime", "json", "list"]

# A currency an export may write its money in: its ISO code and the symbols read as it.
CURRENCY_SYMBOLS = {"USD": ("$", "US$"), "EUR": ("€",), "GBP": ("£",), "JPY": ("¥",), "CAD": ("C$", "CA$"),
                    "AUD": ("A$", "AU$"), "CHF": (), "INR": ("₹",)}

_TEMPLATE_PART = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]|[^{}]+")


def template_parts(template: str) -> list[tuple[str, bool]]:
    """A template as (text, is_column) parts: ``{name}`` is the column ``name`` (dotted names descend as
    for ``column:``), ``{{`` and ``}}`` are literal braces. No format specs, conversions or nested fields:
    ValueError says what is wrong."""
    parts: list[tuple[str, bool]] = []
    for m in _TEMPLATE_PART.finditer(template):
        piece = m.group(0)
        if piece in ("{{", "}}"):
            parts.append((piece[0], False))
        elif piece in ("{", "}"):
            raise ValueError(f"unbalanced {piece!r} in template {template!r} (write {piece * 2!r} for a literal "
                             "brace)")
        elif piece.startswith("{"):
            name = m.group(1)
            if not name.strip():
                raise ValueError(f"empty '{{}}' in template {template!r}: name a column, e.g. '{{Ticket #}}'")
            if name != name.strip():
                raise ValueError(f"column name {name!r} in template {template!r} begins or ends with a space")
            if (bad := next((c for c in "!:" if c in name), None)) is not None:
                raise ValueError(f"'{{{name}}}' in template {template!r}: a template substitutes plain column "
                                 f"names only (no {bad!r}: format specs and conversions are not "
                                 "supported; parse and format with a `column:` rule's `type:` instead)")
            parts.append((name, True))
        else:
            parts.append((piece, False))
    if not any(is_column for _, is_column in parts):
        raise ValueError(f"template {template!r} names no column (use `const:` for a fixed value)")
    return parts


def check_time_formats(formats: list[str] | None) -> list[str] | None:
    """strptime formats, refused when written wrong (else every row fails to parse its dates): one with no
    directive ('dd.mm.yyyy'), or one strptime cannot use ('%d.%m.%Q', '%Y %Y'). Each is tried on a sample it
    formatted itself, which also catches directives strptime refuses to combine ('%G' without '%V')."""
    from datetime import UTC, datetime

    sample = datetime(2001, 2, 3, 4, 5, 6, tzinfo=UTC)  # zoned: '%z' and '%Z' have text to read
    for fmt in formats or ():
        if "%" not in fmt.replace("%%", ""):
            raise ValueError(f"{fmt!r} has no strptime directive: write e.g. '%d.%m.%Y' for 31.12.2025")
        try:
            read = datetime.strptime(sample.strftime(fmt), fmt)
        except (ValueError, re.error) as exc:
            raise ValueError(f"{fmt!r} is not a usable strptime format: {exc}") from None
        if read.year != sample.year:  # no %Y/%y/%G: every date would be read in 1900
            raise ValueError(f"{fmt!r} has no year (%Y, %y or %G): strptime would read every date in 1900")
    return formats


def template_columns(template: str) -> list[str]:
    return [text for text, is_column in template_parts(template) if is_column]


class FieldRule(BaseModel):
    """Where one target field's value comes from, and how it is parsed."""

    model_config = _FORBID
    column: str | None = Field(None, description="Source column; 'a.b' descends into a nested JSON column/object.")
    const: Any = Field(None, description="A constant for every row (instead of a column).")
    template: str | None = Field(None, description=(
        "Text with columns substituted, e.g. '{first} {last}' or '{Customer.name} / {Ticket #}': plain (dotted) "
        "column names only, no format specs; '{{' and '}}' are literal braces."))
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

    @field_validator("labels", mode="before")
    @classmethod
    def _text_keys(cls, labels: Any) -> Any:
        """Label keys are the export's text. A mapping file's keys are read as written (_mapping_yaml.py); a
        whole number from elsewhere is its text, a boolean or other number is ambiguous (which text?)."""
        if not isinstance(labels, dict):
            return labels
        out = {}
        for key, value in labels.items():
            if isinstance(key, bool) or not isinstance(key, (str, int)):
                hint = "'Yes'" if key is True else "'No'" if key is False else repr(str(key))
                raise ValueError(  # noqa: TRY004 - pydantic reports a ValueError as a validation problem
                    f"labels key {key!r} is not text: YAML reads an unquoted yes/no/on/off/true/false as true "
                    f"or false, and 1.50 as a number; quote the label as the export writes it ({hint})")
            out[str(key)] = value
        return out

    _formats = field_validator("formats")(check_time_formats)

    @model_validator(mode="after")
    def _one_source(self) -> FieldRule:
        given = [k for k in ("column", "template") if getattr(self, k) is not None]
        given += ["const"] if "const" in self.model_fields_set else []  # a written `const: null` is one too
        if len(given) > 1:  # else one silently wins (a column over a const)
            raise ValueError(f"give one of column, template or const (got {' and '.join(given)})")
        if not given and self.const is None and self.default is None:
            raise ValueError("give one of column, template or const")
        if self.template is not None:
            template_parts(self.template)
        # `unmapped` speaks of labels missing from `labels`: without a table, or with `default` and
        # no default to give, it would silently do nothing or blank every unknown label
        if "unmapped" in self.model_fields_set and self.unmapped != "error" and self.labels is None:
            raise ValueError(f"unmapped: {self.unmapped} needs `labels` (it says what to do with a label "
                             "missing from them)")
        if self.unmapped == "default" and self.default is None:  # `default: null` would blank them too
            raise ValueError("unmapped: default needs a `default:` value to give unknown labels")
        if "unmapped" in self.model_fields_set and self.unmapped != "error" and self.labels == {}:
            raise ValueError(f"unmapped: {self.unmapped} with empty `labels` maps every label the same way; "
                             "list the labels, or use a const")
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
    currency: Literal["USD", "EUR", "GBP", "JPY", "CAD", "AUD", "CHF", "INR"] = Field("USD", description=(
        "The currency the export's money is in: its code or symbol (USD: '$', 'US$') may be written with an "
        "amount; an amount marked with another currency is a row error (amounts are not converted)."))
    fields: dict[str, FieldRule | str] = Field(description="Target field -> rule, or just a source column name.")
    segment_defaults: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Segment -> {target field: value} for fields a row leaves empty "
                                          "(e.g. required disclosures or who must be involved).")

    _formats = field_validator("date_formats", "datetime_formats")(check_time_formats)

    _source: Path | None = PrivateAttr(None)
    _key_lines: dict[tuple[str, ...], int] = PrivateAttr(default_factory=dict)

    def rules(self) -> dict[str, FieldRule]:
        return {target: as_rule(r) for target, r in self.fields.items()}

    @property
    def file(self) -> str:
        """The mapping file this was read from, for problems (``the mapping`` if none)."""
        return str(self._source) if self._source is not None else "the mapping"

    def at(self, *keys: str) -> str:
        """Where a key of this mapping is written, for problems: ``mapping.yaml:12: fields.account.seats``
        (``mapping fields.account.seats`` for a mapping not read from a file)."""
        if self._source is None:
            return f"mapping {'.'.join(keys)}"
        return f"{_at(self._source, self._key_lines, keys)}: {'.'.join(keys)}"


def _nested_pairs(targets: list[str]) -> list[tuple[str, str]]:
    """(parent, child) of targets where one is a dotted prefix of the other (``request``, ``request.received``)."""
    return [(a, b) for a in targets for b in targets if b.startswith(a + ".")]


def target_clashes(mapping: ImportMapping) -> list[str]:
    """Targets written both whole and by a field inside them, which no row can satisfy (the parent's value is
    not an object the child can go into); each blamed on the mapping's lines. Checked when the mapping is
    loaded: else every row fails (or crashes) the same way."""

    def clash(child_at: str, parent: str, parent_at: str) -> str:
        return (f"{child_at}: conflicts with {parent!r} ({parent_at}): a field and the object it is in cannot "
                f"both be mapped; map {parent!r} whole or its fields one by one")

    problems = []
    fields = list(mapping.fields)
    for parent, child in _nested_pairs(fields):
        problems.append(clash(mapping.at("fields", child), parent, mapping.at("fields", parent)))
    for target, rule in mapping.rules().items():
        for parent, child in _nested_pairs(list(rule.items or ())):
            problems.append(clash(mapping.at("fields", target, "items", child), parent,
                                  mapping.at("fields", target, "items", parent)))
    for segment, defaults in mapping.segment_defaults.items():
        for parent, child in _nested_pairs(list(defaults)):
            problems.append(clash(mapping.at("segment_defaults", segment, child), parent,
                                  mapping.at("segment_defaults", segment, parent)))
        # a default inside a mapped field (a default naming a mapped field's parent only fills what is empty)
        for parent, child in _nested_pairs(fields + list(defaults)):
            if parent in fields and child in defaults and child not in fields:
                problems.append(clash(mapping.at("segment_defaults", segment, child), parent,
                                      mapping.at("fields", parent)))
    return problems


def as_rule(rule: FieldRule | str) -> FieldRule:
    return FieldRule(column=rule) if isinstance(rule, str) else rule


def load_mapping(path: str | Path) -> ImportMapping:
    """Read and check a mapping YAML file; problems name the file, the line and the YAML path."""
    from evalkit import _yaml

    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: mapping file not found")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start}); save the mapping as UTF-8") from None
    from evalkit.dataset._mapping_yaml import labels_as_written

    raw = labels_as_written(_yaml.load_config(text, source=path), text)
    lines = _yaml.key_lines(text)
    try:
        mapping = ImportMapping.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for e in exc.errors():
            if e["loc"][-1:] == ("str",) and isinstance(e.get("input"), dict):
                continue  # a rule written as a mapping: the plain-column-name alternative does not apply
            keys = tuple(str(p) for p in e["loc"] if "[" not in str(p))  # union branches, e.g. function-after[…]
            problems.append(f"{_at(path, lines, keys)}: {'.'.join(keys) or '(top level)'}: {e['msg']}")
        raise ConfigError(f"{path}: invalid mapping\n" + "\n".join(problems)) from None
    mapping._source = path
    mapping._key_lines = lines
    if clashes := target_clashes(mapping):
        raise ConfigError(f"{path}: invalid mapping\n" + "\n".join(clashes))
    return mapping


def _at(path: Path | None, lines: dict[tuple[str, ...], int], keys: tuple[str, ...]) -> str:
    """``FILE:LINE`` of the deepest of ``keys`` the file has (``FILE`` alone if none)."""
    for end in range(len(keys), 0, -1):
        if (line := lines.get(keys[:end])) is not None:
            return f"{path}:{line}"
    return str(path)


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
