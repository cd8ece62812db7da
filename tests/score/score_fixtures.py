"""Shared synthetic fixtures for the scoring tests."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict


class Decision(BaseModel):
    """A small stand-in for the upgrades task's decision model."""

    model_config = ConfigDict(extra="forbid")
    action: Literal["approve", "deny", "escalate", "counter_offer"]
    new_price: Decimal
    seats: int
    message: str = ""


def paired_scores(seed: int, segments: dict[str, int], *, drop_segment: str | None = None,
                  drop_share: float = 0.35, noise: float = 0.03, p_good: float = 0.8,
                  configs: tuple[str, str] = ("base", "cand")) -> pd.DataFrame:
    """Two configs answering the same cases; under the null the discordant pairs are
    symmetric, in ``drop_segment`` a share of base-good cases turns not-good."""
    rng = np.random.default_rng(seed)
    rows = []
    for seg, n in segments.items():
        case_ids = [f"{seg}-{i:05d}" for i in range(n)]
        # Joint (base, cand) outcome per case: discordant pairs are symmetric (noise/2
        # each way) except in the drop segment, where extra good -> not-good pairs are planted.
        extra = drop_share * p_good if seg == drop_segment else 0.0
        probs = np.array([p_good - noise / 2 - extra, noise / 2 + extra, noise / 2, 1 - p_good - noise / 2])
        cat = rng.choice(4, size=n, p=probs / probs.sum())
        base_good = (cat == 0) | (cat == 1)
        cand_good = (cat == 0) | (cat == 2)
        for cfg, good in zip(configs, (base_good, cand_good)):
            correct = good | (rng.random(n) < 0.5)
            for i in range(n):
                rows.append({
                    "run_id": "r", "config": cfg, "case_id": case_ids[i], "segment": seg, "variant": "v",
                    "status": "ok", "action": "approve" if good[i] else "deny",
                    "expected_action": "approve", "deferred": False,
                    "correct": bool(correct[i]), "good": bool(good[i]),
                    "reasons": [] if good[i] else [f"check.{seg}_{cfg}"],
                    "total_tokens": 100, "cost_usd": 0.001,
                })
    return pd.DataFrame(rows)


def write_run(root: Path, run_id: str, scores: pd.DataFrame, *, dataset_version: str = "v1",
              created: str = "2026-11-21T10:00:00Z") -> Path:
    run = root / run_id
    run.mkdir(parents=True)
    scores.to_parquet(run / "scores.parquet", index=False)
    manifest = {"run_id": run_id, "created": created, "status": "complete",
                "dataset": {"name": "upgrades", "version": dataset_version, "sha256": "ab" * 32}}
    (run / "manifest.json").write_text(json.dumps(manifest))
    return run
