"""A blessed baseline's answer bundle: the model answers it was scored on, beside it.

Layout (inside the baseline folder)::

    answers/bundle.json                    {"schema", "file", "sha256", "entries", "by_model"}
    answers/<sha256 prefix>.jsonl.gz       one line per answer: {"key", "provider", "model", "response"}

Content-addressed twice: each answer is keyed by the request's cache key (provider,
model, rendered messages, params, template version...), and the file is named by the
hash of its bytes, which ``bundle.json`` records and reading checks (a corrupted or
hand-edited bundle is refused, exit 2). Lines are sorted by key and the gzip header
carries no time, so re-blessing the same run gives the same bytes (small git diffs).

Before a run, ``restore_answers`` copies every answer into the local response cache;
the executor then answers an unchanged configuration from there (a cache hit: no call,
no spend) and calls only what changed. ``--replay`` works the same way, offline.
Offline providers (the simulator, the rules baseline) are left out: they cost nothing
to call again.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
from collections import Counter
from pathlib import Path
from typing import Any

from evalkit import _io
from evalkit.errors import ConfigError, DataError

SCHEMA = 1
POINTER = "bundle.json"
FOLDER = "answers"


def _offline(provider: str) -> bool:
    """Whether a provider answers without a model call (its class says so); unknown: not offline."""
    from evalkit.errors import EvalkitError
    from evalkit.providers import provider_class

    try:
        return bool(getattr(provider_class(provider), "offline", False))
    except (EvalkitError, ImportError):
        return False


def _sources(manifest: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """Configuration name -> (provider, model), the judge included."""
    out = {c["name"]: (c["provider"], c["model"]) for c in manifest.get("configs") or [] if c.get("name")}
    judge = (((manifest.get("suite") or {}).get("spec") or {}).get("scoring") or {}).get("judge")
    if isinstance(judge, dict) and judge.get("provider"):
        from evalkit.run._records import JUDGE

        out[JUDGE] = (judge["provider"], judge.get("model", ""))
    return out


def check_blessable(run_dir: Path, manifest: dict[str, Any]) -> None:
    """A baseline must cover the cases: a shard, a partial merge or an early-stopped sequential run does not."""
    shard = (manifest.get("request") or {}).get("shard")
    if shard:
        raise ConfigError(f"{run_dir}: a shard run ({shard[0]}/{shard[1]}) holds part of the cases; "
                          "merge the shards first (evalkit merge RUN...) and bless the merged run")
    partial = manifest.get("partial")
    if partial:
        raise ConfigError(f"{run_dir}: a partial merge (shards {', '.join(map(str, partial.get('shards', [])))} of "
                          f"{partial.get('of')}) holds part of the cases; merge every shard and bless that run")
    seq = manifest.get("sequential") or {}
    if seq and seq.get("cases_done") != seq.get("cases_total"):
        raise ConfigError(f"{run_dir}: a sequential run that stopped early ({seq.get('cases_done')} of "
                          f"{seq.get('cases_total')} cases) cannot be a baseline; run the suite in full")


def write_bundle(run_dir: Path, dest: Path) -> Path | None:
    """Write ``dest/answers/`` from the run's journal; None when nothing needs bundling."""
    from evalkit.run._journal import JOURNAL_NAME, read_journal
    from evalkit.run._store import read_manifest

    sources = _sources(read_manifest(run_dir))
    offline = {name: _offline(provider) for name, (provider, _model) in sources.items()}
    entries: dict[str, str] = {}
    by_model: Counter[str] = Counter()
    for rec in read_journal(Path(run_dir) / JOURNAL_NAME).values():
        if rec.status != "ok" or rec.response is None or offline.get(rec.config, True):
            continue
        provider, model = sources[rec.config]
        line = json.dumps({"key": rec.cache_key, "provider": provider, "model": model,
                           "response": rec.response.model_dump(mode="json")}, sort_keys=True, separators=(",", ":"))
        if rec.cache_key not in entries:
            by_model[f"{provider}/{model}"] += 1
        entries[rec.cache_key] = line
    if not entries:
        return None
    raw = "".join(entries[k] + "\n" for k in sorted(entries)).encode()
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0, compresslevel=9) as gz:
        gz.write(raw)
    data = buf.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    folder = Path(dest) / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{digest[:16]}.jsonl.gz"
    _io.write_bytes(folder / name, data)
    _io.write_json(folder / POINTER, {"schema": SCHEMA, "file": name, "sha256": digest, "entries": len(entries),
                                      "by_model": dict(sorted(by_model.items()))})
    return folder / POINTER


def bundle_of(baseline: Path | str | None) -> Path | None:
    """The bundle folder of a baseline folder, if it has one."""
    if baseline is None:
        return None
    folder = Path(baseline) / FOLDER
    return folder if (folder / POINTER).is_file() else None


def read_bundle(folder: Path) -> list[dict[str, Any]]:
    """Entries of a bundle after checking its hash; DataError (exit 2) names what is wrong."""
    pointer_path = Path(folder) / POINTER
    try:
        pointer = json.loads(pointer_path.read_text(encoding="utf-8"))
        path = Path(folder) / pointer["file"]
        data = path.read_bytes()
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DataError(f"{pointer_path}: unreadable answer bundle ({exc})") from None
    if hashlib.sha256(data).hexdigest() != pointer.get("sha256"):
        raise DataError(f"{path}: sha256 does not match {pointer_path}; the answer bundle was changed after "
                        "blessing - re-bless the baseline (evalkit runs bless RUN DEST)")
    out = []
    for i, line in enumerate(gzip.decompress(data).decode().splitlines(), start=1):
        try:
            out.append(json.loads(line))
        except ValueError:
            raise DataError(f"{path}: line {i} is not JSON") from None
    return out


def restore_answers(folder: Path, cache_root: Path | str | None = None) -> int:
    """Put every bundled answer the local cache lacks into it; returns how many were added."""
    from evalkit.providers import ModelResponse
    from evalkit.run._cache import CorruptCacheEntry, ResponseCache

    cache = ResponseCache(cache_root)
    added = 0
    for entry in read_bundle(folder):
        key = entry["key"]
        if cache.contains(key):
            try:
                cache.get(key)
                continue
            except CorruptCacheEntry:
                pass  # the bundle holds this answer intact: it replaces the damaged entry (nothing is paid)
        cache.put_answer(key, ModelResponse.model_validate(entry["response"]), provider=entry["provider"],
                         model=entry["model"])
        added += 1
    return added
