"""The on-disk case table: deterministic zstd parquet, and hash-checked reading.

Columns: ``case_id``, ``segment``, ``variant`` (for filtering without parsing) and
``case_json`` (the case's canonical JSON, the source of truth). No timestamps or
pandas metadata go into the file, so the same cases in the same order give the
same bytes (for a given pyarrow version) and the manifest hash is reproducible.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel

from evalkit._checksums import file_sha256 as sha256_file  # noqa: F401 - one file hasher (run artifacts too)
from evalkit.errors import DataError

if TYPE_CHECKING:
    from concurrent.futures import Future

    import pyarrow as pa

COLUMNS = ("case_id", "segment", "variant", "case_json")
# Fixed (so pyarrow default changes cannot change the bytes) and modest: a row group of
# ~4 KB cases is ~64 MB of JSON, which bounds memory while streaming 100k+ cases.
ROW_GROUP_ROWS = 1 << 14
ZSTD_LEVEL = 3
Row = tuple[str, str, str, bytes]
"""case_id, segment, variant, canonical case JSON as UTF-8 bytes."""


def canonical_json(case: BaseModel) -> bytes:
    """``case.model_dump_json()`` as UTF-8 bytes, without the str round-trip.

    Same serializer call that ``model_dump_json`` makes (it only adds ``.decode()``);
    skipping the decode/re-encode saves about a third of the write time for 100k cases.
    """
    serializer = getattr(case, "__pydantic_serializer__", None)
    if serializer is None:  # pragma: no cover - every pydantic v2 model has one
        return case.model_dump_json().encode()
    return serializer.to_json(case)


def _schema() -> pa.Schema:
    import pyarrow as pa

    return pa.schema([(c, pa.string()) for c in COLUMNS])


def _batches(rows: Iterable[Row], size: int) -> Iterator[list[Row]]:
    batch: list[Row] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def write_rows(path: Path, rows: Iterable[Row]) -> int:
    """Stream rows into ``path`` one row group at a time; return the row count.

    Encoding and zstd compression of a row group run in a helper thread (pyarrow
    releases the GIL there) while the next batch is produced; at most one batch is in
    flight, and batches are written in order, so memory stays bounded and the bytes
    are the same as a sequential write.
    """
    from concurrent.futures import ThreadPoolExecutor

    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = _schema()
    count = 0
    pending: Future[None] | None = None
    with ThreadPoolExecutor(max_workers=1) as pool, \
            pq.ParquetWriter(path, schema, compression="zstd", compression_level=ZSTD_LEVEL,
                             write_statistics=True, store_schema=True) as writer:
        try:
            for batch in _batches(rows, ROW_GROUP_ROWS):
                columns = list(zip(*batch))
                table = pa.Table.from_arrays([pa.array(col, type=pa.string()) for col in columns], schema=schema)
                if pending is not None:
                    pending.result()
                pending = pool.submit(writer.write_table, table, row_group_size=ROW_GROUP_ROWS)
                count += len(batch)
        finally:
            if pending is not None:
                _wait_out(pending)  # never close the writer under a running write
    return count


def _wait_out(pending: Future[None]) -> None:
    """Wait until the write in flight has finished, even if a signal handler's exception (SIGTERM, Ctrl-C)
    arrives meanwhile: closing the writer under a running write crashes the process (SIGSEGV) and leaves
    the temp folder behind. The interruption is raised once the write is done."""
    from concurrent.futures import wait

    interrupted: BaseException | None = None
    while not pending.done():
        try:
            wait([pending])
        except BaseException as exc:  # noqa: BLE001 - re-raised below, after the write
            interrupted = exc
    if interrupted is not None:
        raise interrupted
    pending.result()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_verified(path: Path, *, expected_sha256: str, expected_rows: int) -> pa.Table:
    """Read the case table, refusing it unless its bytes hash to the manifest's sha256.

    The bytes are read and hashed on every call, once. The tables decoded last are kept by that
    hash (arrow tables are immutable): a run decodes its dataset once to plan, and its report reuses
    it for case facts and prompts."""
    if not path.is_file():
        raise DataError(f"{path}: missing case table (the version folder is incomplete)")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataError(f"{path}: cannot read the case table: {exc.strerror}") from None
    content = _Content(sha256=sha256_bytes(data), data=data)
    if content.sha256 != expected_sha256:
        raise DataError(
            f"{path}: content hash mismatch (expected {expected_sha256}, got {content.sha256}): "
            "the dataset was modified after it was published"
        )
    return _decoded(content, expected_rows, str(path))


@dataclass(frozen=True)
class _Content:
    """A case table's bytes, equal to another by their sha256 alone (the decoded tables' cache key)."""

    sha256: str
    data: bytes = field(compare=False, repr=False)


@lru_cache(maxsize=2)
def _decoded(content: _Content, expected_rows: int, name: str) -> pa.Table:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path, data = Path(name), content.data
    try:
        table = pq.ParquetFile(pa.BufferReader(data)).read()  # not read_table: it imports pyarrow.dataset
    except (pa.ArrowException, OSError) as exc:  # hash matched, so the manifest itself points at junk
        raise DataError(f"{path}: unreadable parquet: {exc}") from exc
    missing = [c for c in COLUMNS if c not in table.column_names]
    if missing:
        raise DataError(f"{path}: missing column(s) {', '.join(missing)}; expected {', '.join(COLUMNS)}")
    if table.num_rows != expected_rows:
        raise DataError(f"{path}: {table.num_rows} rows but the manifest says {expected_rows}")
    from evalkit._io import release_freed_memory

    release_freed_memory()  # the decode's scratch pages (decompression, page buffers) go back
    return table.select(list(COLUMNS))
