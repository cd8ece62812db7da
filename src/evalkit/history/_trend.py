"""How one configuration of a suite moved across runs: good rate, automation and cost per
segment, each with a 95% interval and its n.

- good rate: share of the segment's cases whose decision was good (Wilson interval; invalid and
  failed rows count as not good, as everywhere in evalkit).
- automation: share automated under the run's calibrated thresholds (thresholds.json): status ok,
  not deferred, confidence at or above the segment's threshold (Wilson interval). A run without
  calibration has no automation number (None), never a made-up one.
- cost: mean nominal USD per case (normal-approximation interval); None when any case's cost is
  unknown.

Which runs are trend points: complete runs of the suite with the configuration, except, by default,
shards of a sharded run (``evalkit run --shard``: part of the cases; the merged run stands for them)
and copies of a run inside the reports folder (a baseline blessed there repeats its run). Both are
listed as left out, with why; ``include_all`` plots them too, marked. A sequential run that stopped
early (``--sequential``) is a point, marked as such: its numbers cover only the cases it sent.

Each point names the dataset its run evaluated (``ref@version``, with the sha256 when two runs share a ref
but not its content). Runs of one suite may use other datasets (``--set dataset=...``): their rates are
not comparable, so a trend that mixes datasets says so (``History.warnings``) and marks every run whose
dataset is not the newest run's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evalkit.errors import NotFound
from evalkit.history._catalog import RunEntry, list_run_entries, merged_into
from evalkit.stats import ALL  # one overall label everywhere

if TYPE_CHECKING:
    from evalkit.runs import ConfigEntry

_COLUMNS = ["run_id", "config", "segment", "status", "good", "correct", "deferred", "confidence", "cost_usd"]


@dataclass(frozen=True, kw_only=True)
class Rate:
    value: float | None
    lo: float | None
    hi: float | None
    n: int

    def to_json(self) -> dict[str, Any]:
        return {"value": self.value, "lo": self.lo, "hi": self.hi, "n": self.n}


@dataclass(frozen=True, kw_only=True)
class TrendPoint:
    run_id: str
    folder: str
    """The run folder's name (unique; a copy of a run repeats its run id)."""
    run_kind: str
    """RunEntry.kind: 'run', 'sequential (stopped early)', 'partial merge', and with include_all 'shard', 'copy'."""
    created: str | None
    dataset: str | None = None
    """The dataset the run evaluated: 'upgrades@v2' (``dataset_label``); None when the manifest does not say."""
    prompt: str | None
    prompt_version: str | None
    model: str | None
    simulated: bool
    segment: str
    good: Rate
    automation: Rate | None
    """None when the run has no calibrated thresholds for the configuration."""
    cost: Rate | None
    """Mean USD per case; None when a cost is unknown."""

    def to_json(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "folder": self.folder, "run_kind": self.run_kind,
                "created": self.created, "dataset": self.dataset, "prompt": self.prompt,
                "prompt_version": self.prompt_version, "model": self.model, "simulated": self.simulated,
                "segment": self.segment, "good": self.good.to_json(),
                "automation": None if self.automation is None else self.automation.to_json(),
                "cost_per_case_usd": None if self.cost is None else self.cost.to_json()}


@dataclass(frozen=True, kw_only=True)
class History:
    suite: str
    config: str
    runs: list[RunEntry]
    """Oldest first."""
    points: list[TrendPoint]
    notes: dict[str, str] = field(default_factory=dict)
    """Run folder -> what sets that trend point apart (stopped early, a shard, a copy); ordinary runs have none."""
    excluded: list[tuple[RunEntry, str]] = field(default_factory=list)
    """Runs of the suite with the configuration left out of the trend, with why (shards, copies)."""
    datasets: dict[str, str | None] = field(default_factory=dict)
    """Run folder -> the dataset it evaluated (``dataset_label``; None: not recorded)."""
    skipped: list[tuple[RunEntry, str]] = field(default_factory=list)
    """Runs left out because their scores.parquet cannot be read, with a line naming the file (as
    ``runs query`` leaves such a run out of its view); said in ``warnings``."""

    def note(self, run: RunEntry) -> str | None:
        return self.notes.get(run.folder)

    def dataset(self, run: RunEntry) -> str | None:
        return self.datasets.get(run.folder)

    @property
    def mixed_datasets(self) -> bool:
        return len({self.dataset(r) for r in self.runs}) > 1

    @property
    def warnings(self) -> list[str]:
        """'skipped FILE: ...' for each run whose scores table cannot be read; 'the trend mixes datasets: ...'
        when its runs evaluated different datasets (or one does not say)."""
        skipped = [why for _, why in self.skipped]
        if not self.mixed_datasets:
            return skipped
        groups: dict[str | None, list[str]] = {}
        for i, r in enumerate(self.runs):
            groups.setdefault(self.dataset(r), []).append(f"#{i + 1}")
        parts = [f"{ds or 'dataset not recorded'} ({', '.join(ids)})" for ds, ids in groups.items()]
        return [*skipped, (f"the trend mixes datasets: {'; '.join(parts)}. Rates on different datasets are not comparable: "
                 "a change between them may come from the dataset, not from the configuration")]

    def panel_n(self, segment: str) -> str:
        """'n=300', or 'n=1–1500' when the runs' n differ: a chart panel's title never implies one n."""
        ns = sorted({p.good.n for p in self.points if p.segment == segment})
        if not ns:
            return "n=0"
        return f"n={ns[0]}" if len(ns) == 1 else f"n={ns[0]}–{ns[-1]}"

    def to_json(self) -> dict[str, Any]:
        return {"suite": self.suite, "config": self.config, "runs": [r.run_id for r in self.runs],
                "datasets": list(dict.fromkeys(self.dataset(r) for r in self.runs)),
                "warnings": self.warnings,
                "run_details": [{"run_id": r.run_id, "folder": r.folder, "kind": r.kind, "dataset": self.dataset(r),
                                 "note": self.note(r)} for r in self.runs],
                "excluded": [{"run_id": r.run_id, "folder": r.folder, "kind": r.kind, "why": why}
                             for r, why in self.excluded],
                "skipped": [{"run_id": r.run_id, "folder": r.folder, "why": why} for r, why in self.skipped],
                "points": [p.to_json() for p in self.points]}


