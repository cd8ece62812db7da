"""Which folder a run reference names.

A run reference is a path to a run folder, a run id under the reports folder
(``evalkit._home.reports_dir()``), a unique prefix of a run id, or ``latest``: the most
recently created *complete* run. As a baseline (``--baseline latest``) it means the most
recently created complete run of the same suite created before the run being judged - the same
rule for ``evalkit run`` (checked before it pays for a call), a sequential run and ``evalkit gate``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from evalkit.errors import NotFound

_RUN_MARKERS = ("manifest.json", "scores.parquet")


def is_run_folder(path: Path) -> bool:
    return path.is_dir() and any((path / m).exists() for m in _RUN_MARKERS)


def _raw_manifest(run: Path) -> dict[str, Any]:
    try:
        data = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _created(run: Path, manifest: dict[str, Any]) -> tuple[datetime, str]:
    # Sort key: manifest "created" (UTC ISO); folders without one sort oldest.
    try:
        stamp = datetime.fromisoformat(str(manifest.get("created")))
        if stamp.tzinfo is None:
            stamp = stamp.replace(tzinfo=UTC)
    except (ValueError, TypeError):
        stamp = datetime.min.replace(tzinfo=UTC)
    return stamp, run.name


def _complete(run: Path, manifest: dict[str, Any]) -> bool:
    # A hand-made folder without a status counts when it has been scored.
    status = manifest.get("status")
    return status == "complete" or (status is None and (run / "scores.parquet").is_file())


def _latest(root: Path, *, suite: str | None = None, exclude: Path | None = None) -> Path:
    """The newest complete run; with ``exclude`` (the run being judged) only runs created before it (or at
    the same instant), never later ones."""
    before = None
    if exclude is not None:
        stamp = _created(exclude, _raw_manifest(exclude))[0]
        before = stamp if stamp != datetime.min.replace(tzinfo=UTC) else None  # undated: any other run
    runs = []
    for p in root.iterdir() if root.is_dir() else ():
        if not is_run_folder(p) or (exclude is not None and p.resolve() == exclude.resolve()):
            continue
        manifest = _raw_manifest(p)
        if _complete(p, manifest) and (suite is None or (manifest.get("suite") or {}).get("name") == suite):
            created = _created(p, manifest)
            if before is None or created[0] <= before:  # same instant (hand-made folders): still earlier-or-equal
                runs.append((created, p))
    if not runs:
        what = f"complete run of suite {suite!r}" if suite else "complete run"
        other = " created before the one being judged" if exclude is not None else ""
        raise NotFound(f"latest: no {what}{other} under {root} (looking for folders with manifest.json)")
    return max(runs)[1]


def latest_run(root: Path, *, suite: str | None = None) -> Path:
    """The newest complete run under ``root`` (of ``suite``, when given): what ``latest`` names, and what
    ``--baseline latest`` will name for a new run of ``suite``. ``NotFound`` when there is none."""
    return _latest(Path(root), suite=suite)


def resolve_run(ref: str | Path, *, reports: Path | None = None) -> Path:
    """The folder of a run reference (see the module docstring), or ``NotFound`` naming where we looked."""
    from evalkit._home import reports_dir

    root = Path(reports) if reports is not None else reports_dir()
    text = str(ref)
    if text == "latest":
        return _latest(root)
    direct = Path(text).expanduser()
    if is_run_folder(direct):
        return direct
    under = root / text
    if is_run_folder(under):
        return under
    if root.is_dir() and "/" not in text:
        matches = sorted(p for p in root.iterdir() if p.name.startswith(text) and is_run_folder(p))
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            names = ", ".join(p.name for p in matches[:5])
            raise NotFound(f"run reference {text!r} is ambiguous under {root}: {names}")
    raise NotFound(f"run {text!r} not found (neither a run folder nor a run id under {root})")


def resolve_baseline(ref: str | Path, run: Path) -> Path:
    """A baseline reference for ``run``: ``latest`` = the newest complete earlier run of the same suite
    (in ``run``'s reports folder); otherwise any run reference (also looked up beside ``run``)."""
    run = Path(run)
    if str(ref) == "latest":
        suite = (_raw_manifest(run).get("suite") or {}).get("name")
        return _latest(run.parent, suite=suite, exclude=run)
    try:
        return resolve_run(ref)
    except NotFound:  # a run id beside the judged run (its reports folder need not be the default one)
        return resolve_run(ref, reports=run.parent)

