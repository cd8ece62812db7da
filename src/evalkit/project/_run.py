"""``project_run``: read a run folder, project every configuration, write ``projection.json`` atomically."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from evalkit.economics import EconomicsSpec
from evalkit.errors import ConfigError, NotFound
from evalkit.project._policy import Choice, outcome_of, resolve_policy
from evalkit.project._project import OPTIONAL, REQUIRED, project_frame
from evalkit.project._settings import what_if_settings
from evalkit.runs import Manifest, Projection, RunFolder, Thresholds, write_file
from evalkit.suite import ProjectionSpec, load_sweep_file

SCHEMA = 1


@dataclass(frozen=True, kw_only=True)
class ProjectionResult:
    path: Path | None
    """The projection.json written; None when it was not (a what-if without ``write``)."""
    projection: dict[str, Any]
    """What was projected now (the configurations asked for): ``configs`` holds those only."""
    configs: tuple[str, ...]
    warnings: tuple[str, ...] = field(default=())
    """Flagged segments, unestimated shares, unknown costs: things a reader must not miss."""
    what_if: tuple[str, ...] = field(default=())
    """Settings that differ from the suite's (``what_if_settings``); empty for the suite's projection."""
    kept: tuple[str, ...] = field(default=())
    """Configurations projection.json keeps from its earlier projection with the same settings."""
    replaced: tuple[str, ...] = field(default=())
    """Configurations projection.json held, projected with other settings, that are no longer in it."""


_SETTINGS = ("volume_per_month", "mix", "outcome", "sweep", "spec", "economics", "threshold_set", "what_if")
"""What two projections must share for their configurations to sit in one projection.json."""


def _stored(run_dir: Path, run_id: str | None) -> dict[str, Any] | None:
    """The projection.json already in the run folder (None when absent, unreadable or another run's)."""
    from evalkit.errors import EvalkitError
    from evalkit.runs import read_file

    try:
        doc = read_file(run_dir / Projection.FILE, Projection)
    except EvalkitError:
        return None
    if doc is None or (doc.run_id is not None and run_id is not None and doc.run_id != run_id):
        return None
    return doc.dump()


def _input_prices(manifest: Manifest | None) -> dict[str, tuple[float | None, str]]:
    """Input USD/token per config and where it came from.

    ``configs[].price`` from the manifest wins; an explicit ``null`` means the run found no price
    (unknown). Only when the key is absent (older manifests) is the model looked up in evalkit.pricing.
    """
    prices: dict[str, tuple[float | None, str]] = {}
    for cfg in manifest.configs if manifest is not None else []:
        if cfg.price is not None and cfg.price.input is not None:
            prices[cfg.name] = (float(cfg.price.input), cfg.price.source or "manifest")
        elif "price" not in cfg.model_fields_set and cfg.model:
            from evalkit.pricing import lookup_price

            found = lookup_price(cfg.model)
            prices[cfg.name] = (found.input, found.source) if found else (None, "unknown")
        else:
            prices[cfg.name] = (None, "unknown")
    return prices


def _check_file_values(raw: dict[str, Any], path: Path) -> None:
    """Every threshold a hand-written file gives is a number in [0, 1] or null: the typed document would
    coerce a string such as "0.9" silently (a quoted value is usually a mistake, or a template)."""
    for name, entry in (raw.get("configs") or {}).items():
        if not isinstance(entry, dict):
            raise ConfigError(f"{path}: key `configs.{name}` must be a mapping with `threshold` "
                              f"(and optional `segments`), got {entry!r}")
        places = [(f"configs.{name}.threshold", entry.get("threshold"))]
        segments = entry.get("segments") or {}
        if not isinstance(segments, dict):
            raise ConfigError(f"{path}: key `configs.{name}.segments` must map segment -> "
                              f"{{threshold: T}}, got {segments!r}")
        for seg, part in segments.items():
            if not isinstance(part, dict):
                raise ConfigError(f"{path}: key `configs.{name}.segments.{seg}` must be a mapping "
                                  f"{{threshold: T}}, got {part!r}")
            places.append((f"configs.{name}.segments.{seg}.threshold", part.get("threshold")))
        for key, value in places:
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
                raise ConfigError(f"{path}: key `{key}` must be a number in [0, 1] (or null to escalate), "
                                  f"got {value!r}")


def _file_thresholds(raw: dict[str, Any], path: Path) -> Thresholds:
    """A thresholds.json-shaped ``--thresholds FILE`` as the typed document."""
    from pydantic import ValidationError

    _check_file_values(raw, path)
    try:
        return Thresholds.model_validate({"run_id": str(path), "created": "", **raw})
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err.get("loc", ()))
        raise ConfigError(f"{path}: key `{where}`: {err.get('msg')}") from None