def _rate(k: int, n: int) -> Rate:
    from evalkit.stats import wilson

    e = wilson(k, n)
    return Rate(value=e.value, lo=e.lo, hi=e.hi, n=e.n)


def _mean(values: Any) -> Rate | None:
    import numpy as np

    arr = np.asarray(values, dtype=float)
    n = len(arr)
    if n == 0 or np.isnan(arr).any():
        return None
    mean = float(arr.mean())
    half = 1.959963984540054 * float(arr.std(ddof=1)) / math.sqrt(n) if n > 1 else float("nan")
    lo, hi = (mean - half, mean + half) if math.isfinite(half) else (None, None)
    return Rate(value=mean, lo=None if lo is None else max(lo, 0.0), hi=hi, n=n)


def dataset_label(run: RunEntry, *, with_sha: bool = False) -> str | None:
    """'upgrades@v2' from the manifest (its ref, else name@version); with ``with_sha`` the first 12 hex of
    its sha256 too, 'upgrades@v2 (sha256 bd034918d5aa…)'. None when the manifest records no dataset."""
    ds = run.manifest.dataset if run.manifest is not None else None
    if ds is None:
        return None
    name = ds.ref or (f"{ds.name}@{ds.version}" if ds.name and ds.version else ds.name)
    if not name:
        return None
    sha = str(ds.sha256 or "").removeprefix("sha256:")
    return f"{name} (sha256 {sha[:12]}…)" if with_sha and sha else name


def _dataset_labels(runs: list[RunEntry]) -> dict[str, str | None]:
    """Run folder -> dataset label; with the sha256 when runs share a ref but not its content."""
    plain = {r.folder: dataset_label(r) for r in runs}
    full = {r.folder: dataset_label(r, with_sha=True) for r in runs}
    clash = {plain[f] for f in plain if sum(plain[g] == plain[f] for g in plain) > 1
             and len({full[g] for g in plain if plain[g] == plain[f]}) > 1}
    return {f: (full[f] if plain[f] in clash else plain[f]) for f in plain}


def _thresholds(run: RunEntry, config: str) -> Any:
    """The run's per-segment thresholds for ``config`` (evalkit.runs.threshold_policy), or None without calibration."""
    from evalkit.runs import RunFolder, threshold_policy

    doc = RunFolder(path=run.path).thresholds
    if doc is None or config not in doc.configs:
        return None
    return threshold_policy(doc, config)


def _automated(frame: Any, policy: Any) -> Any:
    """The automation rule (evalkit.stats.automated) at each row's segment threshold."""
    from evalkit.stats import automated

    thr = [policy.for_segment(str(s)) for s in frame["segment"]]
    return automated(ok=(frame["status"] == "ok").to_numpy(dtype=bool),
                     deferred=frame["deferred"].astype("boolean").fillna(False).to_numpy(dtype=bool),
                     confidence=frame["confidence"].astype("Float64").to_numpy(dtype=float, na_value=float("nan")),
                     threshold=[float("nan") if t is None else t for t in thr])


def _config_of(run: RunEntry, config: str) -> ConfigEntry | None:
    return run.manifest.config(config) if run.manifest is not None else None


def _left_out(entry: RunEntry, merged: dict[str, str]) -> str | None:
    """Why ``entry`` is not a trend point by default (a shard, a copy), or None."""
    if entry.kind == "shard":
        return f"{entry.note(merged.get(entry.run_id))}; the merged run stands for its shards"
    return entry.note() if entry.kind == "copy" else None


