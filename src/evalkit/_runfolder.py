"""Run folders: find one from a user's reference, read its JSON files.

A run reference is a path to a run folder, a run id under the reports folder
(``evalkit._home.reports_dir()``), a unique prefix of a run id, or ``latest``
(the run whose manifest says it was created most recently). Every stage that reads a
stored run (score, calibrate, project, report, gate) resolves it here.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from evalkit.errors import DataError, NotFound

_RUN_MARKERS = ("manifest.json", "scores.parquet")


def _is_run(path: Path) -> bool:
    return path.is_dir() and any((path / m).exists() for m in _RUN_MARKERS)


def _created(run: Path) -> tuple[datetime, str]:
    # Sort key: manifest "created" (UTC ISO); folders without one sort oldest.
    try:
        created = json.loads((run / "manifest.json").read_text(encoding="utf-8")).get("created")
        stamp = datetime.fromisoformat(str(created))  # 3.11+ accepts a trailing Z
        if stamp.tzinfo is None:
            stamp = stamp.replace(tzinfo=UTC)
    except (OSError, ValueError, TypeError, AttributeError):
        stamp = datetime.min.replace(tzinfo=UTC)
    return stamp, run.name


def resolve_run_dir(ref: str | Path, *, reports: Path | None = None) -> Path:
    """Turn a user's run reference into a run folder, or raise ``NotFound`` naming where we looked."""
    from evalkit._home import reports_dir

    root = Path(reports) if reports is not None else reports_dir()
    text = str(ref)
    if text == "latest":
        runs = [p for p in root.iterdir() if _is_run(p)] if root.is_dir() else []
        if not runs:
            raise NotFound(f"no runs found under {root} (looking for folders with manifest.json)")
        return max(runs, key=_created)
    direct = Path(text).expanduser()
    if _is_run(direct):
        return direct
    under = root / text
    if _is_run(under):
        return under
    if root.is_dir() and "/" not in text:
        matches = sorted(p for p in root.iterdir() if p.name.startswith(text) and _is_run(p))
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            names = ", ".join(p.name for p in matches[:5])
            raise NotFound(f"run reference {text!r} is ambiguous under {root}: {names}")
    raise NotFound(f"run {text!r} not found (neither a run folder nor a run id under {root})")


def read_manifest(run_dir: Path) -> dict[str, Any]:
    """The run's manifest.json ({} when the folder has none, e.g. hand-made fixtures)."""
    path = Path(run_dir) / "manifest.json"
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise DataError(f"{path}: unreadable manifest ({exc})") from exc
    if not isinstance(data, dict):
        raise DataError(f"{path}: manifest is not a JSON object")
    return data


def read_json(path: Path) -> dict[str, Any] | None:
    """An optional JSON file of a run folder (thresholds.json, projection.json...): None when absent."""
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}: not valid JSON (line {exc.lineno}: {exc.msg})") from exc
    if not isinstance(data, dict):
        raise DataError(f"{path}: expected a JSON object")
    return data
