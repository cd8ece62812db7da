"""The runs under a reports folder: list them, remove one, prune old ones.

A run folder is ``<reports>/<run-id>/`` with a manifest.json. Removing refuses a run that
is still going: one whose manifest says ``running`` (unless forced: a run killed with
``kill -9`` never gets to say otherwise) or one whose lock file another process holds
(never, even forced).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evalkit.errors import ConfigError, NotFound

if TYPE_CHECKING:
    from evalkit.runs import Manifest


@dataclass(frozen=True, kw_only=True)
class RunEntry:
    run_id: str
    path: Path
    status: str
    """The manifest's status; 'unreadable' when the manifest cannot be read (``problem`` says why)."""
    suite: str | None
    dataset: str | None
    configs: tuple[str, ...]
    cases: int | None
    created: str | None
    simulated: bool | None
    """Whether a configuration ran on a simulated provider; None when the manifest cannot be read (unknown)."""
    execution: str | None
    """'direct' or 'batch' (provider batch APIs at batch prices); None when the manifest cannot be read."""
    manifest: Manifest | None = field(repr=False, default=None)
    """The typed manifest (evalkit.runs); None when unreadable."""
    problem: str | None = None

    @property
    def folder(self) -> str:
        """The run folder's name: unique under a reports folder (a copy of a run repeats its run id)."""
        return self.path.name

    @property
    def shard(self) -> tuple[int, int] | None:
        """(i, n): the run holds only shard i of n of its cases (``evalkit run --shard``)."""
        shard = self.manifest.request.shard if self.manifest is not None else None
        return (int(shard[0]), int(shard[1])) if shard and len(shard) == 2 else None

    @property
    def copy_of(self) -> str | None:
        """The run id this folder copies, when its folder is not named by its run id: a baseline blessed
        into the reports folder (``evalkit runs bless RUN reports/NAME``) holds the run's manifest as it was."""
        return self.run_id if self.manifest is not None and self.path.name != self.run_id else None

    @property
    def stopped_early(self) -> bool:
        """A sequential run (``evalkit run --sequential``) that stopped before sending every case: its
        gates' verdict settled, so its numbers cover only the cases sent until then."""
        seq = self.manifest.sequential if self.manifest is not None else None
        if not seq:
            return False
        done, total = seq.get("cases_done"), seq.get("cases_total")
        return isinstance(done, int) and isinstance(total, int) and done < total

    @property
    def kind(self) -> str | None:
        """'copy', 'shard', 'sequential (stopped early)', 'partial merge' or 'run' (an ordinary or merged run);
        None when the manifest cannot be read: what the folder is, is unknown."""
        if self.manifest is None:
            return None
        if self.copy_of is not None:
            return "copy"
        if self.shard is not None:
            return "shard"
        if self.stopped_early:
            return "sequential (stopped early)"
        if self.manifest is not None and self.manifest.partial:
            return "partial merge"
        return "run"

    def note(self, merged_into: str | None = None) -> str | None:
        """What sets this run apart from an ordinary run of its suite, in words; None for an ordinary run."""
        kind = self.kind
        if kind == "copy":
            return f"a copy of run {self.copy_of}, e.g. a baseline blessed into the reports folder"
        if kind == "shard":
            i, n = self.shard  # type: ignore[misc]
            where = f"merged into {merged_into}" if merged_into else "not merged"
            return f"shard {i}/{n} ({where}): only part of the run's cases"
        if kind == "sequential (stopped early)":
            seq = self.manifest.sequential or {}  # type: ignore[union-attr]
            why = f"; {seq['stop_reason']}" if seq.get("stop_reason") else ""
            return (f"sequential, stopped early at {seq['cases_done']} of {seq['cases_total']} cases{why}: "
                    "its numbers cover only the cases sent")
        if kind == "partial merge":
            part = self.manifest.partial or {}  # type: ignore[union-attr]
            return f"partial merge: shards {part.get('shards')} of {part.get('of')} only"
        return None

    def to_json(self) -> dict[str, Any]:
        """Facts an unreadable manifest does not give are null (``configs`` too), never a guess."""
        return {"run_id": self.run_id, "path": str(self.path), "status": self.status, "suite": self.suite,
                "dataset": self.dataset, "configs": list(self.configs) if self.manifest is not None else None,
                "cases": self.cases,
                "created": self.created, "simulated": self.simulated, "execution": self.execution,
                "kind": self.kind, **({"problem": self.problem} if self.problem else {})}