def _mix_warnings(scores: Any, mix: dict[str, float]) -> list[str]:
    """Segments the run has cases for but the mix gives no volume: left out of the projection. Often a
    misspelt segment in the mix (the segments the mix names but the run lacks are warned per config)."""
    unmixed = sorted(set(scores["segment"].astype(str)) - {s for s, share in mix.items() if share > 0})
    if not unmixed:
        return []
    return [(f"the mix gives no volume to {len(unmixed)} segment(s) the run has cases for: {', '.join(unmixed)}; "
             "they are left out of the projection (check the mix for a misspelt segment)")]


def _file_warnings(doc: Thresholds | None, path: Path | None, scores: Any) -> list[str]:
    """Names in a ``--thresholds FILE`` that the run does not have: usually a typo, which would otherwise
    fall back silently to another threshold for the configuration meant."""
    if doc is None:
        return []
    configs, segments = set(scores["config"].astype(str)), set(scores["segment"].astype(str))
    out = [f"{path}: configuration {name!r} is not in this run (its configurations: {', '.join(sorted(configs))}); "
           "its threshold is not used" for name in doc.configs if name not in configs]
    for name, entry in doc.configs.items():
        unknown = sorted(set(entry.segments) - segments)
        if name in configs and unknown:
            out.append(f"{path}: configuration {name!r}: segment(s) {', '.join(unknown)} are not in this run; "
                       "their thresholds are not used")
    return out


def _check_file_covers(doc: Thresholds, path: Path, projected: list[str]) -> None:
    """A ``--thresholds FILE`` must give a threshold for every configuration projected: one it lacks would
    otherwise be projected silently at another threshold (value-optimal, escalate all)."""
    missing = [c for c in projected if c not in doc.configs]
    if missing:
        have = ", ".join(sorted(doc.configs)) or "none"
        raise ConfigError(f"{path}: no threshold for configuration(s) {', '.join(missing)} (the file has: "
                          f"{have}); add `configs.<name>.threshold` for them, or project only those it has "
                          "with --config")


def _mix_choice_warnings(configs: dict[str, Any]) -> list[str]:
    """Calibrate chooses its cost-optimal thresholds on the run's own cases, whose mix over-samples edge
    cases; a production mix can favour another threshold. Said when the projection's own value-optimal
    threshold (at the production mix, not certified) differs from a pooled cost-optimal one (per-segment
    choices do not depend on the mix)."""
    out = []
    for name, block in configs.items():
        best, applied = block.get("value_optimal_threshold"), block.get("threshold")
        if best is not None and best != applied:
            shown = "escalate everything" if applied is None else f"{applied:.3g}"
            out.append(f"{name}: the cost-optimal choice ({shown}) was made on the run's own case mix; at this "
                       f"production mix the projection's curve peaks at threshold {best:.3g} (value-optimal, not "
                       "certified by calibrate): compare them on the curve before staffing review")
    return out


def _warnings(configs: dict[str, Any]) -> list[str]:
    out = []
    for name, block in configs.items():
        for seg, why in block["flag_reasons"].items():
            out.append(f"{name}: segment {seg!r} flagged: {why}")
        if block["unestimated_share"] > 0:
            out.append(f"{name}: {block['unestimated_share']:.1%} of production volume has no cases and is not "
                       f"projected: monthly figures cover the other {block['estimated_volume_per_month']:,.0f} "
                       "cases/month only")
        if not block["cost_per_case"]["known"]:
            out.append(f"{name}: cost unknown for {block['cost_per_case']['n_unknown']} rows; cost tail not projected")
    return out


