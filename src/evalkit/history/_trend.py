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
from typing import TYPE_CHECKING, Any

from evalkit.errors import NotFound
from evalkit.history._catalog import RunEntry, list_run_entries
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

    from evalkit.runs import RunFolder

    runs = select_runs(root, config=config, suite=suite)
    if last is not None:
        runs = runs[-last:]
    points: list[TrendPoint] = []
    for run in runs:
        frame = RunFolder(path=run.path).read_scores(_COLUMNS)
        frame = frame[frame["config"] == config].reset_index(drop=True)
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
                run_id=run.run_id, created=run.created, prompt=spec and spec.prompt,
                prompt_version=spec and spec.prompt_version, model=spec and spec.model,
                simulated=bool(spec and spec.simulated), segment=segment, good=_rate(int(good[mask].sum()), n),
                automation=None if automated is None else _rate(int(automated[mask].sum()), n),
                cost=None if cost is None else _mean(cost.to_numpy(dtype=float)[mask])))
    return History(suite=runs[0].suite or "?", config=config, runs=runs, points=points)
