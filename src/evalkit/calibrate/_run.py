"""Calibrate a stored run: read ``scores.parquet``, write ``thresholds.json``. No model is called."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from evalkit.calibrate._frame import ConfigCalibration, calibrate_frame, check_columns
from evalkit.errors import ConfigError, DataError, NotFound
from evalkit.runs import Thresholds, write_file
from evalkit.suite import CalibrationSpec

if TYPE_CHECKING:
    from evalkit.economics import EconomicsSpec

SCHEMA = 1
ASSUMPTIONS = (
    "Historical cases are exchangeable with (i.i.d. like) future cases of the same segment; "
    "the model, prompt and confidence signal are unchanged; labels (good/correct) are right. "
    "The guarantee covers the population error rate among automated cases, not one finite window, "
    "which still fluctuates binomially around it."
)


@dataclass(kw_only=True)
class CalibrationResult:
    run_dir: Path
    path: Path
    spec: CalibrationSpec
    configs: dict[str, ConfigCalibration]
    document: dict = field(default_factory=dict)


def _guarantee(spec: CalibrationSpec) -> dict | None:
    if spec.alpha is None:
        return None
    scope = {"global": "the pooled error rate among automated cases (all segments together)",
             "all_segments": "the error rate among automated cases of every certified segment at once",
             "per_segment": "each certified segment's error rate among automated cases, simultaneously "
                            "(Bonferroni delta/S)"}[spec.mode]
    return {"statement": f"P({scope} <= {spec.alpha:g}) >= {1 - spec.delta:g}",
            "method": "Learn-then-Test: fixed-sequence testing from the highest threshold down, exact "
                      "binomial p-values P(Bin(n_t, alpha) <= k_t), stop at first failure; label-free start "
                      "at the first threshold automating >= ceil(ln delta / ln(1 - alpha)) cases",
            "assumptions": ASSUMPTIONS}


def calibrate_run(run_dir: Path, *, spec: CalibrationSpec, economics: EconomicsSpec | None = None,
                  configs: list[str] | None = None) -> CalibrationResult:
    """Calibrate every (or the named) configuration of a run and write ``thresholds.json``."""
    import pandas as pd

    run_dir = Path(run_dir)
    scores = run_dir / "scores.parquet"
    if not scores.is_file():
        raise NotFound(f"{scores}: no scores.parquet in this run folder (has the run been scored?)")
    try:
        df = pd.read_parquet(scores)
    except Exception as exc:  # pyarrow raises several types for a damaged file
        raise DataError(f"{scores}: cannot read parquet ({exc})") from exc
    check_columns(df, spec.outcome, str(scores))
    present = sorted(df["config"].astype(str).unique())
    names = configs or present
    unknown = [c for c in names if c not in present]
    if unknown:
        raise NotFound(f"{scores}: no configuration named {unknown}; the run has {present}")
    results: dict[str, ConfigCalibration] = {}
    for name in names:
        part = df[df["config"].astype(str) == name].reset_index(drop=True)
        results[name] = calibrate_frame(part, spec=spec, economics=economics, config=name,
                                        where=f"{scores} (config {name})")
    run_id = str(df["run_id"].iloc[0]) if "run_id" in df.columns and len(df) else run_dir.name
    doc = {
        "schema": SCHEMA, "run_id": run_id, "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "outcome": spec.outcome, "alpha": spec.alpha, "delta": spec.delta,
        "mode": spec.mode, "seed": spec.seed, "folds": spec.folds, "spec": spec.model_dump(mode="json"),
        "economics": economics.model_dump(mode="json") if economics is not None else None,
        "guarantee": _guarantee(spec),
        "bin_convention": f"{spec.bins} bins, left-closed [m/M, (m+1)/M), last bin closed; confidences snapped "
                          "to 1e-9 ticks so values on an edge (0.7) land in the bin starting there",
        "configs": {name: r.document for name, r in results.items()},
    }
    try:
        path = write_file(run_dir, doc, Thresholds)
    except OSError as exc:
        raise ConfigError(f"{run_dir / 'thresholds.json'}: cannot write ({exc})") from exc
    return CalibrationResult(run_dir=run_dir, path=path, spec=spec, configs=results, document=doc)
