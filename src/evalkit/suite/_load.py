"""Loading a suite file, with errors that name the file and the YAML path."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from evalkit.errors import ConfigError
from evalkit.suite._schema import Suite


@dataclass(frozen=True, kw_only=True)
class LoadedSuite:
    suite: Suite
    path: Path
    sha256: str
    raw: dict[str, Any]

    @property
    def root(self) -> Path:
        return self.path.parent

    def prompt_path(self, prompt: str) -> Path:
        return (self.root / prompt).resolve()


def _yaml_path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _apply_override(raw: dict[str, Any], dotted: str, value: Any) -> None:
    """``configs.candidate.prompt=...``: list items are addressed by their ``name``."""
    node: Any = raw
    parts = dotted.split(".")
    for i, part in enumerate(parts[:-1]):
        if isinstance(node, list):
            match = [item for item in node if isinstance(item, dict) and item.get("name") == part]
            if not match:
                raise ConfigError(f"--set {dotted}: no item named {part!r} at {'.'.join(parts[:i]) or 'top level'}")
            node = match[0]
        else:
            node = node.setdefault(part, {})
    node[parts[-1]] = value


def load_suite(path: Path | str, *, overrides: dict[str, Any] | None = None) -> LoadedSuite:
    import yaml

    path = Path(path)
    if not path.exists():
        raise ConfigError(f"{path}: suite file not found")
    text = path.read_bytes()
    try:
        raw = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: a suite is a YAML mapping at the top level")
    for dotted, value in (overrides or {}).items():
        _apply_override(raw, dotted, value)
    try:
        suite = Suite.model_validate(raw)
    except ValidationError as exc:
        problems = [f"{path}: {_yaml_path(e['loc'])}: {e['msg']}" for e in exc.errors()]
        raise ConfigError("invalid suite:\n  " + "\n  ".join(problems)) from None
    loaded = LoadedSuite(suite=suite, path=path.resolve(), sha256=hashlib.sha256(text).hexdigest(), raw=raw)
    for config in suite.configs:
        prompt = loaded.prompt_path(config.prompt)
        if not prompt.exists():
            raise ConfigError(f"{path}: configs[{config.name}].prompt: template {config.prompt} not found "
                              f"(looked in {prompt})")
    return loaded
