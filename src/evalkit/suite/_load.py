"""Loading a suite file, with errors that name the file, the line and the YAML path.

A suite is refused (exit 2) when it, or a ``--set`` override, holds a secret: a
key-shaped string, the value of a key variable, a credential-named header or option,
or a URL with userinfo or a key parameter. Keys live in environment variables named
with ``options.api_key_env`` and never in a file that a run copies.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from evalkit._unicode import lone_surrogate_at
from evalkit.errors import ConfigError
from evalkit.suite._gates import check_gate_configs
from evalkit.suite._prompt import load_template
from evalkit.suite._schema import Suite

SECRET_HINT = ("never write a key into a suite or pass it with --set: keep it in an environment variable and "
               "name that variable with options.api_key_env (e.g. api_key_env: OPENAI_API_KEY); evalkit reads "
               "it when it calls and never writes it")


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

    @property
    def dataset_ref(self) -> str | Path:
        """The suite's ``dataset:``: a ``NAME@VERSION`` reference, or a folder relative to the suite."""
        ref = self.suite.dataset
        return ref if "@" in ref else (self.root / ref).resolve()

    @property
    def catalogue_path(self) -> Path | None:
        """The suite's ``catalogue:`` file, if it names one (checked to exist when loaded)."""
        return None if self.suite.catalogue is None else (self.root / self.suite.catalogue).resolve()


def _yaml_path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _line_of(node: Any, loc: tuple[Any, ...]) -> int | None:
    """1-based line of the YAML node at ``loc`` (deepest node found), from yaml.compose's tree."""
    import yaml

    line = None
    for part in loc:
        if node is None:
            break
        line = node.start_mark.line + 1
        nxt = None
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == str(part):
                    nxt, line = value, key.start_mark.line + 1
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            nxt = node.value[part]
        node = nxt
    return line


def _apply_override(raw: dict[str, Any], dotted: str, value: Any) -> None:
    """``configs.candidate.prompt=...``: list items are addressed by their ``name``."""
    node: Any = raw
    parts = dotted.split(".")
    if not all(parts):
        raise ConfigError(f"--set {dotted}: empty key part; write KEY.SUBKEY=VALUE")
    for i, part in enumerate(parts[:-1]):
        where = ".".join(parts[:i]) or "top level"
        if isinstance(node, list):
            match = [item for item in node if isinstance(item, dict) and item.get("name") == part]
            if not match:
                raise ConfigError(f"--set {dotted}: no item named {part!r} at {where}")
            node = match[0]
        elif isinstance(node, dict):
            node = node.setdefault(part, {})
        else:
            raise ConfigError(f"--set {dotted}: {where} is a value ({node!r}), not a section")
    if not isinstance(node, dict):
        raise ConfigError(f"--set {dotted}: {'.'.join(parts[:-1])} is a list; address an item by its name")
    node[parts[-1]] = value


def _key_envs(raw: dict[str, Any]) -> list[str]:
    """The ``options.api_key_env`` names a (not yet validated) suite declares, for its configurations and
    its judge: their values are secrets before anything is screened or validated."""
    def named(section: Any) -> str | None:
        options = section.get("options") if isinstance(section, dict) else None
        name = options.get("api_key_env") if isinstance(options, dict) else None
        return name if isinstance(name, str) else None

    configs = raw.get("configs") if isinstance(raw.get("configs"), list) else []
    scoring = raw.get("scoring") if isinstance(raw.get("scoring"), dict) else {}
    return [n for n in [*(named(c) for c in configs), named(scoring.get("judge"))] if n]


