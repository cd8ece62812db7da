"""Prompts for drill-downs: the stored template, its diff against the reference, and
the case's prompt re-rendered exactly as the run rendered it.

Re-rendering uses ``evalkit.run.render_case_prompt(run_dir, config, case_id)``: the suite
recorded in the manifest, the template copied into ``run_dir/prompts/``, the task and the
dataset case. When it returns ``None`` the drill-down falls back to a stored prompt or says
"prompt not stored"; a report must never fail because a prompt can't be rebuilt.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from evalkit.report._assemble import Column

Renderer = Callable[[str, str | None], str | None]
"""(case_id, case_json or None) -> prompt text or None."""


def template_path(col: Column) -> Path | None:
    """The config's template as copied into ``run_dir/prompts/``."""
    pdir = col.run.path / "prompts"
    if not pdir.is_dir():
        return None
    candidates = [pdir / f"{col.config}.j2", pdir / f"{col.config}.jinja"]
    if col.meta.prompt:
        candidates.append(pdir / Path(col.meta.prompt).name)
    for p in candidates:
        if p.is_file():
            return p
    files = [p for p in pdir.iterdir() if p.is_file()]
    return files[0] if len(files) == 1 else None


def template_source(col: Column) -> str | None:
    path = template_path(col)
    return path.read_text(encoding="utf-8", errors="replace") if path else None


def template_diff(col: Column, *, max_chars: int = 6000) -> str | None:
    """Unified diff of the template against the reference's; '' when identical, None when unknown."""
    if col.ref is None:
        return None
    a, b = template_source(col.ref), template_source(col)
    if a is None or b is None:
        return None
    diff = "".join(difflib.unified_diff(a.splitlines(keepends=True), b.splitlines(keepends=True),
                                        fromfile=f"{col.ref.label} (reference)", tofile=col.label))
    return diff if len(diff) <= max_chars else diff[:max_chars] + f"\n… ({len(diff) - max_chars} more characters)"


def _messages_text(messages: Any) -> str:
    if isinstance(messages, str):
        return messages
    return "\n\n".join(f"[{m.get('role', '?')}]\n{m.get('content', '')}" if isinstance(m, dict) else str(m)
                       for m in messages)


def prompt_renderer(col: Column) -> Renderer:
    """A function re-rendering this config's prompt for a case (``evalkit.run.render_case_prompt``)."""
    from evalkit.run import render_case_prompt

    def render(case_id: str, _case_json: str | None) -> str | None:
        return _messages_text(render_case_prompt(col.run.path, col.config, case_id))

    return render
