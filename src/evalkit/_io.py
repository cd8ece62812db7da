"""Atomic file writes: write to a temp file in the same folder, fsync, then rename.

A reader never sees a half-written file, and an interrupted write leaves the old
file (or nothing) in place. Every text, JSON and parquet write passes through the
redaction layer (``evalkit._secrets``), so no writer can put an API key on disk.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from evalkit._redact_table import redact_table
from evalkit._secrets import redact_text


def _atomic(path: Path, write: Callable[[Path], None]) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    os.chmod(tmp_path, 0o644)  # mkstemp creates 0600; reports and datasets are meant to be shared
    try:
        write(tmp_path)
        with open(tmp_path, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp_path, path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
    return path


def write_bytes(path: Path | str, data: bytes) -> Path:
    """Binary data as is; UTF-8 text given as bytes is redacted like ``write_text``."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return _atomic(Path(path), lambda p: p.write_bytes(data))
    return write_text(path, text)


def write_binary(path: Path | str, data: bytes) -> Path:
    """Bytes that are not text (a marshal file of our own making) exactly as given: redaction would
    alter them, and they hold nothing from the environment."""
    return _atomic(Path(path), lambda p: p.write_bytes(data))


def credential_in_copy(data: bytes, *, source: str) -> str | None:
    """Why a copy of a user's input file (a catalogue, a prompt template, a suite) cannot be written
    byte for byte: it holds what the redaction layer would remove (``source:line: ...``), or None.
    Such copies are hashed or read back (a dataset's attachments, a run's inputs for resume), so
    redacting them would corrupt them: they are written verbatim or refused."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    clean = redact_text(text)
    if clean == text:
        return None
    line = next((i for i, (a, b) in enumerate(zip(text.splitlines(), clean.splitlines()), 1) if a != b), 1)
    return (f"{source}:{line}: holds what looks like a credential (a key value, or a key-shaped string); "
            "evalkit never writes one to disk: remove it, and keep the key in an environment variable")


def write_verbatim(path: Path | str, data: bytes, *, source: str) -> Path:
    """A copy of a user's input file, byte for byte (``credential_in_copy``: refused, ConfigError)."""
    from evalkit.errors import ConfigError

    problem = credential_in_copy(data, source=source)
    if problem is not None:
        raise ConfigError(problem)
    return _atomic(Path(path), lambda p: p.write_bytes(data))


def write_text(path: Path | str, text: str) -> Path:
    clean = redact_text(text)
    return _atomic(Path(path), lambda p: p.write_text(clean, encoding="utf-8"))


def write_json(path: Path | str, obj: Any) -> Path:
    return write_text(path, json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")


def write_parquet(path: Path | str, table: Any) -> Path:
    """Write a pyarrow Table or pandas DataFrame as zstd parquet, atomically."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if not isinstance(table, pa.Table):
        table = pa.Table.from_pandas(table, preserve_index=False)
    table = redact_table(table)
    return _atomic(Path(path), lambda p: pq.write_table(table, p, compression="zstd"))


def release_freed_memory() -> None:
    """Give freed memory's pages back to the system after a phase that allocated much and kept little
    (decoding a case table, validating its cases). Arrow's default allocator (mimalloc; the CLI
    chooses malloc, evalkit/cli/__init__.py) keeps freed buffers' pages for reuse (measured: 109 MB
    kept for a 24 MB table), and so does glibc's malloc for freed mid-size blocks such as the cases'
    JSON text (measured: ~45 MB after validating 2,000 cases)."""
    import ctypes

    import pyarrow as pa

    pa.default_memory_pool().release_unused()
    trim = getattr(ctypes.CDLL(None), "malloc_trim", None)  # the process's own C library
    if trim is not None:  # glibc only: other C libraries give pages back on their own terms
        trim(0)


def process_exists(pid: int) -> bool:
    """Whether process ``pid`` runs on this machine (another user's process counts: it runs)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
