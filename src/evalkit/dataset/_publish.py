"""Publishing a dataset version: stream the cases to parquet in a hidden temp folder, write
the attachments and the manifest, then rename the folder into place. Readers never see a
partial version, a failure leaves nothing behind, and a version is never overwritten.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
import shutil
import socket
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from evalkit._io import process_exists
from evalkit._signals import sigterm_raises
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


Coerced = tuple[Row | None, list[str]]
"""One case as its stored row, or the problems that keep it out."""


def _coerced(number: int, raw: Any, case_model: type[BaseModel], context: dict[str, Any] | None) -> Coerced:
    case, problems = coerce_case(raw, case_model, f"case #{number}", context)
    if case is None:
        return None, problems
    return (case.case_id, case.segment, case.variant, canonical_json(case)), []


def _tallied(coerced: Iterable[Coerced], tally: _Tally) -> Iterator[Row]:
    """The rows to store, in order: duplicates and invalid cases go to the tally's problems."""
    for number, (row, problems) in enumerate(coerced, start=1):
        if row is None:
            tally.problems.extend(problems)
            continue
        case_id, segment, variant, _ = row
        if case_id in tally.first_seen:
            tally.problems.append(f"case #{number}: field case_id: duplicate case_id {case_id!r} "
                                  f"(first seen in case #{tally.first_seen[case_id]})")
            continue
        tally.first_seen[case_id] = number
        tally.segments[segment] += 1
        tally.variants[variant] += 1
        yield row


def _rows(cases: Iterable[Any], case_model: type[BaseModel], tally: _Tally,
          context: dict[str, Any] | None = None) -> Iterator[Row]:
    coerced = (_coerced(number, raw, case_model, context) for number, raw in enumerate(cases, start=1))
    return _tallied(coerced, tally)


@dataclass(frozen=True, kw_only=True)
class Generated:
    """The cases ``task.generate(n, seed)`` gives, as ``write_dataset`` input. A task that generates
    ranges (``evalkit.tasks.RangedGenerator``) is generated, validated and serialised on every core,
    ``GENERATED_CHUNK`` cases at a time, in order: the same rows and bytes as one process makes."""

    task: Task
    n: int
    seed: int


GENERATED_CHUNK = 1000
"""Cases per worker job when generating in parallel (a few MB of rows crossing back per job)."""


def _generated_chunk(state: tuple[Any, ...], bounds: tuple[int, int]) -> list[Coerced]:
    task, seed, context = state
    start, stop = bounds
    return [_coerced(start + k + 1, case, task.case_model, context)
            for k, case in enumerate(task.generate_range(start, stop, seed))]


def _generated_rows(source: Generated, task: Task, tally: _Tally) -> Iterator[Row]:
    from evalkit._forked import can_fork, forked_imap
    from evalkit.tasks import RangedGenerator

    context = validation_context(task)
    if not isinstance(source.task, RangedGenerator) or source.n < 2 * GENERATED_CHUNK or not can_fork():
        return _rows(source.task.generate(source.n, source.seed), task.case_model, tally, context)
    bounds = [(start, min(start + GENERATED_CHUNK, source.n)) for start in range(0, source.n, GENERATED_CHUNK)]
    parts = forked_imap(_generated_chunk, bounds, state=(source.task, source.seed, context))
    return _tallied((item for part in parts for item in part), tally)


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


