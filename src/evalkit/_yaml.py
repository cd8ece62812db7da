"""The one YAML reader: safe loading that refuses a mapping with the same key twice.

PyYAML's ``safe_load`` keeps the last of two equal keys without a word, so a catalogue with
``seat_price: {monthly: "20.00", annual: "200.00", monthly: "2.00"}`` was published at $2.
``load`` raises a ``yaml.MarkedYAMLError`` instead (so every caller's existing YAML error
handling applies), marked at the second key's file and line; every error it raises names the
file it read, not ``"<unicode string>"``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import ConstructorError

_MERGE_TAG = "tag:yaml.org,2002:merge"


class DuplicateKeyError(ConstructorError):
    """A YAML mapping gives the same key twice (``problem_mark``: the second one)."""


class _UniqueKeyLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses duplicate keys in a mapping (merge keys ``<<`` may still override)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, yaml.MappingNode):
            first_line: dict[Any, int] = {}
            for key_node, _ in node.value:
                if key_node.tag == _MERGE_TAG:
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    seen = key  # keys equal in Python (1 and true) would also overwrite each other
                    hash(seen)
                except TypeError:
                    continue  # an unhashable key: the base constructor reports it
                if seen in first_line:
                    raise DuplicateKeyError(
                        "while reading a mapping", node.start_mark,
                        f"duplicate key {key!r} (first given on line {first_line[seen]}); "
                        "a key may appear only once", key_node.start_mark)
                first_line[seen] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


def load(text: str | bytes, *, source: str | Path | None = None) -> Any:
    """The YAML document in ``text`` (safe types only), read from ``source`` (the file name used in
    error marks). Raises ``yaml.YAMLError``; a duplicate mapping key is a ``DuplicateKeyError``."""
    try:
        loader = _UniqueKeyLoader(text)
    except yaml.reader.ReaderError as exc:  # a character YAML refuses, found before reading began
        if source is not None:
            exc.name = str(source)
        raise
    if source is not None:
        loader.name = str(source)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def describe(exc: yaml.YAMLError, source: str | Path) -> str:
    """``FILE:LINE:COLUMN: what is wrong`` for a YAML error (the line and column where known)."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark is not None else str(source)
    if isinstance(exc, yaml.MarkedYAMLError):
        what = exc.problem or exc.context or "not valid YAML"
        return f"{where}: {what}" if isinstance(exc, DuplicateKeyError) else f"{where}: not valid YAML: {what}"
    return f"{where}: not valid YAML: {exc}"


def node_lines(text: str) -> dict[tuple[str | int, ...], int]:
    """1-based line of every mapping key and sequence item of a YAML document by its path (keys as text,
    items by index: ``("plans", 2, "name")``), in document order; empty if ``text`` is not YAML."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return {}
    lines: dict[tuple[str | int, ...], int] = {}

    def walk(node: Any, path: tuple[str | int, ...]) -> None:
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                key_path = (*path, str(key_node.value))
                lines.setdefault(key_path, key_node.start_mark.line + 1)
                walk(value_node, key_path)
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                lines.setdefault((*path, index), item.start_mark.line + 1)
                walk(item, (*path, index))

    if root is not None:
        walk(root, ())
    return lines


def key_lines(text: str, *, source: str | Path | None = None) -> dict[tuple[str, ...], int]:
    """1-based line of every mapping key in ``text`` by its path of keys (a sequence's items share
    its path: the first item's key wins); for error messages that point at a key. Empty if ``text`` is
    not YAML."""
    lines: dict[tuple[str, ...], int] = {}
    for path, line in node_lines(text).items():
        if path and isinstance(path[-1], str):
            lines.setdefault(tuple(p for p in path if isinstance(p, str)), line)
    return lines


def load_config(text: str | bytes, *, source: str | Path) -> Any:
    """``load``, with any YAML problem as a ``ConfigError`` saying ``FILE:LINE:COLUMN: what is wrong`` (exit 2)."""
    from evalkit.errors import ConfigError

    try:
        return load(text, source=source)
    except yaml.YAMLError as exc:
        raise ConfigError(describe(exc, source)) from None
