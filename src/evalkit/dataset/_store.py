"""Publishing and loading immutable dataset versions.

A version is written into a hidden temp folder beside its final place and renamed
into place only when complete, so readers never see a partial version and a failure
leaves nothing behind. An existing version is never overwritten.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
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
from evalkit.dataset._parquet import Row, canonical_json, read_verified, sha256_file, write_rows
from evalkit.dataset._refs import check_label, next_version, published_versions, resolve_ref, store_root
from evalkit.dataset._rows import coerce_case, count_problems, resolve_task, validate_table, validation_context
from evalkit.errors import DataError, NotFound

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from evalkit.tasks import Task


@dataclass(frozen=True, kw_only=True)
class Dataset:
    """A loaded, hash-verified dataset version. The pandas table and the validated case
    objects are built on first access (validation needs the task; see ``task``)."""

    manifest: Manifest
    path: Path
    arrow: pa.Table
    task: Task | str | None = None
    """Task whose case model validates ``cases``; None = the task named in the manifest."""
    catalogue: Path | None = None
    """A suite's catalogue file: it wins over the one this version ships (see ``bound_task``)."""

    @cached_property
    def bound_task(self) -> Task:
        """The task under the catalogue that applies (evalkit.tasks.bind_catalogue): the suite's,
        else this version's own, else the task's. Cases are validated against it."""
        from evalkit.tasks import bind_catalogue

        return bind_catalogue(resolve_task(self.task, self.manifest.task), file=self.catalogue, dataset=self)

    @property
    def ref(self) -> str:
        return self.manifest.ref

    @property
    def parquet_path(self) -> Path:
        return self.path / CASES_FILE

    @cached_property
    def table(self) -> pd.DataFrame:
        """Columns case_id, segment, variant, case_json, in stored order."""
        return self.arrow.to_pandas()

    @cached_property
    def cases(self) -> tuple[BaseModel, ...]:
        """Every case validated with the task's case model; DataError lists every bad row."""
        task = self.bound_task
        cases, problems = validate_table(self.arrow, task.case_model, str(self.parquet_path), validation_context(task))
        if problems:
            raise DataError(f"{self.parquet_path}: {len(problems)} invalid row problem(s)", problems=problems)
        return tuple(cases)

    @cached_property
    def index(self) -> tuple[CaseRef, ...]:
        """(case_id, segment) of every row in stored order, without parsing any case."""
        ids = self.arrow.column("case_id").to_pylist()
        return tuple(CaseRef(case_id=c, segment=s) for c, s in zip(ids, self.arrow.column("segment").to_pylist()))

    def select(self, case_ids: Iterable[str]) -> tuple[BaseModel, ...]:
        """The named cases (stored order), validating only their rows: a 10-case run of a large
        dataset parses 10 cases. Duplicate ids are still checked over the whole table."""
        wanted = set(case_ids)
        if len(wanted) == self.arrow.num_rows:
            return self.cases
        ids = self.arrow.column("case_id").to_pylist()
        rows = [i for i, c in enumerate(ids) if c in wanted]
        missing = wanted - {ids[i] for i in rows}
        if missing:
            raise DataError(f"{self.parquet_path}: no case(s) {', '.join(sorted(missing)[:5])}")
        task = self.bound_task
        cases, problems = validate_table(self.arrow.take(rows), task.case_model, str(self.parquet_path),
                                         validation_context(task))
        if len(set(ids)) != len(ids):
            problems.append(f"{self.parquet_path}: field case_id: duplicate case ids in the table")
        if problems:
            raise DataError(f"{self.parquet_path}: {len(problems)} invalid row problem(s)", problems=problems)
        return tuple(cases)

    def __len__(self) -> int:
        return self.arrow.num_rows

    def attachment(self, name: str) -> bytes | None:
        """An extra file shipped with this version, hash-checked; None if the version has none by that name."""
        expected = self.manifest.attachments.get(name)
        if expected is None:
            return None
        path = self.path / name
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise DataError(f"{path}: attachment listed in the manifest is unreadable: {exc}") from exc
        import hashlib

        if hashlib.sha256(data).hexdigest() != expected:
            raise DataError(f"{path}: attachment does not match the manifest's SHA-256 (the version was modified)")
        return data


@dataclass(frozen=True, kw_only=True)
class CaseRef:
    """A case's identity without its content (for sampling before parsing)."""

    case_id: str
    segment: str


