"""Evaluate declared gates against a stored run (and a baseline run): ``evaluate_gates``.

Each gate kind's check is in ``_checks``; the CI headline numbers (good rate, delta against the
baseline, cost) are computed here.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from evalkit.gate._checks import check
from evalkit.gate._results import GateReport, GateResult
from evalkit.runs import RunFolder, load_run, read_parquet
from evalkit.stats import outcome_mask, rate


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
    configs = [config] if config else run.configs
    results: list[GateResult] = []
    for gate in gates:
        for cfg in configs:
            if gate.configs is not None and cfg not in gate.configs:
                continue
            started = time.perf_counter()
            result = check(gate, run, cfg, baseline)
            results.append(replace(result, seconds=time.perf_counter() - started))
    return GateReport(run_id=run.run_id, run_dir=Path(run_dir), baseline_run_id=baseline.run_id if baseline else None,
                      results=tuple(results), simulated=any(run.simulated(c) for c in configs),
                      headline=headline(run, baseline, configs), run_seconds=_run_seconds(run.manifest))


def headline(run: RunFolder, baseline: RunFolder | None, configs: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The numbers a CI job wants as step outputs, per configuration: good rate (with n),
    the good-rate delta against the baseline on the cases both answered, and cost
    (spent now, and what the answers cost when bought; None = unknown, never 0)."""
    out: dict[str, dict[str, Any]] = {}
    for cfg in configs:
        df = run.config_scores(cfg)
        good = outcome_mask(df, "good").to_numpy()
        entry: dict[str, Any] = {"good_rate": rate(good).to_dict(), "good_rate_delta": None, "n_paired": 0,
                                 "cost_usd": _known_sum(df["cost_usd"]) if "cost_usd" in df else None,
                                 "spent_usd": _spent(run, cfg)}
        bconf = baseline.baseline_config_for(cfg) if baseline is not None else None
        if baseline is not None and bconf is not None:
            bdf = baseline.config_scores(bconf)
            base_good = dict(zip(bdf["case_id"].astype(str), outcome_mask(bdf, "good").to_numpy(), strict=True))
            pairs = [(bool(g), bool(base_good[c])) for c, g in zip(df["case_id"].astype(str), good, strict=True)
                     if c in base_good]
            if pairs:
                arr = np.asarray(pairs, dtype=float)
                entry["good_rate_delta"] = float(arr[:, 0].mean() - arr[:, 1].mean())
                entry["n_paired"] = len(pairs)
        out[cfg] = entry
    return out


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
