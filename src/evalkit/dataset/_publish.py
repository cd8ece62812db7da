"""Publishing a dataset version: stream the cases to parquet in a hidden temp folder, write
the attachments and the manifest, then rename the folder into place. Readers never see a
partial version, a failure leaves nothing behind, and a version is never overwritten.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from evalkit.dataset._manifest import (
    CASES_FILE,
    MANIFEST_FILE,
    SCHEMA_VERSION,
    Manifest,
    manifest_text,
    read_manifest,
)
from evalkit.dataset._parquet import Row, canonical_json, sha256_file, write_rows
from evalkit.dataset._refs import check_label, next_version, published_versions, resolve_ref, store_root
from evalkit.dataset._rows import coerce_case, resolve_task, validation_context
from evalkit.errors import DataError, NotFound

if TYPE_CHECKING:
    from evalkit.tasks import Task


@dataclass(kw_only=True)
class _Tally:
    """What the row stream learns while it is written (counts, duplicates, problems)."""

    segments: Counter[str]
    variants: Counter[str]
    first_seen: dict[str, int]
    problems: list[str]


def _rows(cases: Iterable[Any], case_model: type[BaseModel], tally: _Tally,
          context: dict[str, Any] | None = None) -> Iterator[Row]:
    for number, raw in enumerate(cases, start=1):
        where = f"case #{number}"
        case, problems = coerce_case(raw, case_model, where, context)
        if case is None:
            tally.problems.extend(problems)
            continue
        case_id = case.case_id
        if case_id in tally.first_seen:
            tally.problems.append(f"{where}: field case_id: duplicate case_id {case_id!r} "
                                  f"(first seen in case #{tally.first_seen[case_id]})")
            continue
        tally.first_seen[case_id] = number
        tally.segments[case.segment] += 1
        tally.variants[case.variant] += 1
        yield case_id, case.segment, case.variant, canonical_json(case)


def _evalkit_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("evalkit")
    except PackageNotFoundError:
        return "unknown"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def immutable_error(final: Path) -> DataError:
    return DataError(f"{final}: version already exists; published versions are immutable "
                     f"(publish a new version, e.g. with --version {next_version(final.parent.name, final.parent.parent)})")


def parent_ref(parent: str | None, *, name: str, store: Path | str | None = None) -> str | None:
    """A ``--parent`` value as the ``NAME@VERSION`` it names, checked to exist.

    Takes the same references as everywhere else (``NAME@VERSION``, ``NAME@latest``, a
    version folder), plus a bare version of the dataset being published (``v1``).
    """
    if parent is None:
        return None
    ref = parent if ("@" in parent or Path(parent).is_dir()) else f"{name}@{parent}"
    try:
        return read_manifest(resolve_ref(ref, store)).ref
    except NotFound as exc:
        raise NotFound(f"parent {parent!r}: {exc}") from exc


def identical_version(sha256: str, *, name: str, store: Path | str | None = None) -> Path | None:
    """A published version of ``name`` whose cases have this content hash, if any."""
    root = store_root(store)
    for version in published_versions(name, root):
        try:
            if read_manifest(root / name / version).sha256 == sha256:
                return root / name / version
        except DataError:
            continue
    return None


def write_dataset(cases: Iterable[BaseModel | Mapping[str, Any]], *, name: str, version: str, task: Task | str,
                  description: str = "", parent: str | None = None, generator: Mapping[str, Any] | None = None,
                  store: Path | str | None = None, reuse_identical: bool = False,
                  attachments: Mapping[str, bytes] | None = None) -> Path:
    """Publish ``cases`` as ``name@version`` and return the version folder.

    Cases are streamed to parquet (memory stays bounded for large generated sets).
    Any invalid or duplicate case aborts the publish with every problem listed, and
    nothing is left in the store. With ``reuse_identical``, content byte-identical to a
    published version of ``name`` is not published again: that version's folder is
    returned and nothing is written.
    """
    check_label("name", name)
    check_label("version", version)
    resolved = resolve_task(task)
    root = store_root(store)
    final = root / name / version
    if final.exists():
        raise immutable_error(final)
    parent = parent_ref(parent, name=name, store=root)

    name_dir = root / name
    created_name_dir = not name_dir.exists()
    name_dir.mkdir(parents=True, exist_ok=True)
    # Not tempfile.mkdtemp: its 0700 mode would survive the rename and hide the
    # published version from other users; os.mkdir honours the umask like any folder.
    tmp = name_dir / f".tmp-{version}-{secrets.token_hex(6)}"
    os.mkdir(tmp)
    try:
        count, tally, digest = _write_cases(tmp, cases, resolved, ref=f"{name}@{version}")
        if reuse_identical and (same := identical_version(digest, name=name, store=root)) is not None:
            _discard(tmp, name_dir, created_name_dir)
            return same
        with open(tmp / CASES_FILE, "rb") as fh:
            os.fsync(fh.fileno())
        hashes = _write_attachments(tmp, attachments or {}, ref=f"{name}@{version}")
        manifest = Manifest(
            schema_version=SCHEMA_VERSION, name=name, version=version, task=resolved.name, row_count=count,
            segment_counts=dict(sorted(tally.segments.items())), variant_counts=dict(sorted(tally.variants.items())),
            sha256=digest, parent=parent, created=datetime.now(UTC).replace(microsecond=0),
            description=description, generator=dict(generator) if generator is not None else None,
            evalkit_version=_evalkit_version(), attachments=hashes,
        )
        from evalkit._io import write_text

        write_text(tmp / MANIFEST_FILE, manifest_text(manifest))
        _rename_into_place(tmp, final, name_dir)
    except BaseException:
        _discard(tmp, name_dir, created_name_dir)
        raise
    return final


def _write_cases(tmp: Path, cases: Iterable[Any], task: Task, *, ref: str) -> tuple[int, _Tally, str]:
    """Stream the cases to ``tmp/cases.parquet``: (row count, tally, SHA-256); DataError lists every problem."""
    tally = _Tally(segments=Counter(), variants=Counter(), first_seen={}, problems=[])
    parquet = tmp / CASES_FILE
    count = write_rows(parquet, _rows(cases, task.case_model, tally, validation_context(task)))
    if tally.problems:
        raise DataError(f"cannot publish {ref}: {len(tally.problems)} problem(s) in the cases",
                        problems=tally.problems)
    if count == 0:
        raise DataError(f"cannot publish {ref}: no cases")
    return count, tally, sha256_file(parquet)


def _write_attachments(tmp: Path, attachments: Mapping[str, bytes], *, ref: str) -> dict[str, str]:
    """Write the extra files beside the cases; file name -> SHA-256 for the manifest."""
    import hashlib

    from evalkit._io import write_bytes

    hashes = {}
    for file_name, data in sorted(attachments.items()):
        if file_name in (CASES_FILE, MANIFEST_FILE) or "/" in file_name or file_name.startswith("."):
            raise DataError(f"cannot publish {ref}: attachment name {file_name!r} is not allowed")
        write_bytes(tmp / file_name, data)
        hashes[file_name] = hashlib.sha256(data).hexdigest()
    return hashes


def _rename_into_place(tmp: Path, final: Path, name_dir: Path) -> None:
    if final.exists():  # someone published the same version while we were writing
        raise immutable_error(final)
    try:
        os.rename(tmp, final)
    except OSError as exc:
        if final.exists():
            raise immutable_error(final) from exc
        raise
    _fsync_dir(name_dir)


def _discard(tmp: Path, name_dir: Path, created_name_dir: bool) -> None:
    """Remove the temp folder, and the name folder if this publish created it and it is empty."""
    shutil.rmtree(tmp, ignore_errors=True)
    if created_name_dir:
        try:
            name_dir.rmdir()  # only succeeds if nothing else landed there meanwhile
        except OSError:
            pass
