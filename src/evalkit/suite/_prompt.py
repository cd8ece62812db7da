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
                        try:
                            text = "".join(self.template.blocks[role](ctx)).strip()
                        except Exception:  # noqa: BLE001 - re-raised with template line numbers
                            self.template.environment.handle_exception()
                        if text:
                            messages.append({"role": role, "content": text})
                return messages
            return [{"role": "user", "content": self.template.render(variables).strip()}]
        except jinja2.UndefinedError as exc:
            raise ConfigError(undefined_message(self.path, exc, variables)) from None
        except Exception as exc:  # noqa: BLE001 - any failure inside a template ({{ 1/0 }}...) is the template's
            where = _template_line(self.path, exc)
            location = f"{where[0]}:{where[1]}" if where else str(self.path)
            raise ConfigError(f"{location}: cannot render template: {_describe(exc)}") from None


def _describe(exc: BaseException) -> str:
    import jinja2

    if isinstance(exc, jinja2.TemplateNotFound):
        return f"included template {exc.name!r} not found"
    if isinstance(exc, jinja2.TemplateError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


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


def _refuse_key_values(path: Path, text: str) -> None:
    """A template holding the value of a key variable would send the key to the model in every request
    (and the report would show it masked): refused, naming the line. Only set key variables' values are
    looked for; key-shaped words ("Bearer", "api_key") are ordinary prompt text."""
    from evalkit._secrets import secret_values

    for value in secret_values():
        at = text.find(value)
        if at >= 0:
            raise ConfigError(f"{path}:{text.count(chr(10), 0, at) + 1}: refused: the template holds the value "
                              "of a key environment variable, which every request would send to the model; "
                              "remove it (keys belong in the variable named by options.api_key_env only)")


def load_template(path: Path) -> PromptTemplate:
    import jinja2
    from jinja2 import meta, nodes

    path = Path(path)
    if path.is_dir():
        raise ConfigError(f"{path}: is a folder, not a template file")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read template: {exc.strerror}") from None
    try:
        source = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigError(f"{path}:{line}: template is not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(path.parent)), undefined=jinja2.StrictUndefined,
                             autoescape=False, keep_trailing_newline=True)  # prompts are plain text, not HTML
    try:
        ast = env.parse(source, name=path.name, filename=str(path))
        referenced = sorted(t for t in meta.find_referenced_templates(ast) if t)
        lines = {n.template.value: n.lineno for n in ast.find_all((nodes.Include, nodes.Extends, nodes.Import,
                                                                    nodes.FromImport))
                 if isinstance(n.template, nodes.Const)}
        digest = hashlib.sha256(data)
        _refuse_key_values(path, source)
        for name in referenced:
            included = path.parent / name
            if not included.is_file():
                raise ConfigError(f"{path}:{lines.get(name, '?')}: included template {name!r} not found "
                                  f"(looked in {included})")
            included_bytes = included.read_bytes()
            _refuse_key_values(included, included_bytes.decode("utf-8", "replace"))
            digest.update(included_bytes)
        template = env.get_template(path.name)
    except jinja2.TemplateSyntaxError as exc:
        raise ConfigError(f"{exc.filename or path}:{exc.lineno}: template syntax error: {exc.message}") from None
    except jinja2.TemplateError as exc:
        raise ConfigError(f"{path}: template error: {_describe(exc)}") from None
    return PromptTemplate(path=path, source=source, version="sha256:" + digest.hexdigest()[:16], template=template)