def load_dataset(ref: str | Path, *, task: Task | str | None = None, store: Path | str | None = None,
                 catalogue: str | Path | None = None) -> Dataset:
    """Load ``name@version``, ``name@latest`` or a version folder, verifying the content hash.
    ``catalogue``: a suite's catalogue file, which wins over the one the version ships."""
    folder = resolve_ref(str(ref), store)
    manifest = read_manifest(folder)
    arrow = read_verified(folder / CASES_FILE, expected_sha256=manifest.sha256, expected_rows=manifest.row_count)
    return Dataset(manifest=manifest, path=folder, arrow=arrow, task=task,
                   catalogue=Path(catalogue) if catalogue is not None else None)


def validate_path(path: str | Path, task: Task | str | None = None, *, store: Path | str | None = None) -> Dataset:
    """Full check of a version: hash, every row against the case model, manifest counts, duplicates."""
    dataset = load_dataset(path, task=task, store=store)
    where = str(dataset.parquet_path)
    resolved = dataset.bound_task
    problems = []
    if resolved.name != dataset.manifest.task:
        problems.append(f"{dataset.path / MANIFEST_FILE}: field task: manifest says {dataset.manifest.task!r} "
                        f"but validating with task {resolved.name!r}")
    _, row_problems = validate_table(dataset.arrow, resolved.case_model, where, validation_context(resolved))
    problems += row_problems
    problems += count_problems(dataset.arrow, {"segment": dataset.manifest.segment_counts,
                                               "variant": dataset.manifest.variant_counts}, where)
    if problems:
        raise DataError(f"{dataset.path}: dataset is invalid ({len(problems)} problem(s))", problems=problems)
    return dataset


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
        tally = _Tally(segments=Counter(), variants=Counter(), first_seen={}, problems=[])
        parquet = tmp / CASES_FILE
        count = write_rows(parquet, _rows(cases, resolved.case_model, tally, validation_context(resolved)))
        if tally.problems:
            raise DataError(f"cannot publish {name}@{version}: {len(tally.problems)} problem(s) in the cases",
                            problems=tally.problems)
        if count == 0:
            raise DataError(f"cannot publish {name}@{version}: no cases")
        digest = sha256_file(parquet)
        if reuse_identical and (same := identical_version(digest, name=name, store=root)) is not None:
            shutil.rmtree(tmp, ignore_errors=True)
            if created_name_dir:
                name_dir.rmdir()
            return same
        with open(parquet, "rb") as fh:
            os.fsync(fh.fileno())
        hashes = {}
        for file_name, data in sorted((attachments or {}).items()):
            if file_name in (CASES_FILE, MANIFEST_FILE) or "/" in file_name or file_name.startswith("."):
                raise DataError(f"cannot publish {name}@{version}: attachment name {file_name!r} is not allowed")
            from evalkit._io import write_bytes

            write_bytes(tmp / file_name, data)
            import hashlib

            hashes[file_name] = hashlib.sha256(data).hexdigest()
        manifest = Manifest(
            schema_version=SCHEMA_VERSION, name=name, version=version, task=resolved.name, row_count=count,
            segment_counts=dict(sorted(tally.segments.items())), variant_counts=dict(sorted(tally.variants.items())),
            sha256=digest, parent=parent, created=datetime.now(UTC).replace(microsecond=0),
            description=description, generator=dict(generator) if generator is not None else None,
            evalkit_version=_evalkit_version(), attachments=hashes,
        )
        from evalkit._io import write_text

        write_text(tmp / MANIFEST_FILE, manifest_text(manifest))
        if final.exists():  # someone published the same version while we were writing
            raise immutable_error(final)
        try:
            os.rename(tmp, final)
        except OSError as exc:
            if final.exists():
                raise immutable_error(final) from exc
            raise
        _fsync_dir(name_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if created_name_dir:
            try:
                name_dir.rmdir()  # only succeeds if nothing else landed there meanwhile
            except OSError:
                pass
        raise
    return final


def generate_dataset(task: Task | str, *, n: int, seed: int, name: str | None = None, version: str | None = None,
                     description: str | None = None, parent: str | None = None,
                     store: Path | str | None = None) -> Path:
    """Publish ``task.generate(n, seed)``; name defaults to the task name, version to the next free ``vN``.

    Content identical to a published version of the same name is not published again:
    that version's folder is returned (its version differs from the one asked for).
    """
    if n <= 0:
        raise DataError(f"--n must be positive (got {n})")
    resolved = resolve_task(task)
    name = name or resolved.name
    version = version or next_version(check_label("name", name), store)
    if description is None:
        description = f"{n} synthetic {resolved.name} cases generated with seed {seed}."
    attach = getattr(resolved, "attachments", None)
    return write_dataset(resolved.generate(n, seed), name=name, version=version, task=resolved,
                         description=description, parent=parent,
                         generator={"task": resolved.name, "n": n, "seed": seed}, store=store,
                         reuse_identical=True, attachments=attach(n, seed) if attach is not None else None)