def _override_for(loc: tuple[Any, ...], overrides: dict[str, Any], raw: dict[str, Any]) -> str | None:
    """The ``--set`` key that gave the value an error at ``loc`` is about (configurations by name, as
    ``--set configs.NAME.x`` addresses them), if any."""
    names, node = [], raw
    for part in loc:
        if isinstance(part, int) and isinstance(node, list) and part < len(node):
            node = node[part]
            names.append(str(node.get("name", part)) if isinstance(node, dict) else str(part))
        else:
            names.append(str(part))
            node = node.get(part) if isinstance(node, dict) else None
    path = ".".join(names)
    return next((d for d in overrides if path == d or path.startswith(d + ".") or d.startswith(path + ".")), None)


def _refuse_secrets(path: Path, raw: dict[str, Any], overrides: dict[str, Any]) -> None:
    from evalkit._secrets import declare_secret_envs, find_secrets

    # A variable named only by this suite (MYCORP_LLM, not *_API_KEY) is a key too: its value pasted
    # into the suite must be refused like an OPENAI_API_KEY's.
    declare_secret_envs(_key_envs(raw))

    for dotted, value in overrides.items():
        leaf = dotted.rsplit(".", 1)[-1]
        for _, what in find_secrets({leaf: value}):
            raise ConfigError(f"--set {dotted}: refused, the value holds {what}; {SECRET_HINT}")
    found = list(find_secrets(raw))
    if found:
        lines = [f"{path}: {where}: holds {what}" for where, what in found]
        raise ConfigError("refused: a secret is written in the suite:\n  " + "\n  ".join(lines)
                          + f"\n{SECRET_HINT}")


def _read_yaml(path: Path) -> tuple[dict[str, Any], bytes, Any]:
    import yaml

    from evalkit import _yaml

    if not path.exists():
        raise ConfigError(f"{path}: suite file not found")
    if not path.is_file():
        raise ConfigError(f"{path}: is a folder, not a suite file")
    text = path.read_bytes()
    try:
        decoded = text.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = text[: exc.start].count(b"\n") + 1
        raise ConfigError(f"{path}:{line}: not UTF-8 text (byte {exc.start}); save the suite as UTF-8") from None
    try:
        raw = _yaml.load(decoded, source=path) or {}
        tree = yaml.compose(decoded)
    except yaml.YAMLError as exc:
        raise ConfigError(_yaml.describe(exc, path)) from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}:1: a suite is a YAML mapping at the top level, got {type(raw).__name__}")
    if (field := lone_surrogate_at(raw)) is not None:
        raise ConfigError(f"{path}: {field}: lone surrogate escape (e.g. \\ud800) is not valid Unicode text")
    return raw, text, tree


def load_suite(path: Path | str, *, overrides: dict[str, Any] | None = None) -> LoadedSuite:
    path = Path(path)
    raw, text, tree = _read_yaml(path)
    for dotted, value in (overrides or {}).items():
        _apply_override(raw, dotted, value)
    _refuse_secrets(path, raw, overrides or {})
    try:
        suite = Suite.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for e in exc.errors():
            line = _line_of(tree, tuple(e["loc"]))
            where = f"{path}:{line}" if line else str(path)
            if (given := _override_for(tuple(e["loc"]), overrides or {}, raw)) is not None:
                where = f"--set {given}"  # the value came from the command line, not from the file
            problems.append(f"{where}: {_yaml_path(e['loc'])}: {e['msg']}")
        raise ConfigError("invalid suite:\n  " + "\n  ".join(problems)) from None
    from evalkit._secrets import declare_secret_envs

    declare_secret_envs([c.options.get("api_key_env") for c in suite.configs]
                        + [suite.scoring.judge.options.get("api_key_env") if suite.scoring.judge else None])
    loaded = LoadedSuite(suite=suite, path=path.resolve(), sha256=hashlib.sha256(text).hexdigest(), raw=raw)

    def gate_config(i: int, j: int) -> str:
        line = _line_of(tree, ("gates", i, "configs", j))
        return f"{path}:{line}: gates[{i}].configs[{j}]" if line else f"{path}: gates[{i}].configs[{j}]"

    check_gate_configs(suite.gates or [], [c.name for c in suite.configs], where=gate_config)
    for i, config in enumerate(suite.configs):
        line = _line_of(tree, ("configs", i, "prompt"))
        where = f"{path}:{line}" if line else str(path)
        explicit = f"configs.{config.name}.prompt" in (overrides or {})
        if explicit:
            where = f"--set configs.{config.name}.prompt"
        else:
            where = f"{where}: configs[{config.name}].prompt"
        load_template(check_prompt_path(loaded, config.prompt, where=where, anywhere=explicit))
    if suite.catalogue is not None:
        line = _line_of(tree, ("catalogue",))
        check_prompt_path(loaded, suite.catalogue, where=f"{path}:{line}: catalogue" if line else f"{path}: catalogue",
                          anywhere="catalogue" in (overrides or {}), what="catalogue")
    judge = suite.scoring.judge
    if judge is not None and judge.prompt is not None:
        check_prompt_path(loaded, judge.prompt, where=f"{path}: scoring.judge.prompt",
                          anywhere="scoring.judge.prompt" in (overrides or {}))
    return loaded


