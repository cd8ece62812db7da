"""Rendering prompt templates (Jinja2). A template may define ``system`` and ``user``
blocks; otherwise its whole text is the user message. A configuration's prompt
version is the sha256 of its template source (and of any template it includes)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evalkit.errors import ConfigError


@dataclass(frozen=True, kw_only=True)
class PromptTemplate:
    path: Path
    source: str
    version: str
    template: Any

    def render(self, variables: dict[str, Any]) -> list[dict[str, str]]:
        import jinja2

        try:
            if "user" in self.template.blocks:
                ctx = self.template.new_context(variables)
                messages = []
                for role in ("system", "user"):
                    if role in self.template.blocks:
                        text = "".join(self.template.blocks[role](ctx)).strip()
                        if text:
                            messages.append({"role": role, "content": text})
                return messages
            return [{"role": "user", "content": self.template.render(variables).strip()}]
        except jinja2.UndefinedError as exc:
            raise ConfigError(undefined_message(self.path, exc, variables)) from None
        except jinja2.TemplateError as exc:
            raise ConfigError(f"{self.path}: cannot render template: {exc}") from None


def _template_line(path: Path, exc: BaseException) -> tuple[str, int] | None:
    """(file, line) of the template frame that raised: Jinja2 maps its frames to template lines."""
    import traceback

    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if f.filename and f.filename.endswith((".j2", ".jinja", ".jinja2", ".txt", path.name))]
    if not frames or frames[-1].lineno is None:
        return None
    return frames[-1].filename, frames[-1].lineno


def undefined_message(path: Path, exc: BaseException, variables: dict[str, Any]) -> str:
    """'<file>:<line>: 'x' is undefined; did you mean …? Variables: …' for an undefined name."""
    import difflib
    import re

    where = _template_line(path, exc)
    location = f"{where[0]}:{where[1]}" if where else str(path)
    text = f"{location}: {exc.message if hasattr(exc, 'message') else exc}"
    match = re.match(r"'([^']+)' is undefined", str(getattr(exc, "message", exc) or ""))
    if match:
        close = difflib.get_close_matches(match.group(1), list(variables), n=3, cutoff=0.5)
        text += f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else "."
        text += f" Template variables: {', '.join(sorted(variables))} (evalkit suite vars lists them)."
    return text


def load_template(path: Path) -> PromptTemplate:
    import jinja2
    from jinja2 import meta

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(path.parent)), undefined=jinja2.StrictUndefined,
                             autoescape=False, keep_trailing_newline=True)  # prompts are plain text, not HTML
    source = path.read_text(encoding="utf-8")
    try:
        template = env.get_template(path.name)
        referenced = sorted(t for t in meta.find_referenced_templates(env.parse(source)) if t)
    except jinja2.TemplateSyntaxError as exc:
        raise ConfigError(f"{path}:{exc.lineno}: template syntax error: {exc.message}") from None
    digest = hashlib.sha256(source.encode())
    for name in referenced:
        digest.update((path.parent / name).read_bytes())
    return PromptTemplate(path=path, source=source, version="sha256:" + digest.hexdigest()[:16], template=template)
