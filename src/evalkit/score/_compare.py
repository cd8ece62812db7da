"""Paired comparison of two configurations that answered the same cases.

Rows are paired on ``case_id``. For each outcome (``good`` and ``correct``) and each
segment (plus ``ALL``):

* base and candidate rates with Wilson 95% intervals;
* diff = cand - base with Newcombe's paired (method 10) 95% interval;
* McNemar's exact test on the discordant pairs: b = base true -> cand false
  (regressed), c = base false -> cand true (improved);
* Holm adjustment across the segments (the ``ALL`` row is a single pre-specified
  test and keeps its raw p-value), ``significant`` = adjusted p < alpha.

Invalid/failed rows count as not good and not correct (as in the aggregates).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evalkit.errors import ConfigError, DataError
from evalkit.score._aggregate import ALL
from evalkit.score._stats import Z_LEVEL, holm, mcnemar_exact_p, paired_diff_newcombe, wilson

OUTCOMES = ("good", "correct")
_KEEP = ("config", "case_id", "segment", "status", "action", "correct", "good", "reasons")

TABLE_COLUMNS = ("outcome", "segment", "n", "base_k", "base_rate", "base_lo", "base_hi",
                 "cand_k", "cand_rate", "cand_lo", "cand_hi", "diff", "diff_lo", "diff_hi",
                 "b", "c", "p_value", "p_adjusted", "significant", "direction")
FLIP_COLUMNS = ("outcome", "case_id", "segment", "direction", "base_status", "cand_status",
                "base_action", "cand_action", "base_reasons", "cand_reasons")


@dataclass(frozen=True, kw_only=True)
class Comparison:
    """Result of ``compare``: a tidy per-outcome x segment table plus the flipped cases."""

    base_config: str
    cand_config: str
    outcome: str
    """The primary outcome (what the CLI prints first and gates read); both are in ``table``."""
    table: pd.DataFrame
    flips: pd.DataFrame
    n_base: int
    n_cand: int
    n_paired: int
    dropped_base: int
    dropped_cand: int
    dataset_mismatch: bool = False
    base_dataset: dict[str, Any] | None = None
    cand_dataset: dict[str, Any] | None = None
    base_run: str | None = None
    cand_run: str | None = None
    alpha: float = Z_LEVEL
    interval_method: str = "newcombe_paired_method10"
    test_method: str = "mcnemar_exact"
    adjust_method: str = "holm"
    notes: tuple[str, ...] = field(default_factory=tuple)
    base_simulated: bool | None = None
    """The base configuration's numbers come from a simulated provider (None: not known, e.g. tables
    compared without their run folders; ``compare_runs`` asks the run)."""
    cand_simulated: bool | None = None
    """The same for the candidate configuration."""

    @property
    def simulated(self) -> bool | None:
        """Either side is simulated (None when neither side is known)."""
        known = [s for s in (self.base_simulated, self.cand_simulated) if s is not None]
        return any(known) if known else None

    def rows(self, outcome: str | None = None) -> pd.DataFrame:
        o = outcome or self.outcome
        return self.table[self.table["outcome"] == o].reset_index(drop=True)

    def significant_segments(self, outcome: str | None = None, direction: str | None = None) -> list[str]:
        t = self.rows(outcome)
        t = t[(t["segment"] != ALL) & t["significant"]]
        if direction is not None:
            t = t[t["direction"] == direction]
        return [str(s) for s in t["segment"]]


def _select(df: pd.DataFrame, config: str | None, side: str) -> tuple[pd.DataFrame, str]:
    if "config" not in df.columns:
        return df, config or side
    names = sorted(str(c) for c in df["config"].dropna().unique())
    if config is None:
        if len(names) != 1:
            raise ConfigError(f"{side} scores hold {len(names)} configs {names}; name one "
                              f"(--config-{'a' if side == 'base' else 'b'})")
        config = names[0]
    if config not in names:
        raise ConfigError(f"{side} config {config!r} not in scores; available: {names}")
    return df[df["config"] == config], config


def _prepare(df: pd.DataFrame, side: str) -> pd.DataFrame:
    missing = [c for c in ("case_id", "segment", "status", "correct", "good") if c not in df.columns]
    if missing:
        raise DataError(f"{side} scores lack column(s) {missing}")
    if df["case_id"].duplicated().any():
        dup = df.loc[df["case_id"].duplicated(), "case_id"].iloc[0]
        raise DataError(f"{side} scores have case_id {dup!r} more than once for one config")
    ok = (df["status"] == "ok").fillna(False).to_numpy(dtype=bool)
    # Keep the string columns in their own (arrow) dtype: converting 1M strings to
    # Python objects and back is the slowest thing a compare could do.
    cols = [c for c in ("case_id", "segment", "status", "action", "reasons") if c in df.columns]
    out = df[cols].reset_index(drop=True)
    for c in ("action", "reasons"):
        if c not in out.columns:
            out[c] = None
    out["good"] = df["good"].fillna(False).to_numpy(dtype=bool) & ok
    out["correct"] = df["correct"].fillna(False).to_numpy(dtype=bool) & ok
    return out


def _dataset_label(ds: Mapping[str, Any] | None) -> str:
    if not ds:
        return "unknown dataset"
    sha = str(ds.get("sha256") or "")[:12]
    return f"{ds.get('name')}@{ds.get('version')}" + (f" (sha256 {sha}...)" if sha else "")


def _datasets_differ(a: Mapping[str, Any] | None, b: Mapping[str, Any] | None) -> bool:
    if not a or not b:
        return False
    return any(a.get(k) is not None and b.get(k) is not None and str(a[k]) != str(b[k])
               for k in ("name", "version", "sha256"))


def compare(base: pd.DataFrame, cand: pd.DataFrame, *, outcome: str = "good",
            base_config: str | None = None, cand_config: str | None = None,
            allow_dataset_mismatch: bool = False, base_dataset: Mapping[str, Any] | None = None,
            cand_dataset: Mapping[str, Any] | None = None, alpha: float = Z_LEVEL,
            base_run: str | None = None, cand_run: str | None = None) -> Comparison:
    """Paired comparison of ``cand`` against ``base`` (scores tables, one config each side)."""
    if outcome not in OUTCOMES:
        raise ConfigError(f"outcome must be one of {OUTCOMES}, got {outcome!r}")
    base_sel, base_name = _select(base, base_config, "base")
    cand_sel, cand_name = _select(cand, cand_config, "candidate")
    b_df, c_df = _prepare(base_sel, "base"), _prepare(cand_sel, "candidate")
    mismatch = _datasets_differ(base_dataset, cand_dataset)
    notes: list[str] = []
    pairs = b_df.merge(c_df, on="case_id", how="inner", suffixes=("_b", "_c"), sort=False)
    n_paired = len(pairs)
    dropped_b, dropped_c = len(b_df) - n_paired, len(c_df) - n_paired
    if mismatch:
        if not allow_dataset_mismatch:
            raise ConfigError(
                f"refusing to compare runs on different datasets: base {_dataset_label(base_dataset)} vs "
                f"candidate {_dataset_label(cand_dataset)} ({n_paired} shared case_ids). Pass "
                "--allow-dataset-mismatch (allow_dataset_mismatch=True) to compare the shared cases only.")
        notes.append(f"dataset mismatch allowed: compared {n_paired} shared cases; dropped {dropped_b} "
                     f"base-only and {dropped_c} candidate-only cases")
    elif (base_dataset is None) != (cand_dataset is None):
        notes.append("dataset identity unknown for one side: could not check that both used the same dataset")
    if not mismatch and (dropped_b or dropped_c):
        notes.append(f"{dropped_b} base and {dropped_c} candidate cases have no partner and were left out")
    if n_paired == 0:
        raise DataError(f"no shared case_ids between base {base_name!r} and candidate {cand_name!r}")
    seg_diff = int((pairs["segment_b"] != pairs["segment_c"]).fillna(True).sum())
    if seg_diff:
        notes.append(f"{seg_diff} paired cases have different segments on the two sides; base segment used")
    pairs = pairs.rename(columns={"segment_b": "segment"}).drop(columns="segment_c")
    if (pairs["segment"] == ALL).any():
        raise DataError(f"segment name {ALL!r} is reserved")

    tables, flips = [], []
    for o in OUTCOMES:
        tables.append(_outcome_table(pairs, o, alpha))
        flips.append(_flips(pairs, o))
    return Comparison(
        base_config=base_name, cand_config=cand_name, outcome=outcome,
        table=pd.concat(tables, ignore_index=True), flips=pd.concat(flips, ignore_index=True),
        n_base=len(b_df), n_cand=len(c_df), n_paired=n_paired, dropped_base=dropped_b,
        dropped_cand=dropped_c, dataset_mismatch=mismatch,
        base_dataset=dict(base_dataset) if base_dataset else None,
        cand_dataset=dict(cand_dataset) if cand_dataset else None,
        base_run=base_run, cand_run=cand_run, alpha=alpha, notes=tuple(notes))


def _outcome_table(pairs: pd.DataFrame, outcome: str, alpha: float) -> pd.DataFrame:
    yb = pairs[f"{outcome}_b"].to_numpy(dtype=bool)
    yc = pairs[f"{outcome}_c"].to_numpy(dtype=bool)
    codes, uniques = pd.factorize(pairs["segment"], sort=True, use_na_sentinel=False)
    k = len(uniques)
    counts = {name: np.bincount(codes, weights=mask, minlength=k).astype(np.int64)
              for name, mask in (("n11", yb & yc), ("b", yb & ~yc), ("c", ~yb & yc), ("n00", ~yb & ~yc))}
    seg = pd.DataFrame({"segment": [str(u) for u in uniques], **counts})
    total = pd.DataFrame({"segment": [ALL], **{name: [int(v.sum())] for name, v in counts.items()}})
    t = pd.concat([total, seg], ignore_index=True)
    n = (t["n11"] + t["b"] + t["c"] + t["n00"]).to_numpy(dtype=float)
    base_k = (t["n11"] + t["b"]).to_numpy(dtype=float)
    cand_k = (t["n11"] + t["c"]).to_numpy(dtype=float)
    # x = candidate, y = base: n10 = cand-only true = c, n01 = base-only true = b.
    diff, lo, hi = paired_diff_newcombe(t["n11"], t["c"], t["b"], t["n00"], alpha)
    pvals = np.array([mcnemar_exact_p(int(b), int(c)) for b, c in zip(t["b"], t["c"])])
    padj = pvals.copy()
    is_seg = (t["segment"] != ALL).to_numpy()
    padj[is_seg], _ = holm(pvals[is_seg], alpha)
    b_lo, b_hi = wilson(base_k, n, alpha)
    c_lo, c_hi = wilson(cand_k, n, alpha)
    out = pd.DataFrame({
        "outcome": outcome, "segment": t["segment"].astype(str), "n": n.astype(np.int64),
        "base_k": base_k.astype(np.int64), "base_rate": base_k / np.maximum(n, 1), "base_lo": b_lo,
        "base_hi": b_hi, "cand_k": cand_k.astype(np.int64), "cand_rate": cand_k / np.maximum(n, 1),
        "cand_lo": c_lo, "cand_hi": c_hi, "diff": diff, "diff_lo": lo, "diff_hi": hi,
        "b": t["b"].astype(np.int64), "c": t["c"].astype(np.int64), "p_value": pvals, "p_adjusted": padj,
    })
    out["significant"] = out["p_adjusted"] < alpha
    out["direction"] = np.where(out["diff"] < 0, "regressed", np.where(out["diff"] > 0, "improved", "unchanged"))
    return out[list(TABLE_COLUMNS)]


def _flips(pairs: pd.DataFrame, outcome: str) -> pd.DataFrame:
    yb = pairs[f"{outcome}_b"].to_numpy(dtype=bool)
    yc = pairs[f"{outcome}_c"].to_numpy(dtype=bool)
    sel = pairs[yb != yc]
    return pd.DataFrame({
        "outcome": outcome, "case_id": sel["case_id"].to_numpy(), "segment": sel["segment"].to_numpy(),
        "direction": np.where(sel[f"{outcome}_b"].to_numpy(dtype=bool), "regressed", "improved"),
        "base_status": sel["status_b"].to_numpy(), "cand_status": sel["status_c"].to_numpy(),
        "base_action": sel["action_b"].to_numpy(), "cand_action": sel["action_c"].to_numpy(),
        "base_reasons": sel["reasons_b"].to_numpy(), "cand_reasons": sel["reasons_c"].to_numpy(),
    }, columns=list(FLIP_COLUMNS)).sort_values(["segment", "case_id"], kind="stable").reset_index(drop=True)


def compare_runs(run_a: str | Path, run_b: str | Path | None = None, *, config_a: str | None = None,
                 config_b: str | None = None, outcome: str = "good",
                 allow_dataset_mismatch: bool = False) -> Comparison:
    """Compare run B (candidate) against run A (base); ``run_b=None`` compares two configs of run A."""
    from evalkit.runs import open_run

    a = open_run(run_a)
    b = open_run(run_b) if run_b is not None else a
    if run_b is None and (config_a is None or config_b is None or config_a == config_b):
        raise ConfigError("comparing within one run needs two different configs: --config-a X --config-b Y")
    scores_a = a.read_scores(_KEEP)
    scores_b = scores_a if b.path == a.path else b.read_scores(_KEEP)

    def dataset(run: Any) -> dict[str, Any] | None:
        return run.manifest.dataset.model_dump(exclude_none=True) if run.manifest else None

    comp = compare(scores_a, scores_b, outcome=outcome, base_config=config_a, cand_config=config_b,
                   allow_dataset_mismatch=allow_dataset_mismatch, base_dataset=dataset(a), cand_dataset=dataset(b),
                   base_run=a.run_id, cand_run=b.run_id)
    return _with_simulated(comp, a, b)


def _with_simulated(comp: Comparison, base: Any, cand: Any) -> Comparison:
    """``comp`` saying whether each side's configuration is simulated (its run folder says)."""
    from dataclasses import replace

    return replace(comp, base_simulated=base.simulated(comp.base_config),
                   cand_simulated=cand.simulated(comp.cand_config))