def _select(root: Path, config: str, suite: str | None,
            include_all: bool) -> tuple[list[RunEntry], list[tuple[RunEntry, str]], dict[str, str]]:
    """(the runs to plot, oldest first; the runs left out, with why; shard run id -> merged run id)."""
    everything = list_run_entries(root)
    merged = merged_into(everything)
    entries = [e for e in everything if e.status == "complete" and config in e.configs]
    if suite is None and entries:  # the newest run's suite; a shard or a copy of an old run does not decide it
        suite = next((e.suite for e in entries if _left_out(e, merged) is None), entries[0].suite)
    chosen = [e for e in reversed(entries) if e.suite == suite]
    if not chosen:
        where = f" of suite {suite!r}" if suite else ""
        raise NotFound(f"no complete run{where} with configuration {config!r} under {root}")
    excluded = [] if include_all else [(e, why) for e in chosen if (why := _left_out(e, merged)) is not None]
    runs = [e for e in chosen if all(e is not x for x, _ in excluded)]
    if not runs:
        raise NotFound(f"no complete run of suite {suite!r} with configuration {config!r} under {root} except "
                       f"{len(excluded)} shard(s) or copies, left out of the trend; --all-runs plots them")
    return runs, excluded, merged


def select_runs(root: Path, *, config: str, suite: str | None = None, include_all: bool = False) -> list[RunEntry]:
    """The runs ``run_history`` plots, oldest first: complete runs of one suite that ran ``config``, without
    shards and copies unless ``include_all``. The suite defaults to that of the newest such run."""
    return _select(root, config, suite, include_all)[0]


def run_history(root: Path, *, config: str, suite: str | None = None, last: int | None = None,
                include_all: bool = False) -> History:
    """Per run (oldest first) and segment (plus ALL): good rate, automation, cost, with intervals.
    Shards and copies are left out (``History.excluded`` says which and why) unless ``include_all``. A run
    whose scores.parquet cannot be read is left out with a warning naming the file (``History.skipped``), as
    ``runs query`` leaves it out of its view; DataError only when no run's can be read."""
    import pandas as pd

    runs, excluded, merged = _select(root, config, suite, include_all)
    if last is not None:
        runs = runs[-last:]
    frames, skipped = _read_scores(runs, config)
    runs = [r for r in runs if r.folder in frames]
    notes = {r.folder: note for r in runs if (note := r.note(merged.get(r.run_id))) is not None}
    datasets = _dataset_labels(runs)
    newest = datasets.get(runs[-1].folder)
    for r in runs:
        if datasets.get(r.folder) != newest:  # not the newest run's dataset: not comparable with it
            other = (f"dataset {datasets.get(r.folder) or 'not recorded'}, not the newest run's "
                     f"{newest or 'unrecorded dataset'}: not comparable")
            notes[r.folder] = f"{notes[r.folder]}; {other}" if r.folder in notes else other
    points: list[TrendPoint] = []
    for run in runs:
        frame = frames[run.folder]
        good = (frame["good"].fillna(False).astype(bool) & (frame["status"] == "ok")).to_numpy()
        policy = _thresholds(run, config)
        segments = sorted(frame["segment"].dropna().unique().tolist())
        automated = _automated(frame, policy) if policy is not None else None
        cost = pd.to_numeric(frame["cost_usd"], errors="coerce") if "cost_usd" in frame else None
        spec = _config_of(run, config)
        for segment in [ALL, *segments]:
            mask = (frame["segment"] == segment).to_numpy() if segment != ALL else slice(None)
            n = int(len(frame) if segment == ALL else mask.sum())
            points.append(TrendPoint(
                run_id=run.run_id, folder=run.folder, run_kind=run.kind, created=run.created,
                dataset=datasets.get(run.folder), prompt=spec and spec.prompt,
                prompt_version=spec and spec.prompt_version, model=spec and spec.model,
                simulated=bool(spec and spec.simulated), segment=segment, good=_rate(int(good[mask].sum()), n),
                automation=None if automated is None else _rate(int(automated[mask].sum()), n),
                cost=None if cost is None else _mean(cost.to_numpy(dtype=float)[mask])))
    return History(suite=runs[0].suite or "?", config=config, runs=runs, points=points, notes=notes,
                   excluded=excluded, datasets=datasets, skipped=skipped)


def _read_scores(runs: list[RunEntry], config: str) -> tuple[dict[str, Any], list[tuple[RunEntry, str]]]:
    """Run folder -> its scores rows of ``config``; and the runs whose scores.parquet cannot be read (truncated,
    not parquet, changed since the run wrote it, missing), each with a line naming the file: left out of the
    trend as ``runs query`` leaves them out of its view. DataError when no run's table can be read."""
    from evalkit.errors import DataError, EvalkitError
    from evalkit.runs import RunFolder

    frames: dict[str, Any] = {}
    skipped: list[tuple[RunEntry, str]] = []
    for run in runs:
        path = run.path / "scores.parquet"
        try:
            frame = RunFolder(path=run.path).read_scores(_COLUMNS, required=("config", "segment", "status", "good"))
        except EvalkitError as exc:
            why = (str(exc).splitlines() or [type(exc).__name__])[0].removeprefix(f"{path}: ")
            skipped.append((run, f"skipped {path}: {why}; run {run.run_id} left out of the trend"))
            continue
        frames[run.folder] = frame[frame["config"] == config].reset_index(drop=True)
    if not frames:
        raise DataError("no run's scores table can be read: " + "; ".join(why for _, why in skipped))
    return frames, skipped
