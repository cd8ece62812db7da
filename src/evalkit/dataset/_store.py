"""Loading immutable dataset versions (hash-checked), validating them, and generating one
(publishing is _publish.py)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel

from evalkit.dataset._manifest import (
    CASES_FILE,
    MANIFEST_FILE,
    Manifest,
    read_manifest,
)
from evalkit.dataset._parquet import read_verified
from evalkit.dataset._publish import Generated, write_dataset
from evalkit.dataset._refs import check_label, next_version, resolve_ref
from evalkit.dataset._rows import count_problems, resolve_task, validate_table, validation_context
from evalkit.errors import DataError

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
        cases, problems = validate_table(self.arrow, task.case_model, str(self.parquet_path),
                                         validation_context(task), rows=rows)
        if len(set(ids)) != len(ids):
            problems.append(f"{self.parquet_path}: field case_id: duplicate case ids in the table")
        if problems:
            raise DataError(f"{self.parquet_path}: {len(problems)} invalid row problem(s)", problems=problems)
        return tuple(cases)

    def forget_parsed(self) -> None:
        """Drop the validated cases and the pandas table built from the arrow table (they are built
        again on next access): a run keeps its cases only until they are scored."""
        self.__dict__.pop("cases", None)
        self.__dict__.pop("table", None)

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
    """Load ``name@version``, ``name@latest`` or a version folder, verifying the content hash (of the cases
    and of every attachment the manifest lists, e.g. the catalogue).
    ``catalogue``: a suite's catalogue file, which wins over the one the version ships."""
    folder = resolve_ref(str(ref), store)
    manifest = read_manifest(folder)
    arrow = read_verified(folder / CASES_FILE, expected_sha256=manifest.sha256, expected_rows=manifest.row_count)
    dataset = Dataset(manifest=manifest, path=folder, arrow=arrow, task=task,
                      catalogue=Path(catalogue) if catalogue is not None else None)
    for name in manifest.attachments:  # a tampered catalogue changes prices as surely as a tampered case
        dataset.attachment(name)
    return dataset


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
    return write_dataset(Generated(task=resolved, n=n, seed=seed), name=name, version=version, task=resolved,
                         description=description, parent=parent,
                         generator={"task": resolved.name, "n": n, "seed": seed}, store=store,
                         reuse_identical=True, attachments=attach(n, seed) if attach is not None else None)