def config_pairs(names_a: list[str], names_b: list[str], *, config_a: str | None = None,
                 config_b: str | None = None) -> list[tuple[str, str]]:
    """The (base, candidate) configuration pairs to compare between two runs.

    Named configs pick one pair (one name alone means the same name on the other side, or
    that run's only configuration); with
    none named, every configuration the runs share is compared with itself, or the only
    configuration of each run when each has exactly one.
    """
    if config_a is not None or config_b is not None:
        def other(named: str, names: list[str]) -> str | None:  # same name, else a run's only config
            return named if named in names or len(names) != 1 else names[0]

        return [(config_a or other(config_b, names_a), config_b or other(config_a, names_b))]  # type: ignore[arg-type]
    shared = sorted(set(names_a) & set(names_b))
    if shared:
        return [(name, name) for name in shared]
    if len(names_a) == 1 and len(names_b) == 1:
        return [(names_a[0], names_b[0])]
    raise ConfigError(f"the runs share no configuration (base: {sorted(names_a)}, candidate: {sorted(names_b)}); "
                      "pick a pair with --config-a X --config-b Y")


def compare_run_pairs(run_a: str | Path, run_b: str | Path, *, config_a: str | None = None,
                      config_b: str | None = None, outcome: str = "good",
                      allow_dataset_mismatch: bool = False) -> list[Comparison]:
    """Compare run B against run A for every configuration they share, pair by pair (see ``config_pairs``)."""
    from evalkit.runs import open_run

    ra, rb = open_run(run_a), open_run(run_b)
    scores_a = ra.read_scores(_KEEP)
    scores_b = scores_a if rb.path == ra.path else rb.read_scores(_KEEP)

    def names(df: pd.DataFrame) -> list[str]:
        return sorted(str(c) for c in df["config"].dropna().unique()) if "config" in df.columns else []

    def dataset(run: Any) -> dict[str, Any] | None:
        return run.manifest.dataset.model_dump(exclude_none=True) if run.manifest else None

    pairs = config_pairs(names(scores_a), names(scores_b), config_a=config_a, config_b=config_b)
    return [_with_simulated(compare(scores_a, scores_b, outcome=outcome, base_config=a, cand_config=b,
                                    allow_dataset_mismatch=allow_dataset_mismatch, base_dataset=dataset(ra),
                                    cand_dataset=dataset(rb), base_run=ra.run_id, cand_run=rb.run_id), ra, rb)
            for a, b in pairs]


