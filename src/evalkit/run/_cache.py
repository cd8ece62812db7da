"""Content-addressed response cache on local disk.

Layout: ``<EVALKIT_HOME>/cache/responses/<ab>/<cd>/<sha256-hex>.json``, one file per
``ModelRequest.cache_key()`` (which covers provider, model, rendered messages, params,
schema, logprobs, sample index, endpoint and template version). Each file holds the
ModelResponse JSON plus metadata (created, provider, model) — never request options
such as API keys: the key is a hash and the value is only what the model answered.

Concurrent writers are safe: each writes a private temp file in the same shard and
``os.replace``s it into place (atomic on POSIX); two writers of the same key write the
same answer-equivalent content and the last rename wins. A reader never sees a
partial file.

Each entry carries the sha256 of its own content (``sha256``: over the canonical JSON of the
other fields), checked on every read. An entry that is unreadable, lacks its checksum, or no
longer matches it (a flipped byte, an edit into other valid JSON) is *corrupt*: ``get`` raises
``CorruptCacheEntry`` naming the file, so it is never served, and a run refuses to start
rather than silently paying for the call again; deleting the file re-sends it knowingly.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from evalkit._secrets import redact_text
from evalkit.errors import DataError
from evalkit.providers import ModelRequest, ModelResponse

SCHEMA = 2
"""2: entries carry their own sha256. Entries of schema 1 (written before checksums) are still
served as they were, unverified, so an upgraded CI cache is not thrown away."""


class CorruptCacheEntry(DataError):
    """A cache entry that cannot be trusted: named, never served, never silently paid again."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: corrupt response-cache entry ({reason}); it is not used and its call is not "
                         "sent again silently. Delete the file to send the call (and pay for it) again, or "
                         "restore the entry.")
        self.path = path
        self.reason = reason


