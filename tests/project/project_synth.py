"""Synthetic scores.parquet-shaped tables and run folders for projection tests (and the bench)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

SEGMENTS = {
    # segment: (n, p_ok, p_deferred, confidence beta a, b, cost lognormal sigma, cost scale)
    "routine": (400, 0.98, 0.02, 8.0, 2.0, 0.3, 0.002),
    "legacy_discount": (300, 0.95, 0.10, 4.0, 3.0, 0.6, 0.004),
    "long_history": (300, 0.93, 0.05, 3.0, 3.0, 1.4, 0.010),
}


def make_scores(seed: int = 0, *, segments: dict | None = None, configs: tuple[str, ...] = ("alpha",),
                scale: int = 1) -> pd.DataFrame:
    """One row per case x config with the columns of contracts.md; costs long-tailed in long_history."""
    rng = np.random.default_rng(seed)
    segments = segments or SEGMENTS
    frames = []
    for config in configs:
        for seg, (n, p_ok, p_def, a, b, sigma, scale_usd) in segments.items():
            n = n * scale
            ok = rng.random(n) < p_ok
            conf = rng.beta(a, b, n)
            good = rng.random(n) < conf  # calibrated-ish: P(good) = confidence
            correct = good | (rng.random(n) < 0.5)
            turns = rng.integers(1, 40, n)
            hist_tok = turns * rng.integers(80, 200, n)
            deciding = rng.integers(1, 40, n).astype(float)
            deciding[rng.random(n) < 0.2] = np.nan
            cost = scale_usd * rng.lognormal(0.0, sigma, n)
            frames.append(pd.DataFrame({
                "run_id": "r1", "config": config, "case_id": [f"{seg}-{i}" for i in range(n)],
                "segment": seg, "variant": "base",
                "status": np.where(ok, "ok", np.where(rng.random(n) < 0.5, "invalid", "failed")),
                "deferred": ok & (rng.random(n) < p_def),
                "correct": correct & ok, "good": good & ok,
                "confidence": np.where(ok, conf, np.nan),
                "input_tokens": hist_tok + 500, "output_tokens": 200, "total_tokens": hist_tok + 700,
                "cost_usd": cost,
                "history_turns_total": turns, "history_turns_included": turns, "history_tokens": hist_tok,
                "deciding_turn_from_end": deciding, "attempts": 1, "cache_hit": False, "simulated": True,
            }))
    return pd.concat(frames, ignore_index=True)


MIX = {"routine": 0.8, "legacy_discount": 0.1, "long_history": 0.1}


def write_run(root: Path, df: pd.DataFrame, *, thresholds: dict | None = None, manifest: dict | None = None) -> Path:
    run = root / "20260101-000000-demo-abcdef"
    run.mkdir(parents=True, exist_ok=True)
    df.to_parquet(run / "scores.parquet", index=False)
    (run / "manifest.json").write_text(json.dumps(manifest or {
        "run_id": run.name, "seed": 3,
        "configs": [{"name": "alpha", "price": {"input": 1e-6, "output": 4e-6, "source": "suite"}},
                    {"name": "beta", "price": None}],
        "suite": {"spec": {"projection": {"volume_per_month": 50000, "mix": MIX, "resamples": 200},
                           "economics": {"review_cost": 5.0, "error_cost": 100.0}}},
    }))
    if thresholds is not None:
        (run / "thresholds.json").write_text(json.dumps(thresholds))
    return run
