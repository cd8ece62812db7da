"""How one configuration of a suite moved across runs: good rate, automation and cost per
segment, each with a 95% interval and its n.

- good rate: share of the segment's cases whose decision was good (Wilson interval; invalid and
  failed rows count as not good, as everywhere in evalkit).
- automation: share automated under the run's calibrated thresholds (thresholds.json): status ok,
  not deferred, confidence at or above the segment's threshold (Wilson interval). A run without
  calibration has no automation number (None), never a made-up one.
- cost: mean nominal USD per case (normal-approximation interval); None when any case's cost is
  unknown.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evalkit.errors import NotFound
from evalkit.history._catalog import RunEntry, list_run_entries

ALL = "ALL"
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
    created: str | None
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
        return {"run_id": self.run_id, "created": self.created, "prompt": self.prompt,
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

    def to_json(self) -> dict[str, Any]:
        return {"suite": self.suite, "config": self.config, "runs": [r.run_id for r in self.runs],
                "points": [p.to_json() for p in self.points]}


def _rate(k: int, n: int) -> Rate:
    from evalkit.score import wilson

    if n == 0:
        return Rate(value=None, lo=None, hi=None, n=0)
    lo, hi = wilson(k, n)
    value = k / n
    return Rate(value=value, lo=min(float(lo), value), hi=max(float(hi), value), n=n)  # no float dust


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


def _thresholds(run: RunEntry, config: str) -> Any:
    """The run's escalation policy for ``config`` (project.Policy), or None without calibration."""
    from evalkit._runfolder import read_json
    from evalkit.project import ProjectionSpec, resolve_policy

    doc = read_json(run.path / "thresholds.json")
    if not doc or config not in (doc.get("configs") or {}):
        return None
    spec = ProjectionSpec(volume_per_month=1, mix={ALL: 1.0}, threshold_source="calibrated")
    return resolve_policy(config, spec=spec, run_thresholds=doc, file_thresholds=None, explicit=None)


def _automated(frame: Any, policy: Any, outcome_segments: list[str]) -> Any:
    import numpy as np

    cuts = dict(zip(outcome_segments, policy.per_segment(tuple(outcome_segments))))
    thr = frame["segment"].map(cuts).to_numpy(dtype=float)
    conf = frame["confidence"].astype("Float64").fillna(-1.0).to_numpy(dtype=float)
    ok = (frame["status"] == "ok").to_numpy(dtype=bool)
    deferred = frame["deferred"].fillna(False).to_numpy(dtype=bool)
    return ok & ~deferred & ~np.isnan(thr) & (conf >= np.nan_to_num(thr, nan=2.0))


def _config_of(run: RunEntry, config: str) -> dict[str, Any]:
    return next((c for c in run.manifest.get("configs", []) if isinstance(c, dict) and c.get("name") == config), {})


def select_runs(root: Path, *, config: str, suite: str | None = None) -> list[RunEntry]:
    """Complete runs of one suite that ran ``config``, oldest first. The suite defaults to that
    of the newest run with the configuration."""
    entries = [e for e in list_run_entries(root) if e.status == "complete" and config in e.configs]
    if suite is None and entries:
        suite = entries[0].suite
    chosen = [e for e in entries if e.suite == suite]
    if not chosen:
        where = f" of suite {suite!r}" if suite else ""
        raise NotFound(f"no complete run{where} with configuration {config!r} under {root}")
    return list(reversed(chosen))


def run_history(root: Path, *, config: str, suite: str | None = None, last: int | None = None) -> History:
    """Per run (oldest first) and segment (plus ALL): good rate, automation, cost, with intervals."""
    import pandas as pd

    from evalkit.score import read_scores

    runs = select_runs(root, config=config, suite=suite)
    if last is not None:
        runs = runs[-last:]
    points: list[TrendPoint] = []
    for run in runs:
        frame = read_scores(run.path, columns=_COLUMNS)
        frame = frame[frame["config"] == config].reset_index(drop=True)
        good = (frame["good"].fillna(False).astype(bool) & (frame["status"] == "ok")).to_numpy()
        policy = _thresholds(run, config)
        segments = sorted(frame["segment"].dropna().unique().tolist())
        automated = _automated(frame, policy, segments) if policy is not None else None
        cost = pd.to_numeric(frame["cost_usd"], errors="coerce") if "cost_usd" in frame else None
        spec = _config_of(run, config)
        for segment in [ALL, *segments]:
            mask = (frame["segment"] == segment).to_numpy() if segment != ALL else slice(None)
            n = int(len(frame) if segment == ALL else mask.sum())
            points.append(TrendPoint(
                run_id=run.run_id, created=run.created, prompt=spec.get("prompt"),
                prompt_version=spec.get("prompt_version"), model=spec.get("model"),
                simulated=bool(spec.get("simulated")), segment=segment, good=_rate(int(good[mask].sum()), n),
                automation=None if automated is None else _rate(int(automated[mask].sum()), n),
                cost=None if cost is None else _mean(cost.to_numpy(dtype=float)[mask])))
    return History(suite=runs[0].suite or "?", config=config, runs=runs, points=points)
