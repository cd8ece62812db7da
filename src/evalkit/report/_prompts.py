"""Prompts for drill-downs: the stored template, its diff against the reference, and
the case's prompt re-rendered exactly as the run rendered it.

Re-rendering uses ``evalkit.run.render_case_prompt(run_dir, config, case_id)``: the suite
recorded in the manifest, the template copied into ``run_dir/prompts/``, the task and the
dataset case. When it cannot, the drill-down falls back to a stored prompt or says
"prompt not stored"; a report must never fail because a prompt can't be rebuilt.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from evalkit.report._assemble import Column


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


PromptJob = tuple[str, str, str]
"""(run folder, configuration, case id) whose prompt a drill-down shows."""


def render_prompts(work: tuple[list[PromptJob], frozenset[tuple[str, str]]]) -> tuple[list[str | None], set[tuple[str, str]]]:
    """Each job's prompt re-rendered as its run rendered it (``evalkit.run.render_case_prompt``), None
    where it cannot be; with the (run folder, configuration) pairs that failed, whose later jobs (and
    those in ``skip``) are not tried: a run whose prompts cannot be rebuilt falls back to stored ones."""
    from evalkit.run import render_case_prompt

    jobs, skip = work
    failed: set[tuple[str, str]] = set()
    out: list[str | None] = []
    for run_path, config, case_id in jobs:
        key = (run_path, config)
        if key in skip or key in failed:
            out.append(None)
            continue
        try:
            out.append(_messages_text(render_case_prompt(Path(run_path), config, case_id)))
        except Exception:  # noqa: BLE001 - a report must never fail because a prompt can't be rebuilt
            failed.add(key)
            out.append(None)
    return out, failed


def rendered_prompts(jobs: list[PromptJob], skip: frozenset[tuple[str, str]] = frozenset(),
                     ) -> Callable[[], tuple[list[str | None], set[tuple[str, str]]]]:
    """``render_prompts`` started now; call what it returns for the result. In a forked child when this
    process does not hold the tokenizer (a large run lets go of it once it has planned), so that the
    caller goes on meanwhile: re-rendering counts tokens, and loading the tokenizer here would put
    ~45 MB back into the run's process for a few dozen prompts."""
    from evalkit._forked import ForkedCall
    from evalkit._tokens import encoder_loaded

    if not jobs:
        return lambda: ([], set())
    if encoder_loaded():
        return lambda: render_prompts((jobs, skip))
    return ForkedCall(render_prompts, (jobs, skip)).result