def _json_value(x: Any) -> Any:
    if x is None:
        return None
    if isinstance(x, (list, tuple, np.ndarray)):
        return [_json_value(v) for v in x]
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        return None if math.isnan(float(x)) else float(x)
    if x is pd.NA:
        return None
    return x if isinstance(x, (int, str)) else str(x)


def comparison_to_dict(comp: Comparison, *, max_flips: int | None = None) -> dict[str, Any]:
    """JSON-ready comparison: {outcomes: {good: {segments: {...}}, correct: ...}, flips: [...]}."""
    outcomes: dict[str, Any] = {}
    for o in OUTCOMES:
        rows = comp.rows(o)
        segs = {}
        for rec in rows.to_dict("records"):
            segs[str(rec["segment"])] = {k: _json_value(v) for k, v in rec.items() if k not in ("outcome", "segment")}
        outcomes[o] = {"overall": segs.pop(ALL, None), "segments": segs,
                       "significant_regressions": comp.significant_segments(o, "regressed"),
                       "significant_improvements": comp.significant_segments(o, "improved")}
    flips = comp.flips if max_flips is None else comp.flips.head(max_flips)
    return {
        "schema": 1, "outcome": comp.outcome, "alpha": comp.alpha,
        "simulated": comp.simulated,
        "base": {"config": comp.base_config, "run": comp.base_run, "dataset": comp.base_dataset, "n": comp.n_base,
                 "simulated": comp.base_simulated},
        "cand": {"config": comp.cand_config, "run": comp.cand_run, "dataset": comp.cand_dataset, "n": comp.n_cand,
                 "simulated": comp.cand_simulated},
        "n_paired": comp.n_paired, "dropped_base": comp.dropped_base, "dropped_cand": comp.dropped_cand,
        "dataset_mismatch": comp.dataset_mismatch,
        "methods": {"interval": comp.interval_method, "test": comp.test_method, "adjust": comp.adjust_method,
                    "rate_interval": "wilson_95"},
        "outcomes": outcomes,
        "flips": [{k: _json_value(v) for k, v in rec.items()} for rec in flips.to_dict("records")],
        "flips_total": len(comp.flips), "notes": list(comp.notes),
    }
