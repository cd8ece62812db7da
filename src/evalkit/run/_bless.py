"""Blessing a complete run as a baseline: copy what a baseline needs to a folder (e.g. one
committed for CI), atomically.

DEST is only ever *replaced* when it is an earlier baseline (only the files a blessing writes,
with a manifest.json). Anything else that exists there - a folder of the user's own files, the
reports folder, a run folder, the run itself - is refused (exit 2) and left as it was.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import tempfile
from pathlib import Path

from evalkit._checksums import verify_run
from evalkit.errors import ConfigError
from evalkit.run._store import read_manifest

BASELINE_FILES = ("manifest.json", "scores.parquet", "results.parquet", "summary.json", "thresholds.json",
                  "projection.json", "judge.json", "suite.yaml", "catalogue.yaml")  # catalogue: only when the suite named one
BASELINE_DIRS = ("prompts", "answers")  # answers: the bundle (evalkit.run._answers.FOLDER)
_RUN_ONLY = ("journal.jsonl", "journal.jsonl.gz", "report.html")  # files a run folder has and a baseline never does


def _within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _not_a_baseline(dest: Path) -> str | None:
    """Why the existing folder ``dest`` is not an earlier baseline (None when it is one, or empty)."""
    entries = sorted(dest.iterdir())
    if not entries:
        return None
    if not (dest / "manifest.json").is_file():
        return "it is not empty and holds no baseline manifest.json"
    for entry in entries:
        if entry.name in BASELINE_FILES and entry.is_file() and not entry.is_symlink():
            continue
        if entry.name in BASELINE_DIRS and entry.is_dir() and not entry.is_symlink():
            nested = next((p for p in entry.rglob("*") if p.name in ("manifest.json", *_RUN_ONLY)), None)
            if nested is None:
                continue
            return f"it contains {nested.relative_to(dest)}, which a baseline does not"
        what = "a run folder's" if entry.name in _RUN_ONLY else "not a baseline's"
        return f"it holds {entry.name!r} ({what})"
    return None


def check_dest(run_dir: Path, dest: Path, *, reports: list[Path] | None = None) -> None:
    """ConfigError (exit 2) unless blessing ``run_dir`` to ``dest`` can only replace an earlier baseline."""
    run = Path(run_dir).resolve()
    target = Path(dest).expanduser().resolve()
    if _within(target, run):
        raise ConfigError(f"refusing to bless into {dest}: it is {'the run folder' if target == run else 'inside the run folder'} "
                          f"{run_dir}; name a folder outside the reports folder")
    if _within(run, target):
        raise ConfigError(f"refusing to bless into {dest}: it contains the run folder {run_dir}, whose files "
                          "would be replaced; name a new folder or an earlier baseline")
    for root in {run.parent, *(Path(r).expanduser().resolve() for r in reports or ())}:
        if _within(root, target):
            raise ConfigError(f"refusing to bless into {dest}: it {'is' if root == target else 'contains'} the "
                              f"reports folder {root}; name a new folder or an earlier baseline")
    if not Path(dest).exists() and not Path(dest).is_symlink():
        return
    if not target.is_dir():
        raise ConfigError(f"refusing to bless into {dest}: it exists and is not a folder; remove it or name another")
    why = _not_a_baseline(target)
    if why is not None:
        raise ConfigError(f"refusing to bless into {dest}: {why}. Only an earlier baseline is replaced; "
                          "name a new folder, or empty this one yourself")


def _exchange(a: Path, b: Path) -> bool:
    """Swap two folders in one step (Linux renameat2 RENAME_EXCHANGE); False when the system cannot."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    return renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0


def _publish(staging: Path, dest: Path) -> None:
    """Put ``staging`` at ``dest``: a plain rename when dest is new, else an atomic swap with the old baseline."""
    if not dest.exists():
        staging.rename(dest)
        return
    if _exchange(staging, dest):  # staging now holds the old baseline
        shutil.rmtree(staging, ignore_errors=True)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{dest.name}.old-", dir=dest.parent))
    old.rmdir()
    dest.rename(old)
    try:
        staging.rename(dest)
    except BaseException:
        old.rename(dest)  # put the earlier baseline back
        raise
    shutil.rmtree(old, ignore_errors=True)


def bless_baseline(run_dir: Path, dest: Path, *, reports: Path | None = None) -> list[Path]:
    """Copy what a baseline needs (not the journal) to ``dest``, e.g. a folder committed for CI.

    Refuses an unfinished run, and a ``dest`` that exists but is not an earlier baseline (or is,
    or contains, the run or a reports folder: ``reports`` and the run's own); replaces an earlier
    baseline atomically so CI never sees half a baseline.
    """
    run_dir = Path(run_dir)
    manifest = read_manifest(run_dir)
    if manifest.get("status") != "complete":
        raise ConfigError(f"{run_dir}: run status is {manifest.get('status')!r}; only a complete run can be a baseline")
    from evalkit.run._answers import check_blessable

    check_blessable(run_dir, manifest)
    check_dest(run_dir, dest, reports=[reports] if reports is not None else None)
    verify_run(run_dir)  # a baseline is never blessed from damaged files
    dest = Path(dest).expanduser()
    if dest.is_symlink():
        dest = dest.resolve()
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.staging-", dir=dest.parent))
    try:
        for name in BASELINE_FILES:
            if (run_dir / name).exists():
                shutil.copy2(run_dir / name, staging / name)
        if (run_dir / "prompts").is_dir():
            shutil.copytree(run_dir / "prompts", staging / "prompts")
        from evalkit.run._answers import write_bundle

        write_bundle(run_dir, staging)  # the answers it was scored on, so CI never buys them again
        staging.chmod(0o755 & ~_umask())
        _publish(staging, dest)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return sorted(dest.rglob("*"))


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