def project_run(run_dir: Path, *, spec: ProjectionSpec, economics: EconomicsSpec, configs: list[str] | None = None,
                threshold: float | None = None, thresholds_file: Path | None = None,
                threshold_set: str | None = None, choice: Choice = "certified",
                write: bool = True) -> ProjectionResult:
    """Project a scored run to production and write ``<run_dir>/projection.json`` (unless ``write`` is False).

    Thresholds come from ``threshold_set`` (default: the suite's, ``thresholds.json``), or a
    thresholds file; ``choice``: its certified thresholds or its cost-optimal ones. projection.json
    records which (``threshold_set``), and ``what_if``: the settings that differ from the suite's.

    Configurations merge, as calibrate merges a threshold set: those projected now replace theirs in
    projection.json and the others stay, when the stored projection used the same settings
    (``_SETTINGS``). One projected with other settings is not kept beside these (one file, one set of
    settings): ``ProjectionResult.replaced`` names it."""
    from evalkit.calibrate import SUITE_SET, check_seed, read_threshold_set, threshold_set_path

    check_seed(spec.seed, "projection seed (the suite's `projection.seed`, --seed, or the run's seed)")

    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise NotFound(f"run folder {run_dir} does not exist")
    run = RunFolder(path=run_dir)
    manifest = run.manifest
    set_name = threshold_set or SUITE_SET
    run_thresholds = read_threshold_set(run_dir, set_name)
    set_file = threshold_set_path(run_dir, set_name).relative_to(run_dir).as_posix()  # what the report names
    used, file_doc, grid = _thresholds_used(set_name, run_thresholds, thresholds_file, threshold=threshold,
                                            choice=choice)
    what_if = what_if_settings(manifest, spec, threshold=threshold, thresholds_file=thresholds_file)
    scores = run.read_scores((*REQUIRED, *OPTIONAL), required=REQUIRED)
    if file_doc is not None and threshold is None:
        _check_file_covers(file_doc, Path(thresholds_file), configs or list(dict.fromkeys(scores["config"].astype(str))))
    prices = _input_prices(manifest)
    outcome = outcome_of(spec, file_doc, run_thresholds)
    blocks = project_frame(
        scores, spec=spec, economics=economics, outcome=outcome, configs=configs, grid=grid,
        policy_for=lambda c: resolve_policy(c, spec=spec, run_thresholds=run_thresholds,
                                            file_thresholds=file_doc, explicit=threshold, run_source=set_file,
                                            choice=choice),
        input_price_for=lambda c: prices.get(c, (None, "unknown"))[0], where=str(run_dir / "scores.parquet"),
    )
    projection = {
        "schema": SCHEMA,
        "run_id": run.run_id,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "volume_per_month": spec.volume_per_month,
        "mix": spec.mix,
        "outcome": outcome,
        "bootstrap": {"resamples": spec.resamples, "seed": spec.seed,
                      "method": "none: every interval is analytic (Wilson or Clopper-Pearson per segment, stratified "
                                "MOVER at the mix); resamples is kept for compatibility and unused"},
        "monte_carlo": {"months": spec.months_simulated, "seed": spec.seed},
        "sweep": grid,
        "spec": spec.model_dump(mode="json"),
        "economics": economics.model_dump(mode="json"),
        "threshold_set": used,
        "what_if": what_if,
        "configs": blocks,
    }
    for name, block in blocks.items():
        block["input_price_source"] = prices.get(name, (None, "unknown"))[1]
        if (file_doc is None and threshold is None and run_thresholds is not None
                and block.get("threshold_source") == set_file and run_thresholds.run_id == run.run_id):
            block["same_run_optimism"] = _optimism(scores, run_thresholds, name, outcome=outcome, spec=spec)
    applied = file_doc or run_thresholds
    pooled_choice = (choice == "cost_optimal" and threshold is None and applied is not None
                     and applied.mode != "per_segment")  # per-segment choices do not depend on the mix
    def warnings_for(configs: dict[str, Any]) -> list[str]:
        return (_mix_warnings(scores, spec.mix) + _file_warnings(file_doc, thresholds_file, scores)
                + (_mix_choice_warnings(configs) if pooled_choice else []) + _warnings(configs))

    warnings = warnings_for(blocks)
    projection["warnings"] = warnings
    path, kept, replaced = None, (), ()
    if write:
        path, kept, replaced = _write_merged(run_dir, run.run_id, projection, list(dict.fromkeys(
            scores["config"].astype(str))), warnings_for)
    return ProjectionResult(path=path, projection=projection, configs=tuple(blocks), warnings=tuple(warnings),
                            what_if=tuple(what_if), kept=kept, replaced=replaced)


