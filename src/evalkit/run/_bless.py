"""Blessing a complete run as a baseline: copy what a baseline needs to a folder (e.g. one
committed for CI), atomically."""

from __future__ import annotations

import shutil
from pathlib import Path

from evalkit._checksums import verify_run
from evalkit.errors import ConfigError
from evalkit.run._store import read_manifest

BASELINE_FILES = ("manifest.json", "scores.parquet", "results.parquet", "summary.json", "thresholds.json",
                  "projection.json", "judge.json", "suite.yaml", "catalogue.yaml")  # catalogue: only when the suite named one


def bless_baseline(run_dir: Path, dest: Path) -> list[Path]:
    """Copy what a baseline needs (not the journal) to ``dest``, e.g. a folder committed for CI.

    Refuses an unfinished run; replaces ``dest`` atomically so CI never sees half a baseline.
    """
    manifest = read_manifest(run_dir)
    if manifest.get("status") != "complete":
        raise ConfigError(f"{run_dir}: run status is {manifest.get('status')!r}; only a complete run can be a baseline")
    from evalkit.run._answers import check_blessable

    check_blessable(run_dir, manifest)
    verify_run(run_dir)  # a baseline is never blessed from damaged files
    dest = Path(dest)
    staging = dest.with_name(f".{dest.name}.staging")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for name in BASELINE_FILES:
        if (run_dir / name).exists():
            shutil.copy2(run_dir / name, staging / name)
    if (run_dir / "prompts").is_dir():
        shutil.copytree(run_dir / "prompts", staging / "prompts")
    from evalkit.run._answers import write_bundle

    write_bundle(run_dir, staging)  # the answers it was scored on, so CI never buys them again
    old = dest.with_name(f".{dest.name}.old")
    if dest.exists():
        dest.rename(old)
    staging.rename(dest)
    shutil.rmtree(old, ignore_errors=True)
    return sorted(dest.rglob("*"))
