"""The run journal: one JSON line per finished call, appended (and flushed, then
fsynced) as each call completes. It is the resume source of truth: a restarted run reads it, keeps
those records and sends none of their calls again.

A process killed mid-write (kill -9) can leave a torn last line; reading skips any
line that does not parse, and the next append starts on a fresh line.

When a run completes, ``seal_journal`` compacts and compresses the journal to
``journal.jsonl.gz``: written to a temp file, fsynced, renamed, and only then is the plain
file removed, so a kill at any point leaves every record readable (a record in both files is
the same record). Readers take the sealed lines first, then any plain ones (a completed run
resumed later appends to a new plain file). Raw outputs live once: a sealed record whose answer
text is in the run's ``results.parquet`` (byte for byte) refers to it instead of repeating it,
and reading fills the text back in (a missing or different table is a clear error, never a
re-sent call).
"""

from __future__ import annotations

import gzip
import json
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from evalkit._secrets import redact_text, secret_values
from evalkit.errors import DataError
from evalkit.providers import ModelResponse, Usage
from evalkit.run._records import CallRecord

JOURNAL_NAME = "journal.jsonl"
RESULTS_FILE = "results.parquet"
ANSWER_IN = "answer_in"
"""A sealed record's field naming the run file that holds its answer text."""
SEALED_SUFFIX = ".gz"
_FIELDS = {f.name for f in fields(CallRecord)}


def record_to_json(record: CallRecord) -> str:
    # Field by field, not dataclasses.asdict: that deep-copies the pydantic response only to replace it.
    data = {name: getattr(record, name) for name in _FIELDS}
    data["response"] = record.response.model_dump(mode="json") if record.response else None
    data["billed_usage"] = [u.model_dump(mode="json") for u in record.billed_usage]
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


def record_from_json(line: str) -> CallRecord:
    data: dict[str, Any] = json.loads(line)
    data = {k: v for k, v in data.items() if k in _FIELDS}  # tolerate fields from newer versions
    if data.get("response") is not None:
        data["response"] = ModelResponse.model_validate(data["response"])
    data["billed_usage"] = [Usage.model_validate(u) for u in data.get("billed_usage") or []]
    return CallRecord(**data)


Key = tuple[str, str, int]


@dataclass(frozen=True, kw_only=True)
class AttemptStart:
    """Written before an attempt is sent: a killed process leaves it without its record."""

    key: Key
    cache_key: str
    n: int
    worst_usd: float | None


@dataclass(kw_only=True)
class JournalState:
    records: dict[Key, CallRecord] = field(default_factory=dict)
    orphans: dict[Key, list[AttemptStart]] = field(default_factory=dict)
    """Attempts started but not followed by their call's record (possibly billed)."""


def attempt_to_json(start: AttemptStart) -> str:
    return json.dumps({"attempt": {"key": list(start.key), "cache_key": start.cache_key, "n": start.n,
                                   "worst_usd": start.worst_usd}}, sort_keys=True, separators=(",", ":"))


def read_journal_state(path: Path) -> JournalState:
    """Records and orphaned attempt starts. A torn last line (a write cut by a kill) is
    ignored; any other unreadable line raises DataError naming the file and line: silently
    skipping it would send (and pay for) its call again."""
    state = JournalState()
    by_reference: list[CallRecord] = []
    lines = list(journal_lines(path))
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            if "attempt" in data:
                a = data["attempt"]
                start = AttemptStart(key=(a["key"][0], a["key"][1], int(a["key"][2])), cache_key=a["cache_key"],
                                     n=int(a["n"]), worst_usd=a.get("worst_usd"))
                state.orphans.setdefault(start.key, []).append(start)
                continue
            rec = record_from_json(line)
            if data.get(ANSWER_IN):
                by_reference.append(rec)
        except (ValueError, TypeError, KeyError, IndexError) as exc:
            if number == len(lines) and not line.endswith("\n"):
                continue  # torn tail from an interrupted write
            raise DataError(
                f"{path}: line {number} is not a valid journal entry ({type(exc).__name__}); the journal is "
                "corrupt. Its call would be sent (and paid) again on resume, so evalkit stops here: restore the "
                "file, or delete that line to re-send the call knowingly."
            ) from None
        state.records[rec.key] = rec
        state.orphans.pop(rec.key, None)  # the record accounts for every attempt before it
    if by_reference:
        _fill_answers(Path(path).parent / RESULTS_FILE, by_reference)
    return state


