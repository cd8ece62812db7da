"""One mapped value: a source column (or template, or constant) of a team's export read
through a mapping rule into a typed field value (money as text, dates in several formats,
yes/no, JSON, lists, free-text labels). Problems are RowErrors naming the column and field."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from evalkit.dataset._mapping import FieldRule, ImportMapping, as_rule, template_parts

_TRUE = {"true", "yes", "y", "1", "t", "x", "checked"}
_FALSE = {"false", "no", "n", "0", "f", ""}


def label_key(text: Any) -> str:
    """How free-text labels are matched: case, spacing, '-', '_' and '/' do not matter."""
    return re.sub(r"[\s_\-/]+", " ", str(text)).strip().casefold()


class RowError(ValueError):
    pass


def _lookup(row: Mapping[str, Any], column: str, *, optional: bool = False) -> Any:
    """A source value; 'a.b.c' descends into nested objects or JSON text, unless 'a.b.c' is itself a column.
    A column the row lacks is a RowError, or None (blank) when ``optional`` (the rule declares a default)."""
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
                    raise RowError(f"column {head!r} is not valid JSON: {exc.msg}") from None
            if node is None or node == "":
                return None
            if isinstance(node, list) and part.isdigit():
                node = node[int(part)] if int(part) < len(node) else None
            elif isinstance(node, Mapping):
                node = node.get(part)
            else:
                raise RowError(f"column {head!r} has no key {part!r} (value is not an object)")
        return node
    if optional:
        return None
    raise RowError(f"no column {column!r} in this row")


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


# An amount as an export writes it: a sign, a currency code or symbol before or after the number.
_SYMBOL = r"US\$|CA\$|AU\$|[CA]\$|[$€£¥₹¢₩₽₺₪₫₱]"
_MONEY = re.compile(rf"(?P<sign1>[-+−])?\s*(?P<cur1>{_SYMBOL}|[A-Za-z]{{3}}(?![A-Za-z]))?\s*(?P<sign2>[-+−])?\s*"
                    rf"(?P<number>\d[\d.,\s]*?)\s*(?P<cur2>{_SYMBOL}|(?<![A-Za-z])[A-Za-z]{{3}})?")
_SPACES = re.compile(r"[\s\u00a0\u202f\u2009]")
_POINT_NUMBER = re.compile(r"\d{1,3}(,\d{3})+(\.\d+)?|\d{1,3}( \d{3})+(\.\d+)?|\d+(\.\d+)?")
_COMMA_NUMBER = re.compile(r"\d{1,3}(\.\d{3})+(,\d+)?|\d{1,3}( \d{3})+(,\d+)?|\d+(,\d+)?")


# Numbers as exports write them: ASCII digits, ',' only between groups of three ('1,000', not '1,0' or '3,00',
# which Python's int() would read as 10 and 300 once the commas are dropped), no '_' (int() takes '1_000').
_INT = re.compile(r"[+-]?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)")
_FLOAT = re.compile(r"[+-]?(?:(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def _non_ascii_digit(text: str) -> str:
    """Why ``text`` is refused if it holds a digit other than 0-9 ('１２', '٣٠'), which int(), float() and
    Decimal() would all read: an export's numbers are ASCII, anything else is a sign of mangled data."""
    digit = next((c for c in text if c.isdigit() and not c.isascii()), None)
    return f"digits must be 0-9 (found {digit!r})" if digit is not None else ""


def _number(value: Any, kind: Literal["int", "float"]) -> int | float:
    what = "a whole number" if kind == "int" else "a number"
    if isinstance(value, bool):  # a JSON true is an int to Python: it is not 1
        raise RowError(f"cannot read {value!r} (true/false) as {what}")
    if isinstance(value, int) or (kind == "float" and isinstance(value, float)):
        return value if kind == "int" else float(value)
    s = str(value).strip()
    pattern = _INT if kind == "int" else _FLOAT
    if not pattern.fullmatch(s):
        misplaced = "," in s and pattern.fullmatch(s.replace(",", ""))
        why = _non_ascii_digit(s) or ("',' separates thousands only, between groups of three digits ('1,000')"
                                      if misplaced else "")
        raise RowError(f"cannot read {value!r} as {what}{': ' + why if why else ''}")
    s = s.replace(",", "")
    return int(s) if kind == "int" else float(s)