def merged_into(entries: list[RunEntry]) -> dict[str, str]:
    """Shard run id -> the run id of the run ``evalkit merge`` joined it into (manifest ``merged_from``)."""
    out: dict[str, str] = {}
    for e in entries:
        for shard in (e.manifest.merged_from or []) if e.manifest is not None and e.copy_of is None else []:
            if isinstance(shard, dict) and shard.get("run_id"):
                out[str(shard["run_id"])] = e.run_id
    return out


def _entry(path: Path, manifest: Manifest) -> RunEntry:
    execution = manifest.execution.get("mode", "direct") if manifest.execution else "direct"
    return RunEntry(
        run_id=manifest.run_id or path.name, path=path, status=manifest.status or "unknown",
        suite=manifest.suite.name, dataset=manifest.dataset.ref, configs=tuple(c.name for c in manifest.configs),
        cases=manifest.dataset.sampled_rows, created=manifest.created,
        simulated=any(c.simulated for c in manifest.configs), execution=str(execution), manifest=manifest)


def _unreadable(path: Path, problem: str) -> RunEntry:
    """A folder whose manifest cannot be read: every fact the manifest would give (suite, dataset, configs,
    cases, created, simulated, execution, kind) is unknown, so None (``configs`` empty), never a default that
    would pass it off as a direct, real-money run. Its id is the folder's name, the one thing known (evalkit
    names a run's folder by its id; a copy's folder is not, and an id its damaged manifest may still name
    is not trusted: it would give the views two rows for one run id)."""
    return RunEntry(run_id=path.name, path=path, status="unreadable", suite=None, dataset=None, configs=(),
                    cases=None, created=None, simulated=None, execution=None, problem=problem)


def list_run_entries(root: Path) -> list[RunEntry]:
    """Every run folder under ``root`` (newest first), read through ``evalkit.runs``; a manifest that
    cannot be read shows as status 'unreadable' with the reason, never as a made-up run."""
    from evalkit.errors import EvalkitError
    from evalkit.runs import RunFolder

    root = Path(root)
    out: list[RunEntry] = []
    if not root.is_dir():
        return out
    for path in sorted(root.glob("*/manifest.json")):
        try:
            manifest = RunFolder(path=path.parent).manifest
        except EvalkitError as exc:
            out.append(_unreadable(path.parent, str(exc)))
            continue
        out.append(_entry(path.parent, manifest) if manifest is not None
                   else _unreadable(path.parent, "manifest.json vanished while listing"))
    return sorted(out, key=lambda e: (e.created or "", e.run_id), reverse=True)


def locked_by_other_process(run_dir: Path) -> Path | None:
    """A lock file in the run folder that another process holds (flock), if any."""
    import fcntl

    for lock in sorted(Path(run_dir).glob("*.lock")):
        try:
            with open(lock, "a") as fh:
                try:
                    fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    return lock
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
        except OSError:
            continue
    return None


def removable(entry: RunEntry, *, force: bool = False) -> str | None:
    """Why ``entry`` must not be removed now, or None."""
    lock = locked_by_other_process(entry.path)
    if lock is not None:
        return f"run {entry.run_id} is in progress ({lock.name} is held by another process)"
    if entry.status in ("running", "evaluating") and not force:
        return (f"run {entry.run_id} says it is still {entry.status}; if its process is gone (killed), "
                "remove it with --force")
    return None


def remove_run(run_dir: Path, *, force: bool = False) -> RunEntry:
    """Delete one run folder (refused while it runs). Returns what was removed."""
    run_dir = Path(run_dir)
    manifest_path = run_dir / "manifest.json"
    if not manifest_path.is_file():
        raise NotFound(f"{run_dir}: not a run folder (no manifest.json); nothing removed")
    entry = next((e for e in list_run_entries(run_dir.parent) if e.path == run_dir), None)
    if entry is None:  # pragma: no cover - the manifest exists, so listing finds it
        raise NotFound(f"{run_dir}: not a run folder")
    why = removable(entry, force=force)
    if why is not None:
        raise ConfigError(f"refusing to remove: {why}")
    # Rename first, then delete: a reader never sees half a run folder under its id.
    trash = run_dir.with_name(f".{run_dir.name}.removing")
    shutil.rmtree(trash, ignore_errors=True)
    run_dir.rename(trash)
    shutil.rmtree(trash)
    return entry


