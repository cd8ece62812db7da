"""Projection of one scores table (all configurations) to production: the pure core of ``project_run``."""

from __future__ import annotations

import zlib
from collections.abc import Callable

import numpy as np
import pandas as pd

from evalkit.economics import EconomicsSpec
from evalkit.errors import DataError
from evalkit.project._automation import Decisions, Money, at_policy, curve
from evalkit.project._caps import History, cap_whatif
from evalkit.project._cost import cost_section, distribution, naive_cost
from evalkit.project._policy import Policy
from evalkit.project._strata import build_strata
from evalkit.stats import check_confidence_range, wilson
from evalkit.suite import ProjectionSpec

REQUIRED = ("config", "segment", "status", "deferred", "correct", "good", "confidence")
OPTIONAL = ("cost_usd", "total_tokens", "history_tokens", "history_turns_included", "deciding_turn_from_end", "attempts")


def _floats(df: pd.DataFrame, col: str) -> np.ndarray:
    if col not in df:
        return np.full(len(df), np.nan)
    return pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _bools(df: pd.DataFrame, col: str) -> np.ndarray:
    # A missing verdict counts as False: for `good`/`correct` that is the conservative reading.
    return df[col].astype("boolean").fillna(False).to_numpy(dtype=bool)


def _spend_rng(seed: int, config: str) -> np.random.Generator:
    """The monthly-spend simulation's stream, per config: keyed by name so selecting configs changes
    nothing. (The third of four spawned streams, as when the intervals were bootstrapped: the simulated
    spend of a stored run stays what it was.)"""
    ss = np.random.SeedSequence([seed, zlib.crc32(config.encode())])
    return np.random.default_rng(ss.spawn(4)[2])


def check_columns(df: pd.DataFrame, where: str) -> None:
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise DataError(f"{where}: missing column(s) {missing}", problems=[f"column `{c}` is required" for c in missing])


def project_config(df: pd.DataFrame, name: str, *, spec: ProjectionSpec, economics: EconomicsSpec,
                   policy: Policy, outcome: str, input_price: float | None,
                   grid: np.ndarray) -> dict:
    """projection.json's ``configs.<name>`` block for one configuration's rows."""
    segments = df["segment"].astype(str).to_numpy(dtype=object)
    strata = build_strata(segments, spec.mix, min_cases=spec.min_cases_per_segment)
    if not strata.names:
        raise DataError(
            f"config {name!r}: none of the mix's segments ({', '.join(sorted(spec.mix))}) has cases in the run",
            problems=[f"{s}: {why}" for s, why in strata.flagged.items()],
        )
    good = _bools(df, outcome)
    dec = Decisions(
        ok=(df["status"].astype(str) == "ok").to_numpy(dtype=bool),
        deferred=_bools(df, "deferred"),
        confidence=_floats(df, "confidence"),
        error=~good,
    )
    # Flagging, not extrapolating: volume in segments with no cases is not projected, so every monthly
    # figure covers the estimable volume only (recorded as `estimated_volume_per_month`).
    volume = spec.volume_per_month * (1.0 - strata.unestimated_share)
    money = Money(volume=volume, economics=economics)
    points, best_t, escalate_all = curve(dec, strata, grid, money)
    seg_t = policy.per_segment(strata.names, fallback=best_t)
    headline = at_policy(dec, strata, seg_t, money)
    threshold = best_t if policy.source == "value_optimal" else policy.threshold

    cost = _floats(df, "cost_usd")
    per_case, monthly = cost_section(cost, segments, strata, volume=volume,
                                     months=spec.months_simulated, naive_segment=spec.naive_segment,
                                     naive_k=spec.naive_typical_cases, rng=_spend_rng(spec.seed, name))
    tokens = _floats(df, "total_tokens")
    naive_tokens = naive_cost(tokens, segments, segment=spec.naive_segment, k=spec.naive_typical_cases)

    history = History(
        tokens=np.nan_to_num(_floats(df, "history_tokens")),
        turns_included=np.nan_to_num(_floats(df, "history_turns_included")),
        deciding_from_end=_floats(df, "deciding_turn_from_end"),
        good=_bools(df, "good"),
        attempts=np.nan_to_num(_floats(df, "attempts"), nan=1.0),
    )
    caps = [cap_whatif(c, history, strata, input_price=input_price, mean_cost=per_case["mean"],
                       volume=volume)
            for c in spec.context_caps]
    n_all = len(df)
    block = {
        "threshold": threshold,
        "threshold_source": policy.source,
        "threshold_mode": "per_segment" if policy.segments else "global",
        "risk_target_threshold": policy.risk_target_threshold,
        "risk_target_segments": policy.risk_target_segments,
        "outcome": outcome,
        "n": strata.n,
        "effective_sample_size": strata.ess,
        "flagged_segments": sorted(strata.flagged),
        "flag_reasons": dict(sorted(strata.flagged.items())),
        "unestimated_share": strata.unestimated_share,
        "estimated_volume_per_month": volume,
        "unmixed_segments": list(strata.unmixed),
        "naive_automation_rate": wilson(int(_bools(df, "correct").sum()), n_all).to_dict(),
        **{k: v for k, v in headline.items() if k != "segments"},
        "segments": {
            s: {"n": int(strata.counts[i]), "production_share": float(strata.pi[i]),
                "dataset_share": float(strata.counts[i] / strata.n), **headline["segments"][s]}
            for i, s in enumerate(strata.names)
        },
        "cost_per_case": per_case,
        "tokens_per_case": distribution(tokens, strata),
        "naive_tokens_per_case": naive_tokens["per_case"],
        "monthly_cost": monthly,
        "net_value_escalate_all": escalate_all,
        "value_optimal_threshold": best_t,
        "curve": points,
        "context_caps": caps,
        "input_price_per_token": input_price,
    }
    return block


def project_frame(scores: pd.DataFrame, *, spec: ProjectionSpec, economics: EconomicsSpec,
                  policy_for: Callable[[str], Policy], outcome: str,
                  input_price_for: Callable[[str], float | None] = lambda _: None,
                  configs: list[str] | None = None, grid: list[float] | None = None,
                  where: str = "scores") -> dict:
    """The ``configs`` mapping of projection.json for a scores.parquet-shaped DataFrame."""
    check_columns(scores, where)
    check_confidence_range(scores["confidence"].to_numpy(dtype=float, na_value=np.nan),
                           scores["status"].astype(str).to_numpy() == "ok",
                           scores["case_id"].to_numpy() if "case_id" in scores.columns else None, where)
    present = list(dict.fromkeys(scores["config"].astype(str)))
    wanted = configs or present
    unknown = [c for c in wanted if c not in present]
    if unknown:
        raise DataError(f"{where}: no rows for config(s) {unknown}; configs in the run: {present}")
    # rounded: linspace gives 0.5700000000000001, which a confidence of 0.57 would not clear
    grid_arr = np.asarray(grid if grid is not None else np.linspace(0.0, 1.0, spec.curve_points).round(12), dtype=float)
    out = {}
    groups = dict(tuple(scores.groupby(scores["config"].astype(str), sort=False)))
    for name in wanted:
        out[name] = project_config(groups[name], name, spec=spec, economics=economics, policy=policy_for(name),
                                   outcome=outcome, input_price=input_price_for(name), grid=grid_arr)
    return out