def parse_money(text: Any, *, decimal_comma: bool = False, currency: str = "USD") -> Decimal:
    """'$1,200.00', '1200', 'USD 99.5', '-$3.10', '(12.00)' (negative), '1 200.00' (a space between groups
    of three digits), '1.200,50 €' with decimal_comma and currency EUR.

    Refused: unbalanced parentheses, two signs ('--5', '(-5)'), digits split by spaces other than groups of
    three ('12 34'), and an amount marked with a currency other than ``currency`` (its ISO code, or a
    symbol of it: USD '$'/'US$', EUR '€', GBP '£', JPY '¥' …): amounts are not converted.
    Negative amounts are read as negative; whether a field may be negative is the case model's to say."""
    from evalkit.dataset._mapping import CURRENCY_SYMBOLS

    if isinstance(text, bool):  # a JSON true is an int to Python: it is not $1
        raise RowError(f"cannot read {text!r} (true/false) as an amount of money")
    if isinstance(text, (int, Decimal)):
        return Decimal(text)
    if isinstance(text, float):
        return Decimal(str(text))

    def refuse(why: str = "") -> RowError:
        return RowError(f"cannot read {text!r} as an amount of money{': ' + why if why else ''}")

    if why := _non_ascii_digit(str(text)):
        raise refuse(why)
    s = _SPACES.sub(" ", str(text)).strip()
    negative = False
    if s.startswith("(") or s.endswith(")"):
        if not (s.startswith("(") and s.endswith(")")) or s.count("(") != 1 or s.count(")") != 1:
            raise refuse("unbalanced parenthesis")
        negative, s = True, s[1:-1].strip()
    m = _MONEY.fullmatch(s)
    if m is None:
        raise refuse()
    signs = [g for g in (m["sign1"], m["sign2"]) if g]
    if len(signs) + negative > 1:
        raise refuse("more than one sign")
    if signs and signs[0] in "-−":
        negative = True
    marks = [g for g in (m["cur1"], m["cur2"]) if g]
    if len(marks) > 1:
        raise refuse("more than one currency mark")
    for mark in marks:
        if mark.upper() != currency and mark not in CURRENCY_SYMBOLS.get(currency, ()):
            raise refuse(f"the amount is marked {mark!r} but the mapping's currency is {currency} "
                         "(amounts are not converted; set `currency:` in the mapping if the whole export is in "
                         "another currency)")
    number = m["number"]
    if not (_COMMA_NUMBER if decimal_comma else _POINT_NUMBER).fullmatch(number):
        raise refuse("digits separated by spaces (a space separates thousands only between groups of three "
                     "digits: '1 200.00')" if " " in number else "")
    number = number.replace(" ", "")
    number = number.replace(".", "").replace(",", ".") if decimal_comma else number.replace(",", "")
    try:
        value = Decimal(number)
    except InvalidOperation:
        raise refuse() from None
    return -value if negative else value


def _utc(moment: datetime) -> datetime:
    """Times are stored without a zone (UTC); one written with an offset is converted to UTC first: dropping
    the offset alone would move '10:00+02:00' to 10:00 UTC. A time without an offset is kept as written."""
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo is not None else moment


def _parse_when(text: Any, formats: list[str], kind: Literal["date", "datetime"]) -> date | datetime:
    if isinstance(text, datetime):  # a date keeps the day the export wrote (not the UTC day)
        return _utc(text) if kind == "datetime" else text.date()
    if isinstance(text, date):
        return text if kind == "date" else datetime(text.year, text.month, text.day)
    s = str(text).strip()
    try:  # ISO 8601 first: unambiguous
        iso = datetime.fromisoformat(s)
        return iso.date() if kind == "date" else _utc(iso)
    except ValueError:
        pass
    for fmt in formats:
        try:
            parsed = datetime.strptime(s, fmt)
        except ValueError:
            continue
        return parsed.date() if kind == "date" else _utc(parsed)  # a format with %z gives an offset too
    raise RowError(f"cannot read {text!r} as a {kind} (tried ISO 8601 and {', '.join(formats)})")


