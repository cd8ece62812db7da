"""Turn pydantic validation errors into one-line problems: 'where: field a.b.c: reason'."""

from __future__ import annotations

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
