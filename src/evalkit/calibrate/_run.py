"""Calibrate a stored run: read ``scores.parquet``, write ``thresholds.json``. No model is called."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from evalkit.calibrate._frame import ConfigCalibration, calibrate_frame, check_columns
from evalkit.errors import ConfigError, DataError, NotFound
from evalkit.runs import RunFolder, Thresholds, write_file
from evalkit.suite import SEED_MAX, CalibrationSpec

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
    name: str = "suite"
    """The threshold set written (``suite`` = thresholds.json)."""


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




def check_seed(seed: int | None, where: str) -> None:
    """A seed outside [0, SEED_MAX] (a suite's ``seed: -1``) is bad input naming where it came from, not an
    internal error from numpy."""
    if seed is not None and not 0 <= seed <= SEED_MAX:
        raise ConfigError(f"{where}: seed {seed} is out of range: use an integer from 0 to {SEED_MAX}")


SUITE_SET = "suite"
"""The threshold set calibrated with the suite's own ``calibration`` section: ``RUN/thresholds.json``."""
SETS_DIR = "thresholds"
"""Every other threshold set: ``RUN/thresholds/<name>.json``."""


def threshold_set_path(run_dir: Path, name: str | None = None) -> Path:
    """Where threshold set ``name`` lives (the suite's set, ``thresholds.json``, when None)."""
    if name in (None, SUITE_SET):
        return Path(run_dir) / Thresholds.FILE
    check_set_name(str(name))
    return Path(run_dir) / SETS_DIR / f"{name}.json"


def check_set_name(name: str) -> str:
    import re

    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,79}", name):
        raise ConfigError(f"threshold set name {name!r}: use letters, digits, '.', '_' or '-' (at most 80)")
    return name


def threshold_sets(run_dir: Path) -> dict[str, Path]:
    """Every threshold set of a run: name -> file (the suite's first)."""
    run_dir = Path(run_dir)
    out = {SUITE_SET: run_dir / Thresholds.FILE} if (run_dir / Thresholds.FILE).is_file() else {}
    folder = run_dir / SETS_DIR
    if folder.is_dir():
        out.update({p.stem: p for p in sorted(folder.glob("*.json"))})
    return out


def read_threshold_set(run_dir: Path, name: str | None = None) -> Thresholds | None:
    """Threshold set ``name`` (the suite's when None; None when the suite's set was never written)."""
    from evalkit.runs import read_file

    path = threshold_set_path(run_dir, name)
    if name not in (None, SUITE_SET) and not path.is_file():
        raise NotFound(f"{run_dir}: no threshold set {name!r}; the run has {sorted(threshold_sets(run_dir)) or 'none'}")
    return read_file(path, Thresholds)


def describe_set(name: str, doc: Thresholds | None) -> str:
    """'suite (alpha=0.05, delta=0.05, per_segment; thresholds.json)' for consoles and reports."""
    file = Thresholds.FILE if name == SUITE_SET else f"{SETS_DIR}/{name}.json"
    if doc is None:
        return f"{name} ({file}, not written)"
    alpha = "none" if doc.alpha is None else f"{doc.alpha:g}"
    delta = "unknown" if doc.delta is None else f"{doc.delta:g}"
    return f"{name} (alpha={alpha}, delta={delta}, {doc.mode or 'mode unknown'}, outcome {doc.outcome}; {file})"


def _suite_calibration(run_dir: Path) -> CalibrationSpec | None:
    """The suite's calibration as recorded in the manifest (the defaults when the suite has no
    ``calibration`` section); None when the run records no suite."""
    from evalkit.runs import RunFolder

    try:
        suite = RunFolder(path=Path(run_dir)).suite_spec
    except Exception:  # noqa: BLE001 - no readable manifest: no suite recorded
        return None
    if not suite:
        return None
    try:
        fields = suite.get("calibration")
        return CalibrationSpec(**(fields if isinstance(fields, dict) else {}))
    except Exception:  # noqa: BLE001 - a recorded section this version cannot read
        return None


def _same_spec(recorded: dict, spec: CalibrationSpec) -> bool:
    """A recorded spec (defaults of newer fields filled in) equals ``spec``."""
    try:
        return CalibrationSpec(**recorded).model_dump(mode="json") == spec.model_dump(mode="json")
    except Exception:  # noqa: BLE001 - a spec this version cannot read is another spec
        return False


