"""Simulated paired comparisons for the sequential drop gate (shared by the tests and
bench/bench_sequential.py).

Each replication draws a dataset like upgrades@v1 (nine segments of different sizes and
good rates); every case has its own difficulty p ~ Beta around its segment's rate, and
the baseline and candidate outcomes are independent Bernoulli(p) draws (a null: the same
distribution, with realistic discordance), or the candidate's p is lowered in one
segment (an alternative). Cases are sent in a random order within each segment; the
gate monitors after every case (stricter than batches).
"""

from __future__ import annotations

import numpy as np

SEGMENTS = {"routine": (900, 0.85), "proration": (420, 0.75), "legacy_pricing": (331, 0.82),
            "annual_switch": (300, 0.70), "discount_stack": (280, 0.65), "multi_seat": (250, 0.78),
            "downgrade_credit": (220, 0.60), "tax_region": (180, 0.72), "undocumented_exception": (119, 0.40)}


def paired_diffs(rng: np.random.Generator, reps: int, *, shift: dict[str, float] | None = None,
                 concentration: float = 4.0) -> list[np.ndarray]:
    """Per segment, (reps, n) arrays of baseline good - candidate good."""
    out = []
    for seg, (n, rate) in SEGMENTS.items():
        p = rng.beta(rate * concentration, (1 - rate) * concentration, size=(reps, n))
        base = rng.random((reps, n)) < p
        p_cand = np.clip(p + (shift or {}).get(seg, 0.0), 0.0, 1.0)
        cand = rng.random((reps, n)) < p_cand
        out.append(base.astype(float) - cand.astype(float))
    return out


def false_failure_rate(reps: int, *, seed: int, alpha: float = 0.05) -> float:
    """Share of null replications in which the drop gate (max_drop 0, Holm) ever fails."""
    from evalkit.gate._sequential import drop_rejections

    rng = np.random.default_rng(seed)
    _, rejected = drop_rejections(paired_diffs(rng, reps), max_drop=0.0, alpha=alpha, correction="holm")
    return float(rejected.any(axis=-1).mean())


def stopping_share(reps: int, *, seed: int, shift: dict[str, float], alpha: float = 0.05,
                   batch_share: float = 0.025) -> np.ndarray:
    """Share of all cases sent when the gate first fails (1.0 = never), looking after
    every batch of ``batch_share`` of the cases, segments interleaved in proportion."""
    from evalkit.gate._sequential import drop_rejections

    rng = np.random.default_rng(seed)
    diffs = paired_diffs(rng, reps, shift=shift)
    stops = np.ones(reps)
    open_ = np.ones(reps, dtype=bool)
    for share in np.arange(batch_share, 1.0 + 1e-9, batch_share):
        prefix = [d[:, : max(1, round(share * d.shape[1]))] for d in diffs]
        _, rejected = drop_rejections(prefix, max_drop=0.0, alpha=alpha, correction="holm")
        hit = rejected.any(axis=-1) & open_
        stops[hit] = share
        open_ &= ~hit
        if not open_.any():
            break
    return stops
