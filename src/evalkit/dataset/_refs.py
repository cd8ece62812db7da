"""Dataset references (``name@version``, ``name@latest``, a version folder) and store listing."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from evalkit.dataset._manifest import MANIFEST_FILE, NAME_PATTERN, Manifest, read_manifest
from evalkit.errors import DataError, EvalkitError, NotFound

_NAME_RE = re.compile(NAME_PATTERN)
_VN_RE = re.compile(r"^v(\d+)$")


def store_root(store: Path | str | None) -> Path:
    if store is not None:
        return Path(store)
    from evalkit._home import datasets_dir

    return datasets_dir()


def check_label(kind: str, value: str) -> str:
    """Names and versions become folder names: refuse anything that could escape the store."""
    if not _NAME_RE.match(value or "") or (kind == "version" and value == "latest"):
        raise DataError(
            f"invalid dataset {kind} {value!r}: use letters, digits, '.', '_' or '-' "
            f"(not starting with '.' or '-'){'; latest is reserved' if kind == 'version' else ''}"
        )
    return value


def natural_key(version: str) -> tuple[tuple[int, int | str], ...]:
    """Order versions as people do: v1 < v2 < v10 (digits compare as numbers)."""
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"(\d+)", version) if part)


def published_versions(name: str, store: Path | str | None = None) -> list[str]:
    """Versions of ``name`` that hold a manifest, in natural order (temp folders are hidden)."""
    folder = store_root(store) / name
    if not folder.is_dir():
        return []
    found = [p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")
             and (p / MANIFEST_FILE).is_file()]
    return sorted(found, key=natural_key)


def next_version(name: str, store: Path | str | None = None) -> str:
    """The next free ``vN`` label: one past the highest existing ``vN`` (``v1`` for a new name)."""
    numbers = [int(m.group(1)) for v in published_versions(name, store) if (m := _VN_RE.match(v))]
    return f"v{max(numbers, default=0) + 1}"


def resolve_ref(ref: str, store: Path | str | None = None) -> Path:
    """The version folder a reference points to.

    A ref is ``name@version``, ``name@latest`` (highest version in natural order) or the
    path of a version folder. An existing folder wins, so ``datasets/upgrades/v1`` works
    from the project root whatever the store is.
    """
    as_path = Path(ref)
    if as_path.is_dir():
        return as_path
    if "@" not in ref:
        hint = ""
        if _NAME_RE.match(ref) and (store_root(store) / ref).is_dir():
            hint = f"; did you mean {ref}@latest?"
        raise NotFound(
            f"dataset {ref!r} not found: expected NAME@VERSION, NAME@latest or the path of a version folder{hint}"
        )
    name, _, version = ref.partition("@")
    check_label("name", name)
    root = store_root(store)
    versions = published_versions(name, root)
    if not versions:
        raise NotFound(f"dataset {name!r} not found in {root} (no published versions)")
    if version == "latest":
        return root / name / versions[-1]
    check_label("version", version)
    if version not in versions:
        raise NotFound(f"dataset {name}@{version} not found in {root}; versions: {', '.join(versions)}")
    return root / name / version


@dataclass(frozen=True, kw_only=True)
class VersionInfo:
    """One entry of the store listing; ``error`` is set (and ``manifest`` None) when unreadable."""

    name: str
    version: str
    path: Path
    manifest: Manifest | None
    error: str | None = None


def list_versions(store: Path | str | None = None) -> list[VersionInfo]:
    """Every published version in the store, by name then natural version order.

    Reads manifests only (no hashing): a broken manifest is reported in its entry
    rather than hiding the rest of the store.
    """
    root = store_root(store)
    if not root.is_dir():
        return []
    entries = []
    for name_dir in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for version in published_versions(name_dir.name, root):
            path = name_dir / version
            try:
                entries.append(VersionInfo(name=name_dir.name, version=version, path=path,
                                           manifest=read_manifest(path)))
            except EvalkitError as exc:
                entries.append(VersionInfo(name=name_dir.name, version=version, path=path,
                                           manifest=None, error=str(exc)))
    return entries