def _thresholds_used(set_name: str, run_thresholds: Any, thresholds_file: Path | None, *, threshold: float | None,
                     choice: Choice) -> tuple[dict[str, Any], Any, list[float] | None]:
    """(projection.json's ``threshold_set``: which thresholds apply and how they were chosen; the
    ``--thresholds`` file's thresholds, if it holds some; the file's sweep grid, if it holds one)."""
    from evalkit.calibrate import describe_set

    used = {"name": set_name, "description": describe_set(set_name, run_thresholds),
            "alpha": run_thresholds.alpha if run_thresholds else None,
            "delta": run_thresholds.delta if run_thresholds else None,
            "mode": run_thresholds.mode if run_thresholds else None}
    file_doc, grid = None, None
    if thresholds_file is not None:
        try:
            loaded = load_sweep_file(thresholds_file)
        except ConfigError as exc:  # evalkit.suite's file reader calls every file it reads a mix file
            raise ConfigError(str(exc).replace("mix file", "thresholds file")) from None
        if isinstance(loaded, list):
            grid = loaded
        else:
            file_doc = _file_thresholds(loaded, Path(thresholds_file))
            used = {"name": None, "description": f"file {thresholds_file}", "alpha": file_doc.alpha,
                    "delta": file_doc.delta, "mode": file_doc.mode}
    if threshold is None and grid is None:
        used["choice"] = choice
        if choice == "cost_optimal":
            used["description"] = f"{used['description']}: its cost-optimal thresholds"
    return used, file_doc, grid


def _optimism(scores: Any, run_thresholds: Any, name: str, *, outcome: str, spec: ProjectionSpec) -> Any:
    """How much thresholds certified on this very run flatter it (measured on held-out folds)."""
    from evalkit.project._optimism import measure_optimism

    return measure_optimism(scores[scores["config"].astype(str) == name], run_thresholds, name, outcome=outcome,
                            mix=spec.mix, folds=run_thresholds.folds or 5, seed=spec.seed if spec.seed is not None else 0)


def _write_merged(run_dir: Path, run_id: str, projection: dict[str, Any], order: list[str],
                  warnings_for: Any) -> tuple[Path, tuple[str, ...], tuple[str, ...]]:
    """Write projection.json: the configurations projected now, with the stored ones merged in when the
    stored projection used the same settings (``_SETTINGS``); (path, kept, replaced)."""
    blocks = projection["configs"]
    stored = _stored(run_dir, run_id)
    others = {n: b for n, b in (stored or {}).get("configs", {}).items() if n not in blocks}
    if others and all(_same(stored.get(k), projection.get(k)) for k in _SETTINGS):
        merged = {n: ({**others, **blocks})[n] for n in sorted({**others, **blocks}, key=_index_in(order))}
        doc, kept, replaced = {**projection, "configs": merged, "warnings": warnings_for(merged)}, tuple(others), ()
    else:
        doc, kept, replaced = projection, (), tuple(others)
    return write_file(run_dir, doc, Projection), kept, replaced


def _same(a: Any, b: Any) -> bool:
    """Equal as JSON (a stored 50000.0 is the 50000 of now; a list is a tuple)."""
    import json

    return json.dumps(_as_floats(a), sort_keys=True, default=str) == json.dumps(_as_floats(b), sort_keys=True,
                                                                               default=str)


def _as_floats(x: Any) -> Any:
    if isinstance(x, bool) or x is None or isinstance(x, str):
        return x
    if isinstance(x, (int, float)):
        return float(x)
    if isinstance(x, dict):
        return {k: _as_floats(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_as_floats(v) for v in x]
    return x


def _index_in(order: list[str]) -> Any:
    return lambda name: order.index(name) if name in order else len(order)
