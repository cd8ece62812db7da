"""Describing the variables a task gives prompt templates, from a real prompt context:
types and examples come from the values themselves, so the listing cannot drift."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from evalkit.tasks._task import PromptVariable

EXAMPLE_CHARS = 70


def type_name(value: Any) -> str:
    if isinstance(value, Mapping):
        inner = {type_name(v) for v in value.values()}
        return f"dict[str, {inner.pop() if len(inner) == 1 else 'Any'}]"
    if isinstance(value, (list, tuple)):
        inner = {type_name(v) for v in value}
        return f"list[{inner.pop() if len(inner) == 1 else 'Any' if inner else 'str'}]"
    return type(value).__name__


def example_text(value: Any) -> str:
    if isinstance(value, Mapping):
        text = "{" + ", ".join(f"{k!r}: …" for k in list(value)[:3]) + (", …}" if len(value) > 3 else "}")
    elif isinstance(value, (list, tuple)):
        text = f"[{example_text(value[0])}, …] ({len(value)} items)" if value else "[]"
    else:
        text = str(value)
    text = " ".join(text.split())
    return text if len(text) <= EXAMPLE_CHARS else text[: EXAMPLE_CHARS - 1] + "…"


def describe(variables: Mapping[str, Any], descriptions: Mapping[str, str]) -> list[PromptVariable]:
    """One PromptVariable per template variable; every variable must have a description."""
    undocumented = sorted(set(variables) - set(descriptions))
    if undocumented:
        raise ValueError(f"prompt variables without a description: {', '.join(undocumented)}")
    return [PromptVariable(name=name, type=type_name(variables[name]), description=descriptions[name],
                           example=example_text(variables[name])) for name in variables]


def variables_markdown(task_name: str, variables: Sequence[PromptVariable]) -> str:
    rows = [f"### Task `{task_name}`", "", "| variable | type | meaning | example |", "|---|---|---|---|"]
    rows += [f"| `{v.name}` | `{v.type}` | {v.description} | {v.example.replace('|', '/')} |" for v in variables]
    return "\n".join(rows) + "\n"