def check_prompt_path(loaded: LoadedSuite, prompt: str, *, where: str, anywhere: bool = False,
                      what: str = "template") -> Path:
    """The template file ``prompt`` names, which must be a file inside the suite's folder.

    A suite file cannot reach outside its folder (``../../home/me/.netrc`` would be copied
    into the run folder and the report); a path given on the command line with ``--set``
    (``anywhere``) is the user's explicit choice and may live anywhere."""
    resolved = loaded.prompt_path(prompt)
    if not anywhere and not resolved.is_relative_to(loaded.root.resolve()):
        raise ConfigError(f"{where}: {prompt} is outside the suite's folder ({loaded.root}); "
                          f"{what}s are copied into the run folder and the report, so they must live beside "
                          "the suite")
    if not resolved.exists():
        raise ConfigError(f"{where}: {what} {prompt} not found (looked in {resolved})")
    if not resolved.is_file():
        raise ConfigError(f"{where}: {prompt} is a folder, not a {what} file")
    return resolved


def segment_warnings(loaded: LoadedSuite, segments: Collection[str], *, dataset: str = "the dataset") -> list[str]:
    """Segments the suite names that ``dataset`` (its ``segments``) does not have - usually a typo, which
    a run only notices after it has been paid for, if at all: ``projection.mix`` (the projection flags
    the segment as having no cases), ``economics.error_cost_by_segment`` (the cost applies to nothing),
    a gate's ``segment`` (the gate fails: no cases) or ``segments`` (those are not checked). Each
    warning names the file, line and field, the segment and the dataset's segments."""
    import yaml

    try:
        tree = yaml.compose(loaded.path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        tree = None
    suite = loaded.suite
    named: list[tuple[tuple[Any, ...], str, str]] = []
    if suite.projection is not None:
        named += [(("projection", "mix", s), s, "the projection flags it: no cases") for s in suite.projection.mix]
    named += [(("economics", "error_cost_by_segment", s), s, "its error cost applies to no case")
              for s in suite.economics.error_cost_by_segment]
    for i, gate in enumerate(suite.gates or ()):
        if getattr(gate, "segment", None) is not None:
            named.append((("gates", i, "segment"), gate.segment, "the gate fails: no cases"))
        named += [(("gates", i, "segments", j), s, "it is not checked")
                  for j, s in enumerate(getattr(gate, "segments", None) or ())]
    known = sorted(set(segments))
    out = []
    for loc, segment, effect in named:
        if segment in known:
            continue
        line = _line_of(tree, loc) if tree is not None else None
        where = f"{loaded.path}:{line}" if line else str(loaded.path)
        out.append(f"{where}: {_yaml_path(loc)}: segment {segment!r} is not in {dataset} ({effect}); its segments: "
                   f"{', '.join(known)}")
    return out
