"""Evaluate declared gates against a stored run (and a baseline run): ``evaluate_gates``.

Each gate kind's check is in ``_checks``; the CI headline numbers (good rate, delta against the
baseline, cost) are computed here.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from evalkit.formatting import missing
from evalkit.gate._checks import _dataset, check
from evalkit.gate._results import GateReport, GateResult
from evalkit.gate._stats import OVERALL, paired_segment_compare
from evalkit.runs import RunFolder, load_run, read_parquet
from evalkit.stats import outcome_mask, rate
from evalkit.suite import MaxCostP95Increase, MaxGoodRateDrop


def evaluate_gates(run_dir: Path | str, gates: Sequence[Any], *, baseline_dir: Path | str | None = None,
                   config: str | None = None) -> GateReport:
    """Evaluate ``gates`` (GateSpec models, or dicts in the suite's YAML shape) for every
    configuration of the run (or only ``config``); ``baseline_dir`` feeds the comparison gates."""
    from evalkit.errors import ConfigError
    from evalkit.suite import parse_gates

    if any(isinstance(g, dict) for g in gates):  # raw YAML/JSON dicts are validated here
        gates = parse_gates([g if isinstance(g, dict) else g.model_dump() for g in gates])
    run = load_run(run_dir)
    baseline = load_run(baseline_dir) if baseline_dir is not None else None
    if config is not None and config not in run.configs:
        raise ConfigError(f"configuration {config!r} not in run {run.run_id} (has: {', '.join(run.configs)})")
    from evalkit.suite import check_gate_configs

    suite_configs = _suite_configs(run)
    check_gate_configs(gates, {*run.configs, *suite_configs},
                       where=lambda i, j: f"gates[{i}].configs[{j}] (on run {run.run_id})")
    configs = [config] if config else run.configs
    applied = _applied(gates, configs)
    pairs = baseline_pairs(run.configs, baseline, required=_needs_baseline(applied), run=f"run {run.run_id}") \
        if baseline is not None else {}
    if baseline is not None and _needs_baseline(applied):
        _same_dataset(run, baseline)
    results: list[GateResult] = []
    for gate in gates:
        for cfg in configs:
            if gate.configs is not None and cfg not in gate.configs:
                continue
            started = time.perf_counter()
            result = check(gate, run, cfg, baseline, pairs.get(cfg))
            results.append(replace(result, seconds=time.perf_counter() - started))
        if config is None:  # a configuration of the suite this run did not answer (`run --config ...`)
            results += [_not_in_run(gate, cfg, run) for cfg in gate.configs or () if cfg not in run.configs]
    simulated = tuple(c for c in configs if run.simulated(c))
    return GateReport(run_id=run.run_id, run_dir=Path(run_dir), baseline_run_id=baseline.run_id if baseline else None,
                      results=tuple(results), simulated=bool(simulated), simulated_configs=simulated,
                      headline=headline(run, baseline, configs, pairs), run_seconds=_run_seconds(run.manifest))


def _same_dataset(run: RunFolder, baseline: RunFolder) -> None:
    """The baseline gates pair cases by id: on another dataset version an id may hold another case. The
    refusal says what works for a gate (``evalkit compare`` alone may pair the shared cases)."""
    from evalkit.errors import ConfigError

    a, b = _dataset(baseline) or {}, _dataset(run) or {}
    if any(a.get(k) is not None and b.get(k) is not None and str(a[k]) != str(b[k])
           for k in ("name", "version", "sha256")):
        def label(d: Mapping[str, Any]) -> str:
            return f"{d.get('ref') or d.get('name')} (sha256 {str(d.get('sha256'))[:12]})"

        raise ConfigError(
            f"baseline run {baseline.run_id} was made on dataset {label(a)}, run {run.run_id} on {label(b)}: "
            "the baseline gates pair cases by id and only mean something on the same cases, so a gate never "
            "compares across dataset versions. Pass a baseline made on the same dataset version "
            "(--baseline RUN|PATH), or look at the shared cases with `evalkit compare "
            f"{baseline.run_id} {run.run_id} --allow-dataset-mismatch` (a comparison, not a gate)")


def _suite_configs(run: RunFolder) -> list[str]:
    """The configurations of the suite the run was made from (a run made with ``--config`` has fewer)."""
    spec = run.manifest.suite.spec if run.manifest is not None else {}
    configs = spec.get("configs") if isinstance(spec, Mapping) else None
    return [c["name"] for c in configs or () if isinstance(c, Mapping) and isinstance(c.get("name"), str)]


def _not_in_run(gate: Any, config: str, run: RunFolder) -> GateResult:
    """A gate for a configuration of the suite this run did not answer: listed as skipped, saying why."""
    from evalkit.gate._checks import _result

    return _result(gate, config, "skip", None, _limit(gate),
                   f"configuration '{config}' not in this run (it has: {', '.join(run.configs)}): not checked")


def _limit(gate: Any) -> float:
    for field in ("min", "max_drop", "max", "max_increase", "max_ece"):
        value = getattr(gate, field, None)
        if isinstance(value, (int, float)):
            return float(value)
    return 0.0


def _applied(gates: Sequence[Any], configs: Sequence[str]) -> list[tuple[Any, str]]:
    return [(gate, cfg) for gate in gates for cfg in configs if gate.configs is None or cfg in gate.configs]


def _needs_baseline(applied: Sequence[tuple[Any, str]]) -> bool:
    return any(isinstance(g, (MaxGoodRateDrop, MaxCostP95Increase)) for g, _ in applied)


def check_baseline_pairs(gates: Sequence[Any], configs: Sequence[str], baseline_dir: Path) -> None:
    """Before a run is paid for: the error ``evaluate_gates`` would raise after it when the suite's
    baseline gates would find no configuration of ``configs`` in the baseline run (exit 2)."""
    if _needs_baseline(_applied(gates, configs)):
        baseline_pairs(configs, load_run(baseline_dir), required=True, run="this suite")


def baseline_pairs(configs: Sequence[str], baseline: RunFolder, *, required: bool = True,
                   run: str = "this run") -> dict[str, str]:
    """Each of the run's ``configs`` -> the baseline configuration it is compared with, paired as
    ``evalkit compare`` pairs two runs (``evalkit.score.config_pairs``): the configuration of the same
    name; when the runs share none and each has exactly one, those two. A configuration without a
    pair is left out (its baseline gates are skipped, saying so). A baseline that pairs with no
    configuration at all is the wrong baseline: ConfigError (exit 2) when ``required``."""
    from evalkit.errors import ConfigError
    from evalkit.score import config_pairs

    try:
        pairs = config_pairs(list(baseline.configs), list(configs))
    except ConfigError:
        if required:
            raise ConfigError(
                f"baseline run {baseline.run_id} has no configuration matching {run} "
                f"(baseline: {', '.join(baseline.configs) or 'none'}; {run}: {', '.join(configs)}): "
                "the baseline gates would compare unrelated configurations. Pass the baseline of this "
                "suite (--baseline RUN|PATH), or rename the configuration to match (docs/ci.md)") from None
        return {}
    return {cand: base for base, cand in pairs}


def headline(run: RunFolder, baseline: RunFolder | None, configs: Sequence[str],
             pairs: Mapping[str, str] | None = None) -> dict[str, dict[str, Any]]:
    """The numbers a CI job wants as step outputs, per configuration: good rate (with its 95%
    interval and n), the paired good-rate delta against the paired baseline configuration on the
    cases both answered (with its 95% interval, ``evalkit compare``'s), whether the numbers are
    simulated, and cost (spent now, and what the answers cost when bought; None = unknown, never 0)."""
    if baseline is not None and pairs is None:
        pairs = baseline_pairs(run.configs, baseline, required=False)
    out: dict[str, dict[str, Any]] = {}
    for cfg in configs:
        df = run.config_scores(cfg)
        good = outcome_mask(df, "good").to_numpy()
        entry: dict[str, Any] = {"good_rate": rate(good).to_dict(), "good_rate_delta": None,
                                 "good_rate_delta_lo": None, "good_rate_delta_hi": None, "n_paired": 0,
                                 "baseline_config": None, "simulated": run.simulated(cfg),
                                 "cost_usd": _known_sum(df["cost_usd"]) if "cost_usd" in df else None,
                                 "spent_usd": _spent(run, cfg)}
        bconf = (pairs or {}).get(cfg)
        if baseline is not None and bconf is not None:
            entry["baseline_config"] = bconf
            entry.update(_paired_delta(baseline, bconf, run, cfg))
        out[cfg] = entry
    return out


def _paired_delta(baseline: RunFolder, bconf: str, run: RunFolder, cfg: str) -> dict[str, Any]:
    """The overall paired good-rate difference and its 95% interval, as the drop gate and
    ``evalkit compare`` compute it; nothing when the runs cannot be compared (the gates say why)."""
    from evalkit.errors import EvalkitError

    try:
        cmp = paired_segment_compare(baseline.config_scores(bconf), run.config_scores(cfg), include_overall=True,
                                     base_dataset=_dataset(baseline), cand_dataset=_dataset(run))
    except EvalkitError:
        return {}
    overall = cmp[cmp["segment"] == OVERALL]
    if overall.empty or not int(overall["n"].iloc[0]):
        return {}
    row = overall.iloc[0]
    return {"good_rate_delta": _num(row["diff"]), "good_rate_delta_lo": _num(row["diff_lo"]),
            "good_rate_delta_hi": _num(row["diff_hi"]), "n_paired": int(row["n"])}


def _num(x: Any) -> float | None:
    return None if missing(x) else float(x)  # NaN: unknown


def _known_sum(series: Any) -> float | None:
    return None if series.isna().any() else float(series.sum())


def _spent(run: RunFolder, config: str) -> float | None:
    """Money this run paid (cache and bundle answers are free): from results.parquet when present."""
    path = run.path / "results.parquet"
    if not path.is_file():
        return None
    res = read_parquet(path, columns=["config", "cost_usd"]).to_pandas()  # not the raw outputs
    if "cost_usd" not in res or "config" not in res:
        return None
    return _known_sum(res.loc[res["config"] == config, "cost_usd"])


def _run_seconds(manifest: Any) -> float | None:
    try:
        start = datetime.fromisoformat(manifest.created)
        end = datetime.fromisoformat(manifest.finished)
    except (AttributeError, KeyError, TypeError, ValueError):
        return None
    return max(0.0, (end - start).total_seconds())
