"""Checksums of the files a run writes, verified when they are read back.

A complete run's ``manifest.json`` holds ``checksums``: the sha256 of every artifact the run
stage wrote (results and scores tables, summary, judge agreement, the sealed journal, the
suite and prompt copies), keyed by path relative to the run folder. Readers of those files
call ``verify_artifact`` first: a file that changed since (a flipped byte, an edit into other
valid content) is a DataError naming the file, never read as if it were the run's.

Files a run folder has no checksum for (folders made by hand, runs from before checksums,
files written by later stages) are read as they are.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path

from evalkit.errors import DataError

MANIFEST = "manifest.json"
KEY = "checksums"
RUN_ARTIFACTS = ("results.parquet", "scores.parquet", "summary.json", "judge.json", "journal.jsonl.gz",
                 "suite.yaml", "catalogue.yaml")
"""What the run stage writes before it marks a run complete (plus ``prompts/*.j2``)."""


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def artifact_checksums(run_dir: Path, names: Iterable[str] = RUN_ARTIFACTS) -> dict[str, str]:
    """sha256 of each named file that exists in ``run_dir``, and of every prompt copy."""
    run_dir = Path(run_dir)
    out = {name: file_sha256(run_dir / name) for name in names if (run_dir / name).is_file()}
    prompts = run_dir / "prompts"
    if prompts.is_dir():
        out.update({p.relative_to(run_dir).as_posix(): file_sha256(p) for p in sorted(prompts.glob("*.j2"))})
    return out


def recorded_checksums(run_dir: Path) -> dict[str, str]:
    """The checksums a run folder's manifest records ({} when none or no readable manifest)."""
    try:
        manifest = json.loads((Path(run_dir) / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    sums = manifest.get(KEY) if isinstance(manifest, dict) else None
    return {k: v for k, v in sums.items() if isinstance(v, str)} if isinstance(sums, dict) else {}


def verify_artifact(path: Path | str, *, expected: dict[str, str] | None = None) -> None:
    """DataError when ``path`` no longer matches the checksum its run folder recorded for it.

    ``expected`` is the folder's recorded checksums when the caller already has them."""
    path = Path(path)
    sums = recorded_checksums(path.parent) if expected is None else expected
    want = sums.get(path.name)
    if want is None or not path.is_file():
        return
    got = file_sha256(path)
    if got != want:
        raise DataError(
            f"{path}: corrupt: its checksum (sha256 {got[:12]}...) is not the one recorded in "
            f"{path.parent / MANIFEST} when the run wrote it ({want[:12]}...); the file was damaged or edited "
            "since. Restore it from a backup or re-run the suite (cached answers are not paid again).")


def verify_run(run_dir: Path | str) -> None:
    """Every recorded artifact of a run folder as written; DataError naming the first that is not."""
    run_dir = Path(run_dir)
    sums = recorded_checksums(run_dir)
    for name in sorted(sums):
        path = run_dir / name
        if not path.is_file():
            raise DataError(f"{path}: missing: the run recorded it as written ({run_dir / MANIFEST}); "
                            "restore it or re-run the suite")
        verify_artifact(path, expected={path.name: sums[name]})
