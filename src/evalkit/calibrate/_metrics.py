"""Calibration and discrimination metrics of a confidence score for a binary outcome.

Inputs are two aligned arrays: ``conf`` in [0, 1] and ``y`` (1 = outcome holds, i.e. the
decision was good/correct). Everything is vectorised: one sort, cumulative sums, bincount.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from evalkit.calibrate._bins import mass_bins, width_bins, wilson
from evalkit.stats import bin_sums, ece_from_sums
from evalkit.stats import ece as stats_ece

ECE_MIN_N = 300  # HELM: ECE-10 is unreliable below ~300 cases
AUROC_MIN_CLASS = 10
MCE_MIN_BIN_N = 30
DISTINCT_FOR_EXACT_MURPHY = 50


@dataclass(kw_only=True)
class ReliabilityBin:
    lo: float
    hi: float
    n: int
    mean_confidence: float
    observed_rate: float
    rate_lo: float
    rate_hi: float
    gap: float


@dataclass(kw_only=True)
class Metrics:
    n: int
    n_positive: int
    base_rate: float
    mean_confidence: float
    ece_width: float
    ece_width_ci: tuple[float, float] | None
    ece_mass: float
    ece_mass_ci: tuple[float, float] | None
    mce: float
    mce_bin: dict
    brier: float
    brier_reliability: float
    brier_resolution: float
    brier_uncertainty: float
    brier_grouping: str
    log_loss: float
    auroc: float | None
    aurc: float
    e_aurc: float
    aurc_optimal: float
    risk_coverage: list[dict]
    reliability_width: list[ReliabilityBin]
    reliability_mass: list[ReliabilityBin]
    bootstrap: dict
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return asdict(self)


def ece(conf: np.ndarray, y: np.ndarray, *, n_bins: int = 10, strategy: str = "width") -> float:
    """Expected calibration error, n-weighted over non-empty bins (equal-width: ``evalkit.stats.ece``;
    equal-mass: the edges of ``mass_bins``)."""
    if strategy == "width":
        return stats_ece(conf, y, bins=n_bins)
    conf = np.asarray(conf, dtype=float)
    y = np.asarray(y, dtype=float)
    idx, _ = mass_bins(conf, n_bins)
    _, sc, sy = bin_sums(idx, conf, y, int(idx.max()) + 1 if idx.size else 1)
    return float(ece_from_sums(sc, sy, max(conf.size, 1)))


def _reliability(idx: np.ndarray, lows: np.ndarray, highs: np.ndarray, conf: np.ndarray,
                 y: np.ndarray) -> list[ReliabilityBin]:
    m = lows.size
    cnt, sc, sy = bin_sums(idx, conf, y, m)
    lo, hi = wilson(sy, cnt)
    out = []
    for b in np.flatnonzero(cnt > 0):
        mc, orate = sc[b] / cnt[b], sy[b] / cnt[b]
        out.append(ReliabilityBin(lo=float(lows[b]), hi=float(highs[b]), n=int(cnt[b]),
                                  mean_confidence=float(mc), observed_rate=float(orate),
                                  rate_lo=float(lo[b]), rate_hi=float(hi[b]), gap=float(orate - mc)))
    return out


def brier_decomposition(conf: np.ndarray, y: np.ndarray, *, n_bins: int = 10) -> dict:
    """Brier score and Murphy (1973) REL/RES/UNC.

    Grouped by distinct confidence values when there are few (exact: BS = REL - RES + UNC),
    else by the equal-width bins (approximate: within-bin terms are dropped; the residual is
    reported).
    """
    conf = np.asarray(conf, dtype=float)
    y = np.asarray(y, dtype=float)
    n = conf.size
    brier = float(np.mean((conf - y) ** 2))
    uniq, inv = np.unique(conf, return_inverse=True)
    if uniq.size <= DISTINCT_FOR_EXACT_MURPHY:
        idx, m, grouping = inv, uniq.size, "distinct values (exact)"
    else:
        idx, m, grouping = width_bins(conf, n_bins), n_bins, f"{n_bins} equal-width bins (approximate)"
    cnt, sc, sy = bin_sums(idx, conf, y, m)
    nz = cnt > 0
    f, o = sc[nz] / cnt[nz], sy[nz] / cnt[nz]
    w = cnt[nz] / n
    obar = float(y.mean())
    rel = float(np.sum(w * (f - o) ** 2))
    res = float(np.sum(w * (o - obar) ** 2))
    unc = obar * (1 - obar)
    return {"brier": brier, "reliability": rel, "resolution": res, "uncertainty": unc,
            "grouping": grouping, "residual": brier - (rel - res + unc)}


def log_loss(conf: np.ndarray, y: np.ndarray) -> float:
    """Mean negative log-likelihood; conf clipped to [eps, 1 - eps] (float64 eps, as scikit-learn)."""
    eps = np.finfo(float).eps
    c = np.clip(np.asarray(conf, dtype=float), eps, 1 - eps)
    y = np.asarray(y, dtype=float)
    return float(-np.mean(y * np.log(c) + (1 - y) * np.log1p(-c)))


def risk_coverage(conf: np.ndarray, y: np.ndarray, *, max_points: int = 101) -> dict:
    """Risk-coverage curve, AURC and E-AURC (errors are y == 0).

    Cases are ranked by confidence, highest first. Within a tie group the errors are spread
    evenly (the expectation over random tie-breaking), so the result does not depend on row
    order. AURC = (1/n) sum_k risk(top k). E-AURC (Geifman, Uziel & El-Yaniv 2019) = AURC - AURC*,
    with AURC* the finite-sample AURC of the oracle ranking (all errors last), not the
    continuous approximation r + (1-r) ln(1-r).
    """
    conf = np.asarray(conf, dtype=float)
    err = 1.0 - np.asarray(y, dtype=float)
    n = conf.size
    order = np.argsort(-conf, kind="stable")
    c_sorted, e_sorted = conf[order], err[order]
    # tie groups in descending order
    starts = np.flatnonzero(np.r_[True, c_sorted[1:] != c_sorted[:-1]])
    sizes = np.diff(np.r_[starts, n])
    g_err = np.add.reduceat(e_sorted, starts)
    before = np.r_[0.0, np.cumsum(g_err)[:-1]]
    g_rate = g_err / sizes
    gid = np.repeat(np.arange(starts.size), sizes)
    k = np.arange(1, n + 1, dtype=float)
    cum_err = before[gid] + (k - starts[gid]) * g_rate[gid]
    risk = cum_err / k
    aurc = float(risk.mean())
    n_err = float(err.sum())
    n_ok = n - n_err
    opt = np.where(k <= n_ok, 0.0, (k - n_ok) / k)
    aurc_opt = float(opt.mean())
    # curve at tie-group ends (thresholds), thinned to max_points
    ends = starts + sizes - 1
    pick = ends if ends.size <= max_points else ends[np.unique(np.linspace(0, ends.size - 1, max_points).round().astype(int))]
    curve = [{"threshold": float(c_sorted[i]), "coverage": float((i + 1) / n), "risk": float(risk[i])} for i in pick]
    return {"aurc": aurc, "aurc_optimal": aurc_opt, "e_aurc": aurc - aurc_opt, "curve": curve}


def _bootstrap_ece(idx_w: np.ndarray, idx_m: np.ndarray, conf: np.ndarray, y: np.ndarray,
                   mw: int, mm: int, reps: int, seed: int) -> dict:
    """Percentile bootstrap of both ECEs, bins held fixed.

    Exact case resampling up to 100k cases; above that, resample (bin, outcome) cells from a
    multinomial and draw each cell's confidence sum from its normal approximation (CLT; the
    bins' mean confidence barely moves at that size), which keeps 1M cases fast.
    """
    rng = np.random.default_rng(seed)
    n = conf.size
    out = {}
    for name, idx, m in (("width", idx_w, mw), ("mass", idx_m, mm)):
        if n <= 100_000:
            vals = np.empty(reps)
            chunk = max(1, 4_000_000 // max(n, 1))  # bounds memory to ~100 MB
            for s in range(0, reps, chunk):
                r = min(chunk, reps - s)
                draw = rng.integers(0, n, size=(r, n))
                cell = (np.arange(r)[:, None] * m + idx[draw]).ravel()
                sc = np.bincount(cell, weights=conf[draw].ravel(), minlength=r * m).reshape(r, m)
                sy = np.bincount(cell, weights=y[draw].ravel(), minlength=r * m).reshape(r, m)
                vals[s:s + r] = ece_from_sums(sc, sy, n)
            kind = "case resampling"
        else:
            cell = idx * 2 + y.astype(np.int64)
            cnt = np.bincount(cell, minlength=2 * m).astype(float)
            mean = np.bincount(cell, weights=conf, minlength=2 * m) / np.maximum(cnt, 1)
            sq = np.bincount(cell, weights=conf**2, minlength=2 * m) / np.maximum(cnt, 1)
            sd = np.sqrt(np.maximum(sq - mean**2, 0))
            draws = rng.multinomial(n, cnt / n, size=reps).astype(float)
            sc = draws * mean + np.sqrt(draws) * sd * rng.standard_normal(draws.shape)
            sc = sc.reshape(reps, m, 2).sum(axis=2)
            sy = draws.reshape(reps, m, 2)[:, :, 1]
            vals = ece_from_sums(sc, sy, n)
            kind = "cell resampling (normal approx. of within-cell confidence sums)"
        out[name] = (float(np.quantile(vals, 0.025)), float(np.quantile(vals, 0.975)))
    return {"resamples": reps, "seed": seed, "kind": kind, "level": 0.95, "intervals": out}


def compute_metrics(conf: np.ndarray, y: np.ndarray, *, n_bins: int = 10, bootstrap: int = 500,
                    seed: int = 0) -> Metrics:
    """All calibration metrics for one set of (confidence, outcome) pairs (n >= 1)."""
    from sklearn.metrics import roc_auc_score

    conf = np.asarray(conf, dtype=float)
    y = np.asarray(y, dtype=float)
    n = conf.size
    n_pos = int(y.sum())
    warnings: list[str] = []
    if n < ECE_MIN_N:
        warnings.append(f"ECE with n={n} < {ECE_MIN_N}: binned calibration error is unreliable (HELM guidance)")
    idx_w = width_bins(conf, n_bins)
    idx_m, mass_lows = mass_bins(conf, n_bins)
    mm = mass_lows.size
    cw = bin_sums(idx_w, conf, y, n_bins)
    cm = bin_sums(idx_m, conf, y, mm)
    ece_w = float(ece_from_sums(cw[1], cw[2], n))
    ece_m = float(ece_from_sums(cm[1], cm[2], n))
    gaps = np.where(cw[0] > 0, np.abs(cw[2] - cw[1]) / np.maximum(cw[0], 1), -1.0)
    b = int(np.argmax(gaps))
    mce_bin = {"lo": b / n_bins, "hi": (b + 1) / n_bins, "n": int(cw[0][b])}
    if cw[0][b] < MCE_MIN_BIN_N:
        warnings.append(f"MCE comes from a bin with n={int(cw[0][b])} < {MCE_MIN_BIN_N}: mostly noise")
    lows_w = np.arange(n_bins) / n_bins
    highs_w = (np.arange(n_bins) + 1) / n_bins
    highs_m = np.r_[mass_lows[1:], conf.max() if n else 1.0]
    bd = brier_decomposition(conf, y, n_bins=n_bins)
    if n_pos < AUROC_MIN_CLASS or n - n_pos < AUROC_MIN_CLASS:
        warnings.append(f"AUROC with {n_pos} positive / {n - n_pos} negative cases (< {AUROC_MIN_CLASS} "
                        "in a class): not meaningful" + (" and undefined" if n_pos in (0, n) else ""))
    auroc = float(roc_auc_score(y, conf)) if 0 < n_pos < n else None
    rc = risk_coverage(conf, y)
    boot = (_bootstrap_ece(idx_w, idx_m, conf, y, n_bins, mm, bootstrap, seed)
            if bootstrap > 0 and n > 1 else {"resamples": 0, "seed": seed, "intervals": {}})
    iv = boot.get("intervals", {})
    return Metrics(
        n=n, n_positive=n_pos, base_rate=n_pos / n, mean_confidence=float(conf.mean()),
        ece_width=ece_w, ece_width_ci=iv.get("width"), ece_mass=ece_m, ece_mass_ci=iv.get("mass"),
        mce=float(gaps[b]), mce_bin=mce_bin,
        brier=bd["brier"], brier_reliability=bd["reliability"], brier_resolution=bd["resolution"],
        brier_uncertainty=bd["uncertainty"], brier_grouping=bd["grouping"],
        log_loss=log_loss(conf, y), auroc=auroc,
        aurc=rc["aurc"], e_aurc=rc["e_aurc"], aurc_optimal=rc["aurc_optimal"], risk_coverage=rc["curve"],
        reliability_width=_reliability(idx_w, lows_w, highs_w, conf, y),
        reliability_mass=_reliability(idx_m, mass_lows, highs_m, conf, y),
        bootstrap=boot, warnings=warnings,
    )