@dataclass(frozen=True, kw_only=True)
class PrunePlan:
    keep: list[RunEntry]
    remove: list[RunEntry]
    skipped: list[tuple[RunEntry, str]]
    """Runs that would be removed but are not, with why: in progress, an unreadable manifest (nothing
    says which suite it belongs to or what it is), a copy of a run (a blessed baseline), or the baseline a
    kept run was judged against."""

    @property
    def left_alone(self) -> list[tuple[RunEntry, str]]:
        """The skipped folders that are not runs of a pruned suite: copies of runs (blessed baselines, which
        repeat their run's id) and folders whose manifest cannot be read (suite unknown)."""
        return [(e, why) for e, why in self.skipped if e.manifest is None or e.copy_of is not None]

    @property
    def kept_runs(self) -> list[RunEntry]:
        """Every run of the pruned suites that stays: the newest ``keep`` of each, and the skipped ones that
        are runs of it (in progress, or the baseline a run that stays names); not copies nor unreadable folders."""
        alone = {id(e) for e, _ in self.left_alone}
        return [*self.keep, *(e for e, _ in self.skipped if id(e) not in alone)]

    def tally(self, verb: str, removed: int) -> str:
        """'removed 2 run(s), kept 1; left alone: 1 blessed copy, 1 unreadable folder'."""
        text = f"{verb} {removed} run(s), kept {len(self.kept_runs)}"
        copies = sum(e.manifest is not None for e, _ in self.left_alone)
        unreadable = len(self.left_alone) - copies
        alone = [f"{n} {one if n == 1 else many}" for n, one, many in (
            (copies, "blessed copy", "blessed copies"), (unreadable, "unreadable folder", "unreadable folders")) if n]
        return text + (f"; left alone: {', '.join(alone)}" if alone else "")


def _baseline_ref(entry: RunEntry) -> str | None:
    """The ``baseline`` the run's manifest records (read raw when the typed manifest cannot be read)."""
    if entry.manifest is not None:
        return entry.manifest.baseline
    import json

    try:
        raw = json.loads((entry.path / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    ref = raw.get("baseline") if isinstance(raw, dict) else None
    return ref if isinstance(ref, str) and ref else None


def _baseline_of(entry: RunEntry) -> Path | None:
    """The folder of the baseline ``entry`` names, resolved as gates and reports resolve it; None if none."""
    from evalkit.errors import EvalkitError
    from evalkit.runs import resolve_baseline

    ref = _baseline_ref(entry)
    if ref is None:
        return None
    try:
        return resolve_baseline(ref, entry.path).resolve()
    except (EvalkitError, OSError, ValueError):
        return None


def plan_prune(root: Path, *, keep: int, suite: str | None = None) -> PrunePlan:
    """Keep the ``keep`` newest runs of each suite (or of ``suite`` only); the rest go, except runs in
    progress, runs whose manifest cannot be read, copies of runs (blessed baselines) and any run a kept
    run names as its baseline."""
    if keep < 0:
        raise ConfigError(f"--keep must be 0 or more (got {keep})")
    entries = list_run_entries(root)
    selected = [e for e in entries if suite is None or e.suite == suite]
    if suite is not None and not selected:
        raise NotFound(f"no runs of suite {suite!r} under {root}")
    seen: dict[str | None, int] = {}
    kept: list[RunEntry] = []
    candidates: list[RunEntry] = []
    skipped: list[tuple[RunEntry, str]] = []
    for e in entries if suite is None else [*selected, *(e for e in entries if e.status == "unreadable")]:
        if e.manifest is None:  # which suite, which status, whose baseline: unknown, so never removed
            skipped.append((e, f"manifest unreadable, never pruned ({e.problem})"))
            continue
        if e.copy_of is not None:  # a baseline blessed into the reports folder: CI names it by its folder
            why = (f"a copy of run {e.copy_of} (a blessed baseline), never pruned nor counted toward --keep; "
                   "remove it with `evalkit runs rm`")
            skipped.append((e, why))
            continue
        seen[e.suite] = seen.get(e.suite, 0) + 1
        if seen[e.suite] <= keep:
            kept.append(e)
            continue
        why = removable(e)
        if why is None:
            candidates.append(e)
        else:
            skipped.append((e, why))
    # Every run that stays (kept, skipped, other suites) keeps the baseline it names, and so on down the chain.
    going = {e.path.resolve(): e for e in candidates}
    stays = [e for e in entries if e.path.resolve() not in going]
    while stays:
        e = stays.pop()
        base = _baseline_of(e)
        if base is not None and base in going:
            protected = going.pop(base)
            skipped.append((protected, f"baseline of kept run {e.run_id}"))
            stays.append(protected)
    remove = [e for e in candidates if e.path.resolve() in going]
    return PrunePlan(keep=kept, remove=remove, skipped=skipped)


def prune_runs(plan: PrunePlan) -> list[RunEntry]:
    removed = []
    for e in plan.remove:
        remove_run(e.path)
        removed.append(e)
    return removed