def _answers(results: Path) -> dict[Key, str]:
    """Answer texts by call key from a run's results table ({} when it has none)."""
    import pyarrow.parquet as pq

    from evalkit._checksums import verify_artifact

    verify_artifact(results)  # a damaged table must not put other answers into the journal's records
    table = pq.read_table(results, columns=["config", "case_id", "sample_index", "raw_output"]).to_pydict()
    return {(c, k, int(i)): t for c, k, i, t in zip(table["config"], table["case_id"], table["sample_index"],
                                                     table["raw_output"], strict=True) if t is not None}


def _fill_answers(results: Path, records: list[CallRecord]) -> None:
    try:
        answers = _answers(results)
    except (OSError, ValueError, KeyError) as exc:
        raise DataError(f"{results}: the sealed journal keeps its answer texts here, and it cannot be read "
                        f"({type(exc).__name__}); restore it from a backup (no call is re-sent)") from None
    for rec in records:
        text = answers.get(rec.key)
        if text is None or rec.response is None:
            raise DataError(f"{results}: has no answer for {rec.key}, which the sealed journal refers to; "
                            "restore the run's results.parquet (no call is re-sent)")
        rec.response = rec.response.model_copy(update={"text": text})


def read_journal(path: Path) -> dict[Key, CallRecord]:
    """Records by (config, case_id, sample_index); a later line for a key wins."""
    return read_journal_state(path).records


def sealed_path(path: Path) -> Path:
    return Path(path).with_name(Path(path).name + SEALED_SUFFIX)


def journal_lines(path: Path) -> Iterator[str]:
    """Every line of the journal at ``path``: the sealed (compressed) part first, then the plain file."""
    sealed = sealed_path(path)
    if sealed.exists():
        from evalkit._checksums import verify_artifact

        verify_artifact(sealed)
        with gzip.open(sealed, "rt", encoding="utf-8") as fh:
            yield from fh
    if Path(path).exists():
        with open(path, encoding="utf-8") as fh:
            yield from fh


def seal_journal(path: Path) -> Path | None:
    """Compress a finished run's journal in place; returns the sealed file (None: no journal).

    Crash-safe at every step: the compressed copy is written atomically (evalkit._io: temp file,
    fsync, rename) before the plain file goes, and readers accept both at once.
    """
    from evalkit import _io

    path = Path(path)
    sealed = sealed_path(path)
    if not path.exists():
        return sealed if sealed.exists() else None
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        data = data[: data.rfind(b"\n") + 1]  # a torn last line is not a record
    if sealed.exists():  # sealed before, resumed since: keep the old lines first
        data = _with_answers_inline(gzip.decompress(sealed.read_bytes()), path.parent / RESULTS_FILE) + data
    results = path.parent / RESULTS_FILE
    answers = _answers(results) if results.exists() else {}
    _io.write_bytes(sealed, gzip.compress(compact_lines(data, answers), compresslevel=9, mtime=0))
    path.unlink()
    return sealed


def self_contained_lines(path: Path) -> str:
    """Every journal line of a run (sealed part first), with referred answer texts written back in:
    what another run folder can take over (``evalkit merge``)."""
    path = Path(path)
    sealed = sealed_path(path)
    data = _with_answers_inline(gzip.decompress(sealed.read_bytes()), path.parent / RESULTS_FILE) \
        if sealed.exists() else b""
    if path.exists():
        data += path.read_bytes()
    return data.decode("utf-8")


def _with_answers_inline(data: bytes, results: Path) -> bytes:
    """Sealed lines with every referred answer text written back in (before a re-seal)."""
    if ANSWER_IN.encode() not in data:
        return data
    state_lines = []
    answers: dict[Key, str] | None = None
    for line in data.splitlines(keepends=True):
        entry = json.loads(line)
        if entry.get(ANSWER_IN):
            if answers is None:
                answers = _answers(results)
            key = (entry["config"], entry["case_id"], int(entry["sample_index"]))
            entry["response"]["text"] = answers[key]
            del entry[ANSWER_IN]
            line = (json.dumps(entry, sort_keys=True, separators=(",", ":")) + "\n").encode()
        state_lines.append(line)
    return b"".join(state_lines)