def _digest(payload: dict) -> str:
    body = {k: v for k, v in payload.items() if k != "sha256"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


@dataclass(frozen=True, kw_only=True)
class CacheStats:
    entries: int
    bytes: int
    oldest: datetime | None
    newest: datetime | None
    by_model: dict[str, int]
    corrupt: tuple[CorruptCacheEntry, ...] = ()
    """Entries that fail the checks a served entry passes (``evalkit cache prune --corrupt`` deletes them)."""


def _checked(path: Path, raw: bytes, key: str | None) -> tuple[dict[str, Any], ModelResponse]:
    """The entry and its answer, after every check a served entry passes; ``key``: the request it must
    answer (None: the one its file name says). CorruptCacheEntry when any check fails."""
    try:
        payload = json.loads(raw)
    except ValueError:
        raise CorruptCacheEntry(path, "not valid JSON") from None
    if not isinstance(payload, dict):
        raise CorruptCacheEntry(path, "not a cache entry")
    unchecked = payload.get("schema") == 1 and "sha256" not in payload  # written before checksums: as before
    if not unchecked and not isinstance(payload.get("sha256"), str):
        raise CorruptCacheEntry(path, "no checksum")
    if not unchecked and payload["sha256"] != _digest(payload):
        raise CorruptCacheEntry(path, "checksum mismatch: the content changed after it was written")
    stored = payload.get("key")
    if (stored != key) if key is not None else (str(stored).split(":", 1)[-1] != path.stem):
        raise CorruptCacheEntry(path, "it holds the answer to another request")
    try:
        return payload, ModelResponse.model_validate(payload["response"])
    except (ValueError, KeyError, TypeError) as exc:
        raise CorruptCacheEntry(path, f"not a model response ({type(exc).__name__})") from None


class ResponseCache:
    def __init__(self, root: Path | str | None = None) -> None:
        if root is None:
            from evalkit._home import cache_dir

            root = cache_dir()
        self.root = Path(root) / "responses"
        self._token = secrets.token_hex(4)
        self._counter = itertools.count()

    def path_for(self, key: str) -> Path:
        digest = key.split(":", 1)[-1]
        if len(digest) < 8 or not all(c in "0123456789abcdef" for c in digest):
            raise ValueError(f"not a cache key: {key!r}")
        return self.root / digest[:2] / digest[2:4] / f"{digest}.json"

    def contains(self, key: str) -> bool:
        """Whether an entry file exists for ``key`` (``get`` checks that it is intact)."""
        return self.path_for(key).is_file()

    def get(self, key: str) -> ModelResponse | None:
        """The cached answer; None when there is none; CorruptCacheEntry when the file cannot be trusted."""
        path = self.path_for(key)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None
        except (NotADirectoryError, PermissionError):
            raise  # the cache folder itself is unusable (EVALKIT_HOME a file, no access): a path problem, exit 2
        except OSError as exc:
            raise CorruptCacheEntry(path, f"unreadable: {exc.strerror or exc}") from None
        return _checked(path, raw, key)[1]

    def corrupt(self, keys: Iterable[str]) -> list[CorruptCacheEntry]:
        """The entries among ``keys`` that exist but cannot be trusted (checked before a run sends anything)."""
        out = []
        for key in keys:
            try:
                self.get(key)
            except CorruptCacheEntry as exc:
                out.append(exc)
        return out

    def put(self, request: ModelRequest, response: ModelResponse, *, key: str | None = None) -> Path:
        return self.put_answer(key or request.cache_key(), response, provider=request.provider, model=request.model)

    def put_answer(self, key: str, response: ModelResponse, *, provider: str, model: str) -> Path:
        """Store an answer under a known key (e.g. one restored from a baseline's answer bundle)."""
        path = self.path_for(key)
        payload = {
            "schema": SCHEMA,
            "key": key,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "provider": provider,
            "model": model,
            "response": response.model_dump(mode="json"),
        }
        payload = json.loads(redact_text(json.dumps(payload, sort_keys=True, separators=(",", ":"))))
        payload["sha256"] = _digest(payload)  # over what is stored: the redacted content
        data = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
        # A temp name unique to this process and writer (cheaper than mkstemp, which
        # matters at hundreds of calls per second); O_EXCL still refuses a clash.
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{self._token}.{next(self._counter)}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileNotFoundError:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            # No fsync: the cache is re-creatable; the rename alone keeps readers from
            # ever seeing a half-written entry.
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return path

    def _entries(self):
        if not self.root.is_dir():
            return
        for shard in self.root.iterdir():
            if not shard.is_dir():
                continue
            for sub in shard.iterdir():
                if sub.is_dir():
                    yield from (p for p in sub.iterdir() if p.suffix == ".json")

    def stats(self) -> CacheStats:
        entries = size = 0
        oldest = newest = None
        by_model: dict[str, int] = {}
        corrupt: list[CorruptCacheEntry] = []
        for path in self._entries():
            st = path.stat()
            entries += 1
            size += st.st_size
            mtime = st.st_mtime
            oldest = mtime if oldest is None else min(oldest, mtime)
            newest = mtime if newest is None else max(newest, mtime)
            try:
                meta, _ = _checked(path, path.read_bytes(), None)  # a served entry's checks: corrupt ones apart
                label = f"{meta.get('provider')}/{meta.get('model')}"
            except (CorruptCacheEntry, OSError) as exc:
                corrupt.append(exc if isinstance(exc, CorruptCacheEntry) else CorruptCacheEntry(path, "unreadable"))
                label = "(corrupt)"
            by_model[label] = by_model.get(label, 0) + 1

        def ts(v: float | None) -> datetime | None:
            return None if v is None else datetime.fromtimestamp(v, tz=UTC)

        return CacheStats(entries=entries, bytes=size, oldest=ts(oldest), newest=ts(newest),
                          by_model=dict(sorted(by_model.items())), corrupt=tuple(corrupt))

    def prune_corrupt(self) -> int:
        """Delete every entry that fails the checks a served entry passes; how many."""
        removed = 0
        for entry in self.stats().corrupt:
            entry.path.unlink(missing_ok=True)
            removed += 1
        return removed

    def prune(self, *, older_than_days: float | None = None) -> int:
        """Delete entries last written more than ``older_than_days`` ago (all when None)."""
        cutoff = None if older_than_days is None else time.time() - older_than_days * 86400
        removed = 0
        for path in list(self._entries()):
            if cutoff is None or path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
                removed += 1
        return removed
