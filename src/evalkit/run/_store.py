"""Run folders: ``reports/<run-id>/`` with manifest.json, journal, parquet tables, report."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from evalkit._home import reports_dir
from evalkit.errors import DataError, NotFound
from evalkit.runs import Manifest, write_file

MANIFEST = "manifest.json"


def new_run_id(suite_name: str, salt: str) -> str:
    now = datetime.now(UTC)
    digest = hashlib.sha256(f"{salt}|{now.isoformat()}".encode()).hexdigest()[:6]
    return f"{now:%Y%m%d-%H%M%S}-{suite_name}-{digest}"


def utc_now() -> str:
    # Milliseconds: runs started in the same second must still order by their creation time.
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def write_manifest(run_dir: Path, manifest: dict[str, Any]) -> None:
    write_file(run_dir, manifest, Manifest)


def read_manifest(run_dir: Path) -> dict[str, Any]:
    """The manifest of a run folder that must have one (resume, bless): NotFound otherwise."""
    if not (Path(run_dir) / MANIFEST).exists():
        raise NotFound(f"{run_dir}: not a run folder (no {MANIFEST})")
    try:
        return json.loads((Path(run_dir) / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise DataError(f"{Path(run_dir) / MANIFEST}: unreadable manifest ({exc})") from exc


def list_runs(root: Path | None = None) -> list[dict[str, Any]]:
    """Manifests of every run under ``root``, newest first."""
    root = Path(root or reports_dir())
    out = []
    for path in root.glob(f"*/{MANIFEST}"):
        try:
            manifest = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            continue
        manifest["_dir"] = str(path.parent)
        out.append(manifest)
    return sorted(out, key=lambda m: m.get("created", ""), reverse=True)


def find_resumable(root: Path, suite_sha: str, fingerprint: str) -> Path | None:
    """The newest unfinished run of the same suite and options, if any (re-running resumes it)."""
    for manifest in list_runs(root):
        if manifest.get("status") in ("running", "stopped", "evaluating") and manifest.get("suite", {}).get("sha256") == suite_sha \
                and manifest.get("fingerprint") == fingerprint:
            return Path(manifest["_dir"])
    return None