def set_name_for(spec: CalibrationSpec, suite: CalibrationSpec) -> str:
    """The suite's set when ``spec`` is the suite's calibration; else a name made of the parameters
    (``alpha0.2-delta0.05-per_segment``), plus a short hash when other settings differ too."""
    import hashlib
    import json

    mine = spec.model_dump(mode="json")
    if mine == suite.model_dump(mode="json"):
        return SUITE_SET
    alpha = "none" if spec.alpha is None else f"{spec.alpha:g}"
    name = f"alpha{alpha}-delta{spec.delta:g}-{spec.mode}" + ("" if spec.outcome == "good" else f"-{spec.outcome}")
    keyed = ("alpha", "delta", "mode", "outcome")
    if {k: v for k, v in mine.items() if k not in keyed} != \
            {k: v for k, v in suite.model_dump(mode="json").items() if k not in keyed}:
        name += "-" + hashlib.sha256(json.dumps(mine, sort_keys=True).encode()).hexdigest()[:6]
    return name


def calibrate_run(run_dir: Path, *, spec: CalibrationSpec, economics: EconomicsSpec | None = None,
                  configs: list[str] | None = None, name: str | None = None) -> CalibrationResult:
    """Calibrate every (or the named) configuration of a run into a named threshold set.

    The set is the suite's (``thresholds.json``) when ``spec`` is the suite's calibration,
    else ``thresholds/<name>.json`` (``name`` or one made of the parameters). A set is
    never clobbered: configurations calibrated now replace theirs, the others stay; a set
    of that name with other parameters is refused.
    """
    run_dir = Path(run_dir)
    check_seed(spec.seed, "calibration seed (the suite's `calibration.seed` or --seed)")
    if name:
        set_name = check_set_name(name)
    else:
        suite = _suite_calibration(run_dir)
        if suite is None:  # no suite recorded: the first calibration is the run's own set
            first = read_threshold_set(run_dir, SUITE_SET)
            suite = spec if first is None or not first.spec else CalibrationSpec(**first.spec)
        set_name = set_name_for(spec, suite)
    target = threshold_set_path(run_dir, set_name)
    existing = read_threshold_set(run_dir, set_name) if target.is_file() else None
    if existing is not None and existing.spec and not _same_spec(existing.spec, spec):
        raise ConfigError(f"{target}: threshold set {set_name!r} exists with other parameters; choose another "
                          "--name (sets are never overwritten with different settings)")
    import pandas as pd

    run_dir = Path(run_dir)
    scores = run_dir / "scores.parquet"
    if not scores.is_file():
        raise NotFound(f"{scores}: no scores.parquet in this run folder (has the run been scored?)")
    from evalkit._checksums import verify_artifact

    verify_artifact(scores)  # a table changed since the run wrote it is never calibrated on
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
    for cfg in names:
        part = df[df["config"].astype(str) == cfg].reset_index(drop=True)
        results[cfg] = calibrate_frame(part, spec=spec, economics=economics, config=cfg,
                                       where=f"{scores} (config {cfg})")
    run_id = str(df["run_id"].iloc[0]) if "run_id" in df.columns and len(df) else run_dir.name
    doc = {
        "schema": SCHEMA, "run_id": run_id, "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "outcome": spec.outcome, "alpha": spec.alpha, "delta": spec.delta,
        "mode": spec.mode, "seed": spec.seed, "folds": spec.folds, "spec": spec.model_dump(mode="json"),
        "economics": economics.model_dump(mode="json") if economics is not None else None,
        "guarantee": _guarantee(spec),
        "bin_convention": f"{spec.bins} bins, left-closed [m/M, (m+1)/M), last bin closed; confidences snapped "
                          "to 1e-9 ticks so values on an edge (0.7) land in the bin starting there",
        "name": set_name,
        "configs": {**({c: e.model_dump(mode="json", by_alias=True) for c, e in existing.configs.items()}
                       if existing is not None else {}),
                    **{cfg: dict(r.document) for cfg, r in results.items()}},
    }
    folder = RunFolder.with_scores(run_dir, df)  # each configuration says whether its numbers are simulated
    for cfg, entry in doc["configs"].items():
        entry["simulated"] = folder.simulated(cfg)
    doc["simulated"] = any(e["simulated"] for e in doc["configs"].values())
    try:
        if set_name == SUITE_SET:
            path = write_file(run_dir, doc, Thresholds)
        else:
            from evalkit import _io

            path = _io.write_json(target, Thresholds.model_validate(doc).dump())
    except OSError as exc:
        raise ConfigError(f"{target}: cannot write ({exc})") from exc
    return CalibrationResult(run_dir=run_dir, path=path, spec=spec, configs=results, document=doc, name=set_name)
