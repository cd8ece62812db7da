"""Extract a structured decision from whatever text a model returned.

Models wrap their JSON in fences, prose, tool-call envelopes or doubly-encoded
strings, and sometimes return garbage or get cut off. Everything here is total:
any input yields a ``ParseResult`` (a decision, or a short machine-readable reason),
never an exception, because an unparseable answer is a *measurement* (invalid-output
rate), not a crash.

Numbers are parsed with ``parse_float=Decimal`` so prices keep every cent exactly
(``19.99`` never becomes ``19.990000000000002``); pydantic's own JSON parser goes
through binary floats, which is why we do not use ``model_validate_json``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ValidationError

# Keys under which tool-call envelopes carry the arguments (OpenAI function calls,
# Anthropic tool_use blocks, generic agents).
_ENVELOPE_KEYS = ("arguments", "input", "parameters", "args", "function", "tool_input",
                  "decision", "result", "output", "response")
_LIST_KEYS = ("tool_calls", "content", "calls")
_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)(?:```|\Z)", re.DOTALL)
# Bound the brace scan so hostile text ("{{{{..." x 1e6) stays linear-ish.
_MAX_BRACE_STARTS = 64
_MAX_DEPTH = 8
_DECODER = json.JSONDecoder(parse_float=Decimal)


@dataclass(kw_only=True, slots=True)
class ParseResult:
    """Outcome of parsing one model output.

    ``decision`` is set iff parsing succeeded (then ``error`` is None). ``error`` is a
    short machine-readable reason: ``empty``, ``no_json``, ``json_syntax``,
    ``json_truncated``, ``not_object`` or ``schema:<field>:<error type>``.
    ``raw_json`` is the JSON object the decision came from (or the best failing
    candidate); its non-integer numbers are ``Decimal``.
    """

    decision: BaseModel | None
    error: str | None
    raw_json: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return self.decision is not None


def parse_decision(text: str | None, model: type[BaseModel]) -> ParseResult:
    """Parse ``text`` into ``model``; the first JSON object that validates wins."""
    try:
        return _parse(text, model)
    except Exception as exc:  # noqa: BLE001 - last-resort guard: garbage must never crash scoring
        return ParseResult(decision=None, error=f"internal:{type(exc).__name__}", raw_json=None)


def _parse(text: str | None, model: type[BaseModel]) -> ParseResult:
    if not isinstance(text, str):
        return ParseResult(decision=None, error="empty")
    stripped = text.strip()
    if not stripped:
        return ParseResult(decision=None, error="empty")
    search = _Search(model=model)
    # 1. The whole text is JSON (structured output, tool arguments); 2. fenced blocks; 3. objects in prose.
    whole, scan_from = _whole_text(search, text, stripped)
    if whole is not None:
        return whole
    hit = _fenced(search, text) or _embedded(search, text, scan_from)
    return hit or _failure(search.best_fail, search.saw_json_value, search.syntax_error)


@dataclass(kw_only=True)
class _Search:
    """What the search for a decision has learnt so far: the closest failure, the syntax error to report."""

    model: type[BaseModel]
    best_fail: tuple[int, str, dict[str, Any]] | None = None  # (n errors, reason, obj)
    syntax_error: str | None = None
    saw_json_value: bool = False
    seen: set[int] = field(default_factory=set)

    def try_objects(self, values: list[Any]) -> ParseResult | None:
        for value in values:
            self.saw_json_value = True
            for obj in _candidate_objects(value, 0):
                if id(obj) in self.seen:
                    continue
                self.seen.add(id(obj))
                decision, n_err, reason = _validate(obj, self.model)
                if decision is not None:
                    return ParseResult(decision=decision, error=None, raw_json=obj)
                if self.best_fail is None or n_err < self.best_fail[0]:
                    self.best_fail = (n_err, reason, obj)
        return None


def _whole_text(search: _Search, text: str, stripped: str) -> tuple[ParseResult | None, int]:
    """The answer when the whole text is JSON, and where the brace scan starts otherwise.
    Prose is not tried (saves a raised exception per answer) and is not a JSON syntax error."""
    scan_from = text.find("{")
    if stripped[0] not in '{["':
        return None, scan_from
    try:
        whole, end = _DECODER.raw_decode(stripped)
    except json.JSONDecodeError as exc:
        search.syntax_error = _syntax_reason(exc, stripped)
        if stripped[0] == "{":
            scan_from = text.find("{", scan_from + 1)  # that start already failed
        return None, scan_from
    except (RecursionError, ValueError):
        search.syntax_error = "json_syntax"
        return None, scan_from
    if end != len(stripped):
        return None, scan_from  # JSON followed by prose: the brace scan decodes it again from its start
    # Valid JSON as a whole: the answer is this value (or an envelope in it); scanning its
    # inside again for braces would only re-find the same objects.
    if type(whole) is dict:  # fast path: structured output that validates
        decision, n_err, reason = _validate(whole, search.model)
        if decision is not None:
            return ParseResult(decision=decision, error=None, raw_json=whole), scan_from
        search.best_fail = (n_err, reason, whole)
        search.seen.add(id(whole))
    return search.try_objects([whole]) or _failure(search.best_fail, True, None), scan_from


def _fenced(search: _Search, text: str) -> ParseResult | None:
    """Fenced blocks, in order (```json first-class, any fence accepted)."""
    for match in _FENCE.finditer(text):
        value, err = _loads(match.group(2).strip())
        if err is None:
            hit = search.try_objects([value])
            if hit:
                return hit
        elif "{" in match.group(2):
            search.syntax_error = search.syntax_error if search.syntax_error == "json_truncated" else err
    return None


def _embedded(search: _Search, text: str, pos: int) -> ParseResult | None:
    """Objects embedded in prose: a real JSON decoder at each '{' handles braces inside
    strings correctly, unlike brace counting."""
    starts = 0
    while pos != -1 and starts < _MAX_BRACE_STARTS:
        starts += 1
        try:
            value, end = _DECODER.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            if search.syntax_error is None or exc.pos >= len(text) - 1:
                search.syntax_error = _syntax_reason(exc, text)
            pos = text.find("{", pos + 1)
            continue
        except (RecursionError, ValueError):
            search.syntax_error = search.syntax_error or "json_syntax"
            pos = text.find("{", pos + 1)
            continue
        hit = search.try_objects([value])
        if hit:
            return hit
        pos = text.find("{", end)  # skip past the whole object: its inner braces are not new objects
    return None


def _failure(best_fail: tuple[int, str, dict[str, Any]] | None, saw_json_value: bool,
             syntax_error: str | None) -> ParseResult:
    if best_fail is not None:
        return ParseResult(decision=None, error=best_fail[1], raw_json=best_fail[2])
    if saw_json_value:
        return ParseResult(decision=None, error="not_object")
    if syntax_error is not None:
        return ParseResult(decision=None, error=syntax_error)
    return ParseResult(decision=None, error="no_json")


def _loads(text: str) -> tuple[Any, str | None]:
    try:
        return _DECODER.decode(text), None
    except json.JSONDecodeError as exc:
        return None, _syntax_reason(exc, text)
    except (RecursionError, ValueError):
        return None, "json_syntax"


def _syntax_reason(exc: json.JSONDecodeError, text: str) -> str:
    # An error at the very end of the text (or a string never closed) means the answer
    # was cut off (max_tokens), which is worth telling apart from malformed JSON.
    if exc.pos >= len(text.rstrip()) or exc.msg.startswith("Unterminated string"):
        return "json_truncated"
    return "json_syntax"


def _candidate_objects(value: Any, depth: int) -> list[dict[str, Any]]:
    """The object itself first, then objects inside tool-call envelopes."""
    out: list[dict[str, Any]] = []
    if depth > _MAX_DEPTH:
        return out
    if isinstance(value, str):
        # Doubly-encoded JSON (OpenAI puts function arguments in a JSON string).
        s = value.strip()
        if s.startswith(("{", "[")):
            inner, err = _loads(s)
            if err is None:
                out.extend(_candidate_objects(inner, depth + 1))
        return out
    if isinstance(value, list):
        for item in value[:16]:
            out.extend(_candidate_objects(item, depth + 1))
        return out
    if isinstance(value, dict):
        out.append(value)
        for key in _ENVELOPE_KEYS:
            if key in value:
                out.extend(_candidate_objects(value[key], depth + 1))
        for key in _LIST_KEYS:
            if isinstance(value.get(key), list):
                out.extend(_candidate_objects(value[key], depth + 1))
    return out


def _validate(obj: dict[str, Any], model: type[BaseModel]) -> tuple[BaseModel | None, int, str]:
    try:
        return model.model_validate(obj), 0, ""
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False)
        first = errors[0] if errors else {"loc": (), "type": "invalid"}
        field = ".".join(str(p) for p in first.get("loc", ())) or "$"
        return None, max(len(errors), 1), f"schema:{field}:{first.get('type', 'invalid')}"
    except Exception as exc:  # noqa: BLE001 - a custom validator raising anything is still invalid output
        return None, 10**6, f"schema:$:{type(exc).__name__}"