def compact_lines(data: bytes, answers: dict[Key, str] | None = None) -> bytes:
    """The journal lines that still say something once a run is sealed: the last record per call,
    and attempt starts that no later record accounts for (possibly billed). A record whose answer
    text equals ``answers[key]`` (the results table's) refers to it instead of repeating it.
    Reading the result gives the same ``JournalState`` as reading ``data``; unparseable lines are
    kept as they are so that the reader still reports them."""
    answers = answers or {}
    lines = data.splitlines(keepends=True)
    keys: list[tuple[str, Key | None]] = []
    for line in lines:
        try:
            entry = json.loads(line)
            if "attempt" in entry:
                k = entry["attempt"]["key"]
                keys.append(("attempt", (k[0], k[1], int(k[2]))))
            else:
                keys.append(("record", (entry["config"], entry["case_id"], int(entry["sample_index"]))))
        except (ValueError, TypeError, KeyError, IndexError):
            keys.append(("other", None))
    kept: list[bytes] = []
    recorded: set[Key] = set()
    for line, (kind, key) in zip(reversed(lines), reversed(keys), strict=True):
        if kind == "other" or key is None:
            kept.append(line)
        elif kind == "record" and key not in recorded:
            recorded.add(key)
            kept.append(_by_reference(line, answers.get(key)))
        elif kind == "attempt" and key not in recorded:
            kept.append(line)
    return b"".join(reversed(kept))


def _by_reference(line: bytes, answer: str | None) -> bytes:
    if answer is None:
        return line
    entry = json.loads(line)
    response = entry.get("response")
    if not isinstance(response, dict) or response.get("text") != answer:
        return line
    response["text"] = ""
    entry[ANSWER_IN] = RESULTS_FILE
    return (json.dumps(entry, sort_keys=True, separators=(",", ":")) + "\n").encode()


class JournalWriter:
    """Appends records. Each line is written and flushed to the OS at once (so it
    survives kill -9 of this process) and fsynced by a background thread that
    coalesces syncs (group commit): an fsync costs ~0.6 ms here and would otherwise
    stall the event loop on every call. ``close`` waits for the last fsync."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.exists() and self.path.stat().st_size > 0:
            data = self.path.read_bytes()
            if not data.endswith(b"\n"):  # cut a torn tail (a write cut by a kill): the next line starts whole
                with open(self.path, "rb+") as fh:
                    fh.truncate(data.rfind(b"\n") + 1)
        self._fh = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - lives until close()
        self._secrets = secret_values()  # the run's key variables are set before it starts: read them once
        self._dirty = threading.Event()
        self._closing = False
        self._syncer = threading.Thread(target=self._sync_loop, name="evalkit-journal-fsync", daemon=True)
        self._syncer.start()

    def _sync_loop(self) -> None:
        while True:
            self._dirty.wait()
            self._dirty.clear()
            try:
                os.fsync(self._fh.fileno())
            except (OSError, ValueError):  # closed underneath us: close() syncs itself
                return
            if self._closing and not self._dirty.is_set():
                return

    def append(self, record: CallRecord, *, sync: bool = True) -> None:
        """``sync=False``: flushed to the OS (it survives a kill -9) without asking for an fsync
        (a power cut may lose it: for answers that cost nothing to recompute)."""
        self._write(redact_text(record_to_json(record), values=self._secrets), sync=sync)

    def attempt(self, start: AttemptStart) -> None:
        """Before sending: flushed to the OS, so it survives a kill -9 of this process."""
        self._write(redact_text(attempt_to_json(start), values=self._secrets))

    def _write(self, line: str, *, sync: bool = True) -> None:
        self._fh.write(line + "\n")
        self._fh.flush()
        if sync:
            self._dirty.set()

    def close(self) -> None:
        if self._fh.closed:
            return
        self._closing = True
        self._dirty.set()
        self._syncer.join(5)
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._fh.close()