def write_dataset(cases: Iterable[BaseModel | Mapping[str, Any]] | Generated, *, name: str, version: str, task: Task | str,
                  description: str = "", parent: str | None = None, generator: Mapping[str, Any] | None = None,
                  store: Path | str | None = None, reuse_identical: bool = False,
                  attachments: Mapping[str, bytes] | None = None) -> Path:
    """Publish ``cases`` (or what a task generates: ``Generated``) as ``name@version`` and return the
    version folder.

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
    remove_stale_temp_folders(name_dir)
    # Not tempfile.mkdtemp: its 0700 mode would survive the rename and hide the
    # published version from other users; os.mkdir honours the umask like any folder.
    # SIGTERM (kill, a CI timeout, a container stop) ends the publish as Ctrl-C does: through the clean-up
    # that removes the temp folder, exit status 143.
    with sigterm_raises(lambda signum: SystemExit(128 + signum)):
        return _publish(cases, tmp=name_dir / _temp_name(version), final=final, name_dir=name_dir,
                        created_name_dir=created_name_dir, task=resolved, parent=parent, description=description,
                        generator=generator, reuse_identical=reuse_identical, attachments=attachments)


def _publish(cases: Iterable[Any] | Generated, *, tmp: Path, final: Path, name_dir: Path, created_name_dir: bool,
             task: Task, parent: str | None, description: str, generator: Mapping[str, Any] | None,
             reuse_identical: bool, attachments: Mapping[str, bytes] | None) -> Path:
    """Write the version into ``tmp`` and rename it to ``final``; on any failure (or SIGTERM) remove ``tmp``."""
    root, name, version, resolved = name_dir.parent, name_dir.name, final.name, task
    try:
        os.mkdir(tmp)
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


def _write_cases(tmp: Path, cases: Iterable[Any] | Generated, task: Task, *, ref: str) -> tuple[int, _Tally, str]:
    """Stream the cases to ``tmp/cases.parquet``: (row count, tally, SHA-256); DataError lists every problem."""
    tally = _Tally(segments=Counter(), variants=Counter(), first_seen={}, problems=[])
    parquet = tmp / CASES_FILE
    rows = _generated_rows(cases, task, tally) if isinstance(cases, Generated) else \
        _rows(cases, task.case_model, tally, validation_context(task))
    count = write_rows(parquet, rows)
    if tally.problems:
        raise DataError(f"cannot publish {ref}: {len(tally.problems)} problem(s) in the cases",
                        problems=tally.problems)
    if count == 0:
        raise DataError(f"cannot publish {ref}: no cases")
    return count, tally, sha256_file(parquet)


def _write_attachments(tmp: Path, attachments: Mapping[str, bytes], *, ref: str) -> dict[str, str]:
    """Write the extra files beside the cases, byte for byte (their hashes are checked on every read,
    so one the redaction layer would alter is refused, never published altered); file name -> SHA-256
    for the manifest."""
    from evalkit._io import credential_in_copy, write_verbatim

    hashes = {}
    for file_name, data in sorted(attachments.items()):
        if file_name in (CASES_FILE, MANIFEST_FILE) or "/" in file_name or file_name.startswith("."):
            raise DataError(f"cannot publish {ref}: attachment name {file_name!r} is not allowed")
        if (problem := credential_in_copy(data, source=file_name)) is not None:
            raise DataError(f"cannot publish {ref}: {problem}")
        write_verbatim(tmp / file_name, data, source=file_name)
        hashes[file_name] = hashlib.sha256(data).hexdigest()
    return hashes


TEMP_PREFIX = ".tmp-"
_TEMP_OWNER = re.compile(r"-p(?P<pid>\d+)-h(?P<host>[0-9a-f]{8})$")
UNOWNED_TEMP_AGE_S = 600.0
"""A temp folder whose writer cannot be checked (its name does not say, as with an older evalkit's, or it
is another machine's) is stale once neither it nor a file in it has changed for this long: a live publish
writes a row group every few seconds to a minute."""


def _host_tag() -> str:
    return hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8]


def _temp_name(version: str) -> str:
    """``.tmp-<version>-<random>-p<pid>-h<host>``: the writer is named so a later publish can tell a
    folder left by a killed process (kill -9, a power cut) from one still being written."""
    return f"{TEMP_PREFIX}{version}-{secrets.token_hex(6)}-p{os.getpid()}-h{_host_tag()}"


def remove_stale_temp_folders(name_dir: Path) -> list[Path]:
    """Remove the temp folders under ``name_dir`` that no live process is writing: this machine's whose
    process is gone, and any unchanged for ``UNOWNED_TEMP_AGE_S`` whose writer cannot be checked (an older
    evalkit's, another machine's). Returns the folders removed."""
    removed = []
    host, now = _host_tag(), time.time()
    try:
        entries = list(name_dir.iterdir())
    except OSError:
        return removed
    for entry in entries:
        if not entry.name.startswith(TEMP_PREFIX) or not entry.is_dir():
            continue
        owner = _TEMP_OWNER.search(entry.name)
        try:
            if owner is not None and owner["host"] == host:
                stale = int(owner["pid"]) != os.getpid() and not process_exists(int(owner["pid"]))
            else:
                stale = now - _last_change(entry) > UNOWNED_TEMP_AGE_S
        except OSError:
            continue  # gone meanwhile (its writer finished or cleaned up)
        if stale:
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


def _last_change(folder: Path) -> float:
    """The newest modification time of ``folder`` and the files in it."""
    times = [folder.stat().st_mtime]
    for child in folder.iterdir():
        with contextlib.suppress(OSError):
            times.append(child.stat().st_mtime)
    return max(times)


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
