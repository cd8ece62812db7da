"""Anytime-valid inference for bounded observations: betting e-processes, the anytime
p-values they give, confidence sequences by inversion, and Holm across them.

Method: testing by betting (Waudby-Smith & Ramdas, "Estimating means of bounded random
variables by betting", JRSS-B 86(1):1-27, 2024; Shafer, "Testing by betting", JRSS-A
184(2), 2021). For observations y_1, y_2, ... in [0, 1] and the null H0: E[y_t | past] <= m,
the wealth

    K_t(m) = prod_{i<=t} (1 + lambda_i (y_i - m)),   0 <= lambda_i <= c / m,

with lambda_i chosen from y_1..y_{i-1} only (predictable) is a non-negative
supermartingale under H0, so by Ville's inequality P(sup_t K_t >= 1/alpha) <= alpha:
the p-value p_t = 1 / max_{s<=t} K_s is valid at every time and at any stopping time,
however often it is looked at. The bet is WSR's approximate GRAPA ("aGRAPA"):
lambda_i = (mu_{i-1} - m) / (sigma2_{i-1} + (mu_{i-1} - m)^2), truncated to [0, c/m], with
the regularised running mean and variance of WSR (mu_0 = 1/2, sigma2_0 = 1/4).

Holm's procedure (evalkit.score's) only needs valid p-values at the (common) stopping
time, which anytime p-values are, so ``holm_reject`` keeps the family-wise error at alpha
across segments and across looks.

Everything here is pure numpy over the last axis, so a simulation can run thousands of
replications in one call (the null test and bench/bench_sequential.py do).
"""

from __future__ import annotations

import numpy as np

BET_CAP = 0.75
"""c: the largest bet as a share of what would risk all wealth on one observation (WSR use 1/2-3/4)."""


def log_wealth(y: np.ndarray, m: float | np.ndarray, *, cap: float = BET_CAP) -> np.ndarray:
    """log K_t(m) for every t (last axis) for H0: mean <= m; y in [0, 1].

    ``m`` may be an array broadcasting against ``y[..., :1]`` (e.g. a grid of nulls)."""
    y = np.asarray(y, dtype=float)
    m = np.asarray(m, dtype=float)
    if y.shape[-1] == 0:
        return np.zeros(np.broadcast_shapes(y.shape, m.shape))
    t = np.arange(1, y.shape[-1] + 1, dtype=float)
    s = np.cumsum(y, axis=-1)
    mu = (0.5 + s) / (t + 1)  # regularised mean after t observations
    dev2 = np.cumsum((y - mu) ** 2, axis=-1)
    sigma2 = (0.25 + dev2) / (t + 1)
    zeros = np.zeros(y.shape[:-1] + (1,))
    mu_prev = np.concatenate([zeros + 0.5, mu[..., :-1]], axis=-1)  # predictable: before y_t
    sigma2_prev = np.concatenate([zeros + 0.25, sigma2[..., :-1]], axis=-1)
    edge = mu_prev - m
    lam = np.clip(edge / (sigma2_prev + edge**2), 0.0, cap / np.maximum(m, 1e-12))
    return np.cumsum(np.log1p(lam * (y - m)), axis=-1)


def anytime_p(y: np.ndarray, m: float | np.ndarray, *, side: str = "greater", cap: float = BET_CAP) -> np.ndarray:
    """Anytime-valid p-value at the last observation for H0: mean <= m (side='greater':
    evidence the mean is above m) or H0: mean >= m (side='less'); y in [0, 1]."""
    y = np.asarray(y, dtype=float)
    if side == "less":
        y, m = 1.0 - y, 1.0 - np.asarray(m, dtype=float)
    elif side != "greater":
        raise ValueError(f"side must be 'greater' or 'less', not {side!r}")
    lw = log_wealth(y, m, cap=cap)
    if lw.shape[-1] == 0:
        return np.ones(lw.shape[:-1])
    return np.minimum(1.0, np.exp(-np.maximum(np.max(lw, axis=-1), 0.0)))


def holm_reject(p: np.ndarray, alpha: float) -> np.ndarray:
    """Holm step-down over the last axis (any leading axes are replications): which
    hypotheses are rejected at FWER alpha. evalkit.score's Holm, applied row by row."""
    from evalkit.score import holm

    p = np.asarray(p, dtype=float)
    if p.shape[-1] == 0:
        return np.zeros(p.shape, dtype=bool)
    return np.apply_along_axis(lambda row: holm(row, alpha)[1], -1, p)


GRID = np.linspace(0.0, 1.0, 401)


def confidence_sequence(y: np.ndarray, alpha: float, *, cap: float = BET_CAP) -> tuple[float, float]:
    """A (1 - alpha) confidence sequence for the mean of y in [0, 1], at the last observation:
    the nulls m (on a 1/400 grid) that neither one-sided test (alpha/2 each) has rejected so far."""
    y = np.asarray(y, dtype=float)
    if y.size == 0:
        return 0.0, 1.0
    thr = np.log(2.0 / alpha)
    grid = GRID[:, None]
    above = np.max(log_wealth(np.broadcast_to(y, (GRID.size, y.size)), grid, cap=cap), axis=-1) >= thr
    below = np.max(log_wealth(np.broadcast_to(1.0 - y, (GRID.size, y.size)), 1.0 - grid, cap=cap), axis=-1) >= thr
    alive = ~(above | below)
    if not alive.any():  # cannot happen for alpha < 1 unless the grid is too coarse
        mean = float(y.mean())
        return mean, mean
    return float(GRID[alive].min()), float(GRID[alive].max())