def _parse_bool(text: Any) -> bool:
    if isinstance(text, bool):
        return text
    key = str(text).strip().casefold()
    if key in _TRUE:
        return True
    if key in _FALSE:
        return False
    raise RowError(f"cannot read {text!r} as yes/no")


def _convert(value: Any, rule: FieldRule, mapping: ImportMapping) -> Any:
    kind = rule.type
    if kind == "str":
        return value if isinstance(value, str) else json.dumps(value) if isinstance(value, (dict, list)) else str(value)
    if kind in ("int", "float"):
        return _number(value, kind)  # type: ignore[arg-type]
    if kind == "bool":
        return _parse_bool(value)
    if kind == "money":
        return parse_money(value, decimal_comma=mapping.decimal_comma, currency=mapping.currency)
    if kind in ("date", "datetime"):
        formats = rule.formats or (mapping.date_formats if kind == "date" else mapping.datetime_formats)
        return _parse_when(value, formats, kind)  # type: ignore[arg-type]
    if kind == "json":
        if isinstance(value, str):
            try:
                return json.loads(value)
            except json.JSONDecodeError as exc:
                raise RowError(f"invalid JSON: {exc.msg} (column {exc.colno})") from None
        return value
    if kind == "list":
        if isinstance(value, list):
            return value
        return [part.strip() for part in str(value).split(rule.split) if part.strip()]
    raise RowError(f"unknown type {kind!r}")  # unreachable: the model restricts it


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
    raise RowError(f"label {value!r} is not in the mapping's labels ({known})")


def _text(value: Any) -> str:
    if value is None:
        return ""
    return json.dumps(value) if isinstance(value, (dict, list)) else str(value)


def _source_value(row: Mapping[str, Any], rule: FieldRule) -> tuple[Any, str]:
    # A rule that declares a default takes it for a key the row lacks (a JSON line may leave keys out).
    optional = "default" in rule.model_fields_set
    if rule.column is not None:
        return _lookup(row, rule.column, optional=optional), f"column {rule.column!r}"
    if rule.template is not None:
        parts = [(text, _lookup(row, text, optional=optional) if is_column else None, is_column)
                 for text, is_column in template_parts(rule.template)]
        if all(_blank(value) for _, value, is_column in parts if is_column):
            return None, f"template {rule.template!r}"
        return "".join(_text(value) if is_column else text for text, value, is_column in parts), \
            f"template {rule.template!r}"
    return rule.const, "constant"


def apply_rule(row: Mapping[str, Any], target: str, rule: FieldRule, mapping: ImportMapping) -> Any:
    """One target value from a source row; raises RowError naming the column and field."""
    source = f"column {rule.column!r}" if rule.column is not None else \
        f"template {rule.template!r}" if rule.template is not None else "constant"
    try:
        value, _ = _source_value(row, rule)
        if _blank(value):
            return rule.default
        if rule.items is not None:
            elements = _convert(value, FieldRule(column="_", type="json"), mapping)
            if not isinstance(elements, list):
                raise RowError(f"expected a list, got {type(elements).__name__}")
            sub_rules = {k: as_rule(r) for k, r in rule.items.items()}
            out = []
            for index, element in enumerate(elements):
                if not isinstance(element, Mapping):
                    raise RowError(f"element {index} is not an object")
                item: dict[str, Any] = {}
                for sub_target, sub_rule in sub_rules.items():
                    try:
                        place(item, sub_target, apply_rule(element, sub_target, sub_rule, mapping))
                    except RowError as exc:
                        raise RowError(f"element {index}: {exc}") from None
                out.append(item)
            return out
        if rule.labels is not None:
            return _labelled(value, rule, mapping)
        return _convert(value, rule, mapping)
    except RowError as exc:
        raise RowError(f"{source} -> field {target}: {exc}") from None


def place(target: dict[str, Any], dotted: str, value: Any) -> None:
    node = target
    parts = dotted.split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value
