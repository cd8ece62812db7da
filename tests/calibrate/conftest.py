"""Synthetic scores.parquet-shaped data for calibration tests (no real run needed)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

SEGMENTS = {"routine": (0.975, 0.70), "legacy_discount": (0.85, 0.20), "undocumented_exception": (0.55, 0.04)}


def make_scores(n: int = 3000, *, seed: int = 0, configs: tuple[str, ...] = ("strong", "weak"),
                verbalised: bool = True, segments: dict | None = None) -> pd.DataFrame:
    """Rows like scores.parquet. Each case has a true P(good) q; the stated confidence is an
    overconfident version of q (shifted up, optionally rounded to 0.05 like verbalised scores)."""
    rng = np.random.default_rng(seed)
    segments = segments or SEGMENTS
    names = list(segments)
    shares = np.array([segments[s][1] for s in names])
    frames = []
    for ci, cfg in enumerate(configs):
        seg = rng.choice(names, size=n, p=shares / shares.sum())
        base = np.array([segments[s][0] for s in seg]) - 0.12 * ci  # the second config is weaker
        q = np.clip(base + rng.normal(0, 0.06, n), 0.02, 0.999)
        good = rng.random(n) < q
        correct = good | (rng.random(n) < 0.5)
        conf = np.clip(q + 0.08 + rng.normal(0, 0.03, n), 0, 1)  # overconfident
        if verbalised:
            conf = np.round(conf * 20) / 20
        status = rng.choice(["ok", "invalid", "failed"], size=n, p=[0.96, 0.03, 0.01])
        deferred = (rng.random(n) < 0.04) & (status == "ok")
        conf_col = pd.array(np.where(status == "ok", conf, np.nan), dtype="Float64")
        frames.append(pd.DataFrame({
            "run_id": "20260101-000000-demo-abcdef", "config": cfg,
            "case_id": [f"c{i:06d}" for i in range(n)], "segment": seg, "variant": "base",
            "status": status, "deferred": deferred,
            "correct": pd.array(np.where(status == "ok", correct, False), dtype="boolean"),
            "good": pd.array(np.where(status == "ok", good & correct, False), dtype="boolean"),
            "confidence": conf_col,
            "confidence_stated": conf_col,
            "confidence_logprob": pd.array(np.where(status == "ok", np.clip(q + rng.normal(0, 0.05, n), 0, 1), np.nan),
                                           dtype="Float64"),
            "confidence_consistency": pd.array(np.where(status == "ok", np.round(np.clip(q + rng.normal(0, 0.1, n), 0, 1) * 5) / 5, np.nan),
                                               dtype="Float64"),
        }))
    return pd.concat(frames, ignore_index=True)


@pytest.fixture
def scores_df() -> pd.DataFrame:
    return make_scores()


@pytest.fixture
def run_dir(tmp_path, scores_df):
    d = tmp_path / "reports" / "20260101-000000-demo-abcdef"
    d.mkdir(parents=True)
    scores_df.to_parquet(d / "scores.parquet", index=False)
    return d
