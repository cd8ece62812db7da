"""One check per gate kind, on one configuration of a run (and its baseline).

A gate that cannot be checked because its input is missing *fails* (a CI gate that
silently passes is worse than none), except the baseline comparisons when no
baseline was given at all: those are reported as ``skip`` so a first run can pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

from evalkit.errors import DataError
from evalkit.formatting import distinct_digits, interval, p_value, pct, signed, signed_parts
from evalkit.gate._numbers import unit_interval, unit_text
from evalkit.gate._results import GateResult, Status
from evalkit.gate._stats import ece_estimate, p95_change, paired_segment_compare
from evalkit.runs import RunFolder, threshold_policy
from evalkit.stats import Estimate, outcome_mask, quantile_interval, rate
from evalkit.suite import (
    MaxCalibrationError,
    MaxCostP95Increase,
    MaxGoodRateDrop,
    MaxInvalidShare,
    MinAutomationRate,
    MinGoodRate,
)


def _dataset(run: RunFolder) -> dict[str, Any] | None:
    return run.manifest.dataset.model_dump(exclude_none=True) if run.manifest else None


def _pct(x: float | None) -> str:
    return pct(x, unknown="unknown")


def _est_text(e: Estimate) -> str:
    return interval(e, label="95% CI ")


def _result(gate: Any, config: str, status: Status, observed: Estimate | None, limit: float, message: str,
            segments: Sequence[str] = (), details: Sequence[dict[str, Any]] = ()) -> GateResult:
    return GateResult(name=gate.display_name(), kind=gate.kind, config=config, status=status,
                      observed=observed, limit=limit, message=message, segments=tuple(segments),
                      details=tuple(details), unit=_unit(gate))


def _unit(gate: Any) -> Literal["rate", "points", "relative", "usd", "score"]:
    if isinstance(gate, MaxGoodRateDrop):
        return "points"
    if isinstance(gate, MaxCostP95Increase):
        return "relative" if gate.mode == "relative" else "usd"
    if isinstance(gate, MaxCalibrationError):
        return "score"
    return "rate"


def _min_good_rate(gate: MinGoodRate, run: RunFolder, config: str) -> GateResult:
    df = run.config_scores(config)
    ok = outcome_mask(df, gate.outcome)

    def check(est: Estimate) -> bool:
        x = est.lo if gate.bound == "lower" else est.value
        return x is not None and x >= gate.min

    if gate.segment is None and not gate.per_segment:
        est = rate(ok)
        passed = check(est)
        verdict = "meets" if passed else "is below"
        msg = f"{gate.outcome} rate overall {_est_text(est)} {verdict} the minimum {_pct(gate.min)}"
        return _result(gate, config, "pass" if passed else "fail", est, gate.min, msg)
    segs = [gate.segment] if gate.segment else sorted(df["segment"].astype(str).unique())
    details, failing = [], []
    for seg in segs:
        sel = (df["segment"].astype(str) == seg).to_numpy()
        est = rate(ok.to_numpy()[sel])
        details.append({"segment": seg, **est.to_dict()})
        if not check(est):
            failing.append((seg, est))
    if not details or (gate.segment and details[0]["n"] == 0):
        where = f"segment '{gate.segment}'" if gate.segment else "this configuration"
        return _result(gate, config, "fail", None, gate.min, f"{where} has no cases in this run",
                       [gate.segment] if gate.segment else [])
    worst = min(details, key=lambda d: d["value"] if d["value"] is not None else -1)
    observed = Estimate(value=worst["value"], lo=worst["lo"], hi=worst["hi"], n=worst["n"])
    if failing:
        msg = "; ".join(f"segment '{s}': {gate.outcome} rate {_est_text(e)} is below the minimum "
                        f"{_pct(gate.min)}" for s, e in failing)
        return _result(gate, config, "fail", observed, gate.min, msg, [s for s, _ in failing], details)
    msg = f"all {len(segs)} segment(s) meet {_pct(gate.min)}; lowest: '{worst['segment']}' {_est_text(observed)}"
    return _result(gate, config, "pass", observed, gate.min, msg, (), details)


def _unpaired(gate: Any, config: str, baseline: RunFolder | None, limit: float) -> GateResult | None:
    """The skip of a baseline gate with nothing to compare against, saying why; None when there is."""
    if baseline is None:
        return _result(gate, config, "skip", None, limit, "no baseline given: nothing to compare against")
    return _result(gate, config, "skip", None, limit,
                   f"no configuration '{config}' in baseline run {baseline.run_id} (it has: "
                   f"{', '.join(baseline.configs) or 'none'}): nothing to compare against - a configuration "
                   "new to this suite is compared once a baseline with it is blessed")


def _max_drop(gate: MaxGoodRateDrop, run: RunFolder, config: str, baseline: RunFolder | None,
              bconf: str | None) -> GateResult:
    if baseline is None or bconf is None:
        return _unpaired(gate, config, baseline, gate.max_drop)  # type: ignore[return-value]
    try:
        # Datasets passed so that comparing runs on different dataset versions is a config
        # error (exit 2) rather than a silently partial pairing.
        cmp = paired_segment_compare(baseline.config_scores(bconf), run.config_scores(config),
                                     outcome=gate.outcome, alpha=gate.alpha, correction=gate.correction,
                                     base_dataset=_dataset(baseline), cand_dataset=_dataset(run))
    except DataError as exc:
        return _result(gate, config, "fail", None, gate.max_drop, f"cannot compare with the baseline: {exc}")
    if gate.segments is not None:
        cmp = cmp[cmp["segment"].isin(gate.segments)]
    if cmp.empty:
        return _result(gate, config, "fail", None, gate.max_drop,
                       "no cases in common with the baseline (different dataset?)")
    details = [{k: (bool(v) if k == "significant" else v) for k, v in row.items()}
               for row in cmp.to_dict("records")]
    bad = cmp[(-cmp["diff"] > gate.max_drop) & cmp["significant"]]
    worst = cmp.sort_values("diff").iloc[0]
    # Observed = the drop (positive is worse) of the worst segment; its interval flips sign.
    observed = Estimate(value=float(-worst["diff"]), lo=float(-worst["diff_hi"]), hi=float(-worst["diff_lo"]),
                        n=int(worst["n"]))
    adj = "Holm-adjusted " if gate.correction == "holm" else ""
    if not bad.empty:
        parts = []
        for _, r in bad.sort_values("diff").iterrows():
            drop, lo, hi = (t.lstrip("+") for t in signed_parts(-100 * r["diff"], -100 * r["diff_hi"],
                                                                -100 * r["diff_lo"]))
            parts.append(
                f"segment '{r['segment']}': {gate.outcome} rate dropped {drop} points "
                f"({_pct(r['base'])} → {_pct(r['cand'])}, n={r['n']} paired cases, {r['b']} worse / "
                f"{r['c']} better, 95% CI of drop [{lo}, {hi}] points), "
                f"{adj}p={p_value(r['p_adjusted'], gate.alpha)} below α={gate.alpha}; allowed "
                f"{100 * gate.max_drop:.1f} points")
        return _result(gate, config, "fail", observed, gate.max_drop,
                       f"vs baseline {baseline.run_id}/{bconf}: " + "; ".join(parts),
                       list(bad["segment"]), details)
    largest = (f"largest drop: '{worst['segment']}' {signed(-100 * worst['diff']).lstrip('+')} points "
               f"({adj}p={p_value(worst['p_adjusted'], gate.alpha)})" if worst["diff"] < 0 else "no segment dropped")
    msg = (f"no significant drop above {100 * gate.max_drop:.1f} points in {len(cmp)} segment(s) vs "
           f"{baseline.run_id}/{bconf}; {largest}")
    return _result(gate, config, "pass", observed, gate.max_drop, msg, (), details)


def _max_invalid(gate: MaxInvalidShare, run: RunFolder, config: str) -> GateResult:
    df = run.config_scores(config)
    bad_status = {"invalid", "failed"} if gate.include_failed else {"invalid"}
    mask = df["status"].astype(str).isin(bad_status)
    est = rate(mask)
    passed = est.value is not None and est.value <= gate.max
    what = "invalid/failed" if gate.include_failed else "invalid-output"
    msg = f"{what} share {_est_text(est)} {'within' if passed else 'exceeds'} the maximum {_pct(gate.max)}"
    if not passed and mask.any():
        top = df[mask]["segment"].astype(str).value_counts().head(3)
        msg += "; most in segment(s) " + ", ".join(f"'{s}' ({k})" for s, k in top.items())
        return _result(gate, config, "fail", est, gate.max, msg, list(top.index))
    return _result(gate, config, "pass" if passed else "fail", est, gate.max, msg)


def _costs(df: Any) -> tuple[np.ndarray | None, int]:
    """The known cost per case, or None and how many cases have an unknown cost."""
    if "cost_usd" not in df:
        return None, len(df)
    costs = df["cost_usd"]
    unknown = int(costs.isna().sum())
    if unknown or costs.empty:
        return None, unknown
    return costs.to_numpy(dtype=float), 0


def _usd(e: Estimate) -> str:
    return unit_interval(e, "cost")


def _max_cost(gate: MaxCostP95Increase, run: RunFolder, config: str, baseline: RunFolder | None,
              bconf: str | None) -> GateResult:
    if baseline is None or bconf is None:
        return _unpaired(gate, config, baseline, gate.max_increase)  # type: ignore[return-value]
    cand_costs, unk_c = _costs(run.config_scores(config))
    base_costs, unk_b = _costs(baseline.config_scores(bconf))
    if cand_costs is None or base_costs is None:
        status: Status = "skip" if gate.on_unknown == "skip" else "fail"
        msg = (f"p95 cost/case unknown: {unk_c} candidate and {unk_b} baseline case(s) have unknown cost "
               "(no price for the model, or usage not reported)")
        return _result(gate, config, status, None, gate.max_increase, msg)
    cand, base = quantile_interval(cand_costs, 0.95), quantile_interval(base_costs, 0.95)
    assert cand.value is not None and base.value is not None  # known, non-empty costs
    details = ({"what": "p95 cost/case (USD)", "config": config, **cand.to_dict()},
               {"what": "baseline p95 cost/case (USD)", "config": bconf, **base.to_dict()})
    where = f"p95 cost/case {_usd(cand)} vs baseline {baseline.run_id}/{bconf} {_usd(base)}"
    if gate.mode == "relative" and base.value == 0:
        # A change from $0 is no percentage: any cost exceeds every relative limit; nothing is observed in %.
        passed = cand.value == 0
        change = ("no change: both cost nothing" if passed else
                  f"the baseline costs nothing at p95, so the change ({unit_text('usd', cand.value)} per case) is not a "
                  f"percentage and exceeds any relative limit; set `mode: absolute` to allow a dollar increase")
        return _result(gate, config, "pass" if passed else "fail", None, gate.max_increase,
                       f"{where}: {change}", details=details)
    change_est = p95_change(cand_costs, base_costs, mode=gate.mode)
    inc = float(change_est.value)  # type: ignore[arg-type]
    if gate.mode == "relative":
        shown = unit_interval(change_est, "relative")
        limit_s = f"+{100 * gate.max_increase:.0f}%"
    else:
        shown = unit_interval(change_est, "usd")
        limit_s = f"+${gate.max_increase:g}"
    passed = inc <= gate.max_increase
    msg = f"{where}: {shown} ({'within' if passed else 'exceeds'} {limit_s})"
    return _result(gate, config, "pass" if passed else "fail", change_est, gate.max_increase, msg,
                   details=details)


def _max_ece(gate: MaxCalibrationError, run: RunFolder, config: str) -> GateResult:
    th = run.thresholds
    entry = th.configs.get(config) if th is not None and th.outcome == gate.outcome else None
    est, source = ece_estimate(run.config_scores(config), outcome=gate.outcome, bins=gate.bins, thresholds_entry=entry)
    if est is None or est.value is None:
        return _result(gate, config, "fail", None, gate.max_ece, f"ECE unknown: {source}")
    passed = est.value <= gate.max_ece
    d = distinct_digits(est.lo, est.hi, 3, lambda x, k: f"{x:.{k}f}")
    ci = f" [95% CI {est.lo:.{d}f}, {est.hi:.{d}f}]" if est.lo is not None and est.hi is not None else ""
    msg = (f"ECE {est.value:.3f}{ci}, n={est.n}, {gate.bins} bins ({source}), "
           f"{'within' if passed else 'exceeds'} the maximum {gate.max_ece:.3f}")
    return _result(gate, config, "pass" if passed else "fail", est, gate.max_ece, msg)


def _min_automation(gate: MinAutomationRate, run: RunFolder, config: str) -> GateResult:
    th = run.thresholds
    cfg = th.configs.get(config) if th is not None else None
    if cfg is None:
        hint = "thresholds.json missing" if th is None else f"no thresholds for '{config}'"
        return _result(gate, config, "fail", None, gate.min,
                       f"{hint}: calibration not run - `evalkit calibrate {run.run_id}`")
    cov = cfg.coverage
    est = Estimate(value=cov.value if cov else None, lo=cov.lo if cov else None, hi=cov.hi if cov else None,
                   n=int((cov.n if cov else None) or cfg.n or 0))
    note = ""
    # per_segment calibration has no single threshold by design: its coverage is already the
    # automation under each segment's certified threshold (uncertified segments escalate).
    policy = threshold_policy(th, config)
    if policy.threshold is None and not policy.segmented:
        est, note = Estimate(value=0.0, n=est.n), " (no threshold meets the risk target: everything escalates)"
    elif gate.require_certified and not policy.certified:
        est, note = Estimate(value=0.0, n=est.n), " (threshold not certified at the risk target)"
    passed = est.value is not None and est.value >= gate.min
    uncert = cfg.uncertified_segments
    msg = (f"automation at risk target {_est_text(est)}{note} "
           f"{'meets' if passed else 'is below'} the minimum {_pct(gate.min)}")
    if uncert:
        msg += "; uncertified segment(s): " + ", ".join(f"'{s}'" for s in uncert)
    return _result(gate, config, "pass" if passed else "fail", est, gate.min, msg,
                   [] if passed else list(uncert))


def check(gate: Any, run: RunFolder, config: str, baseline: RunFolder | None,
          baseline_config: str | None = None) -> GateResult:
    """The result of one gate on one configuration; ``baseline_config``: the baseline run's
    configuration paired with ``config`` (``baseline_pairs``), None when it has none."""
    if isinstance(gate, MinGoodRate):
        return _min_good_rate(gate, run, config)
    if isinstance(gate, MaxGoodRateDrop):
        return _max_drop(gate, run, config, baseline, baseline_config)
    if isinstance(gate, MaxInvalidShare):
        return _max_invalid(gate, run, config)
    if isinstance(gate, MaxCostP95Increase):
        return _max_cost(gate, run, config, baseline, baseline_config)
    if isinstance(gate, MaxCalibrationError):
        return _max_ece(gate, run, config)
    if isinstance(gate, MinAutomationRate):
        return _min_automation(gate, run, config)
    from evalkit.errors import ConfigError  # pragma: no cover - the union is closed

    raise ConfigError(f"unknown gate kind: {getattr(gate, 'kind', gate)!r}")
