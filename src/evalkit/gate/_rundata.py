"""Read a run folder's files (see docs/dev/contracts.md) into one object.

The gate and the report work from the files, not from in-memory objects of other
stages, so they can re-evaluate any stored run and never depend on a stage having
run in the same process. Optional files (thresholds, projection, gates, results)
are ``None`` when absent; callers render/skip accordingly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from evalkit._runfolder import read_json
from evalkit.errors import DataError, NotFound


@dataclass(kw_only=True)
class RunData:
    path: Path
    run_id: str
    manifest: dict[str, Any]
    scores: pd.DataFrame
    thresholds: dict[str, Any] | None = None
    projection: dict[str, Any] | None = None
    gates: dict[str, Any] | None = None
    summary: dict[str, Any] | None = None
    configs: list[str] = field(default_factory=list)

    def config_meta(self, config: str) -> dict[str, Any]:
        for c in self.manifest.get("configs") or []:
            if isinstance(c, dict) and c.get("name") == config:
                return c
        return {"name": config}

    def config_scores(self, config: str) -> pd.DataFrame:
        return self.scores[self.scores["config"] == config]

    def simulated(self, config: str) -> bool:
        meta = self.config_meta(config)
        if meta.get("simulated"):
            return True
        sub = self.config_scores(config)
        return bool("simulated" in sub and sub["simulated"].astype("boolean").fillna(False).any())


REQUIRED_SCORE_COLUMNS = ("config", "case_id", "segment", "status", "good", "correct")


def load_run(path: Path | str) -> RunData:
    """Load a run folder; scores.parquet is required, everything else optional."""
    path = Path(path)
    if not path.is_dir():
        raise NotFound(f"run folder not found: {path}")
    manifest = read_json(path / "manifest.json") or {}
    scores_path = path / "scores.parquet"
    if not scores_path.is_file():
        raise DataError(f"{scores_path}: missing - the run has not been scored (status: "
                        f"{manifest.get('status', 'unknown')})")
    scores = pd.read_parquet(scores_path)
    missing = [c for c in REQUIRED_SCORE_COLUMNS if c not in scores.columns]
    if missing:
        raise DataError(f"{scores_path}: missing columns {', '.join(missing)}")
    names = [c.get("name") for c in manifest.get("configs") or [] if isinstance(c, dict) and c.get("name")]
    present = list(dict.fromkeys(scores["config"].astype(str)))
    # Manifest order is the suite's order (what the author expects to read); configs
    # that produced no scores are dropped, stray ones appended.
    configs = [c for c in names if c in present] + [c for c in present if c not in names]
    return RunData(
        path=path,
        run_id=str(manifest.get("run_id") or path.name),
        manifest=manifest,
        scores=scores,
        thresholds=read_json(path / "thresholds.json"),
        projection=read_json(path / "projection.json"),
        gates=read_json(path / "gates.json"),
        summary=read_json(path / "summary.json"),
        configs=configs,
    )


def baseline_config_for(baseline: RunData, config: str) -> str | None:
    """The baseline config paired with ``config``: same name, else the only one, else the first."""
    if config in baseline.configs:
        return config
    return baseline.configs[0] if baseline.configs else None


def resolve_run_ref(ref: str | Path) -> Path:
    """A run id under the reports dir, ``latest``, or a path to a run folder."""
    try:  # the scoring package owns the canonical resolver once it exists
        from evalkit.score import resolve_run_dir  # type: ignore[attr-defined]

        return Path(resolve_run_dir(str(ref)))
    except ImportError:
        pass
    from evalkit._home import reports_dir

    ref_s = str(ref)
    root = reports_dir()
    if ref_s == "latest":
        runs = sorted(p for p in root.glob("*") if (p / "manifest.json").is_file()) if root.is_dir() else []
        if not runs:
            raise NotFound(f"no runs under {root} (looked for 'latest')")
        return runs[-1]  # run ids start with a UTC timestamp, so name order is time order
    as_path = Path(ref_s)
    if as_path.is_dir():
        return as_path
    if (root / ref_s).is_dir():
        return root / ref_s
    raise NotFound(f"run not found: {ref_s!r} (not a folder, not a run id under {root}, not 'latest')")
