"""View models for the calibration and projection sections (data only, charts drawn here
by calling ``_charts`` because each section owns its figures)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from evalkit.calibrate import SEGMENT_RECAL_MIN_N
from evalkit.gate import ece_estimate
from evalkit.report import _charts
from evalkit.report._assemble import Column, projection_entry, what_if_kind
from evalkit.runs import ConfigProjection, ConfigThresholds
from evalkit.stats import Estimate, automatable, outcome_mask, reliability_bins


@dataclass(frozen=True, kw_only=True)
class ThresholdRow:
    column: Column
    ece: Estimate | None
    entry: ConfigThresholds | None
    """thresholds.json's entry for the config (typed, evalkit.runs)."""

    @property
    def recalibration(self) -> str:
        """Which recalibration map applies where: per segment where the data allowed, else pooled."""
        rec = (self.entry.recalibration if self.entry is not None else None) or {}  # evalkit.calibrate's block
        method = str(rec.get("method") or "none")
        per = rec.get("per_segment")
        if not isinstance(per, dict):
            return f"{method}, one pooled map"
        own, pooled = per.get("own_map") or [], per.get("pooled") or []
        text = f"{method} per segment ({len(own)} of {len(own) + len(pooled)} segments)"
        if pooled:
            text += f"; pooled map for {', '.join(pooled)} (too few cases)"
        ece = per.get("ece_within_segments_out_of_fold") or {}
        if ece.get("pooled_map") is not None and ece.get("per_segment_maps") is not None:
            text += (f"; ECE within segments, out of fold: {ece['pooled_map']:.3f} with the pooled map, "
                     f"{ece['per_segment_maps']:.3f} per segment")
        return text


@dataclass(kw_only=True)
class Calibration:
    rows: list[ThresholdRow]
    reliability_svg: str | None
    risk_coverage_svg: str | None
    thresholds_missing: list[Column] = field(default_factory=list)
    mode: str | None = None
    alpha: float | None = None
    delta: float | None = None
    segment_min_n: int = 0
    """Automatable cases a segment needs for a recalibration map of its own (evalkit.calibrate)."""


def chart_label(col: Column) -> str:
    """Charts name simulated numbers too: a figure may be copied out of the report."""
    return col.sim_label


def spend_label(col: Column) -> str:
    """A chart's label for a projected spend figure: named with the what-if settings that produced it (volume,
    mix; not a threshold or a context cap, which leave the spend as it is), as the chart may be copied out."""
    return chart_label(col) + (f" ({col.cost_what_if_text})" if col.cost_what_if else "")


def _risk_coverage(col: Column, points: int = 200) -> tuple[np.ndarray, np.ndarray]:
    df = col.df
    if "confidence" not in df or not len(df):
        return np.array([]), np.array([])
    deferred = df["deferred"].astype("boolean").fillna(False).to_numpy(dtype=bool) if "deferred" in df else False
    conf = df["confidence"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    eligible = (df["status"].astype(str).to_numpy() == "ok") & ~deferred & ~np.isnan(conf)
    order = np.argsort(-conf[eligible], kind="stable")
    err = (~outcome_mask(df, "good").to_numpy())[eligible][order]
    if not err.size:
        return np.array([]), np.array([])
    k = np.arange(1, err.size + 1)
    cov = k / len(df)
    risk = np.cumsum(err) / k
    idx = np.unique(np.linspace(0, err.size - 1, min(points, err.size)).astype(int))
    return cov[idx], risk[idx]


def calibration(cols: Sequence[Column], *, salt: str = "cal") -> Calibration:
    rows, panels, curves, missing = [], [], [], []
    for c in cols:
        df = c.df
        entry = c.thresholds.configs.get(c.config) if c.thresholds is not None else None
        if entry is None:
            missing.append(c)
        bins = None
        ece, _ = ece_estimate(df, thresholds_entry=entry)
        sel = automatable(df)
        if sel.any():
            # Same population as evalkit.calibrate: valid, not deferred, with a confidence.
            bins = reliability_bins(df.loc[sel, "confidence"].to_numpy(dtype=float),
                                    outcome_mask(df[sel], "good").to_numpy())
        thr = entry.threshold if entry is not None else None
        rows.append(ThresholdRow(column=c, ece=ece, entry=entry))
        if bins is not None:
            panels.append((chart_label(c), _charts.bin_arrays(bins), ece.value if ece else None, thr))
        cov, risk = _risk_coverage(c)
        if cov.size:
            # No threshold (escalate everything) has nothing to mark on the curve.
            at = entry.coverage.value if thr is not None and entry is not None and entry.coverage else None
            curves.append((chart_label(c), cov, risk, at))
    th_doc = next((c.thresholds for c in cols if c.thresholds), None)
    return Calibration(
        rows=rows,
        reliability_svg=_charts.draw(_charts.reliability_chart, panels, salt=f"{salt}-rel") if panels else None,
        risk_coverage_svg=_charts.draw(_charts.risk_coverage_chart, curves, salt=f"{salt}-rc") if curves else None,
        thresholds_missing=missing, mode=th_doc.mode if th_doc else None, alpha=th_doc.alpha if th_doc else None,
        delta=th_doc.delta if th_doc else None, segment_min_n=SEGMENT_RECAL_MIN_N)


@dataclass(frozen=True, kw_only=True)
class ProjectionRow:
    column: Column
    entry: ConfigProjection
    """projection.json's entry for the config (typed, evalkit.runs)."""

    def rate(self, key: str) -> Estimate | None:
        rate = getattr(self.entry, key)
        return rate.estimate() if rate is not None and rate.value is not None else None

    @property
    def cost(self) -> dict[str, Any]:
        return self.entry.cost_per_case  # evalkit.project's block: mean, p50 ... cvar95

    @cached_property  # the template reads it once per column of the cost table
    def monthly(self) -> dict[str, Any]:
        return self.entry.monthly_cost.model_dump() if self.entry.monthly_cost is not None else {}


def _cap_setting(cap: dict[str, Any]) -> str:
    """'context cap 5 turns', as ``evalkit.project.what_if_settings`` names a cap given on the command line."""
    turns, tokens = cap.get("turns"), cap.get("tokens")
    parts = ([f"{turns} turns"] if turns is not None else []) + ([f"{tokens:,} tokens"] if tokens is not None else [])
    return "context cap " + " and ".join(parts)


@dataclass(frozen=True, kw_only=True)
class CapRow:
    """One context cap of one configuration's projection (projection.json ``context_caps``): what the cap
    would save and what it would cost in good decisions, at the production mix."""

    column: Column
    cap: dict[str, Any]
    """evalkit.project's block: label, truncated_rate, good_rate_lost, saved_per_case/_month/_share."""
    spend_uncapped: float | None
    """The projection's mean monthly spend (without the cap)."""
    what_if: tuple[str, ...]
    """The what-if settings that produced these figures: the volume and mix, and the cap itself when it was
    given on the command line (not the suite's own cap); a threshold changes none of them."""

    @property
    def what_if_text(self) -> str:
        return "what-if: " + "; ".join(self.what_if) if self.what_if else ""

    @property
    def label(self) -> str:
        return str(self.cap.get("label") or _cap_setting(self.cap.get("cap") or {}).removeprefix("context cap "))

    def rate(self, key: str) -> Estimate | None:
        r = self.cap.get(key)
        if not isinstance(r, dict) or r.get("value") is None:
            return None
        return Estimate(value=r["value"], lo=r.get("lo"), hi=r.get("hi"), n=r.get("n") or 0)

    @property
    def saved_per_month(self) -> float | None:
        return self.cap.get("saved_per_month")

    @property
    def spend_capped(self) -> float | None:
        if self.spend_uncapped is None or self.saved_per_month is None:
            return None
        return self.spend_uncapped - self.saved_per_month


def _cap_rows(col: Column, entry: ConfigProjection, monthly: dict[str, Any]) -> list[CapRow]:
    rows = []
    for cap in entry.context_caps:
        own = _cap_setting(cap.get("cap") or {})
        rows.append(CapRow(column=col, cap=cap, spend_uncapped=monthly.get("mean"),
                           what_if=(*col.cost_what_if, *((own,) if own in col.all_what_if else ()))))
    return rows


@dataclass(kw_only=True)
class Projection:
    rows: list[ProjectionRow]
    missing: list[Column]
    volume: float | None
    mix: dict[str, float]
    cost_svg: str | None
    spend_svg: str | None
    unknown_cost: list[Column] = field(default_factory=list)
    what_if: list[str] = field(default_factory=list)
    """What the projection whose volume and mix are shown changed from the suite's ([]: the suite's own)."""
    what_ifs: list[tuple[str, list[str], bool]] = field(default_factory=list)
    """(run id, what it changed, whether that includes a context cap) for every run shown whose projection is
    a saved what-if."""
    caps: list[CapRow] = field(default_factory=list)
    """Every projected configuration's context caps (the suite's and those a what-if added)."""

    @property
    def scale_what_if(self) -> list[str]:
        """The what-if settings behind the volume and mix shown (a threshold or a cap changes neither)."""
        return [w for w in self.what_if if what_if_kind(w) == "scale"]

    @property
    def all_simulated(self) -> bool:
        """Every row is simulated: only then does the section's heading say so (each row says it otherwise)."""
        return bool(self.rows) and all(r.column.simulated for r in self.rows)


def projection(cols: Sequence[Column], *, salt: str = "proj") -> Projection:
    rows, missing, series, unknown = [], [], [], []
    for c in cols:
        entry = projection_entry(c)
        if entry is None:
            missing.append(c)
        else:
            rows.append(ProjectionRow(column=c, entry=entry))
        cost = c.df.get("cost_usd")
        if cost is None or cost.isna().any() or not len(cost):
            unknown.append(c)  # unknown cost is never drawn as 0
        else:
            series.append((chart_label(c), cost.to_numpy(dtype=float)))
    spend = [(spend_label(r.column), r.monthly.get("naive"), r.monthly.get("p50"), r.monthly.get("p95")) for r in rows]
    spend = [s for s in spend if all(v is not None for v in s[1:])]
    doc = next((c.run.projection for c in cols if c.run.projection), None)
    what_ifs = [(run_id, changes, any(what_if_kind(w) == "cap" for w in changes)) for run_id, changes in
                {r.column.run.run_id: list(r.column.all_what_if) for r in rows if r.column.all_what_if}.items()]
    return Projection(rows=rows, missing=missing, volume=doc.volume_per_month if doc else None,
                      mix=doc.mix if doc else {}, what_if=list(doc.what_if) if doc else [], what_ifs=what_ifs,
                      cost_svg=_charts.draw(_charts.cost_chart, series, salt=f"{salt}-cost") if series else None,
                      spend_svg=_charts.draw(_charts.spend_chart, spend, salt=f"{salt}-spend") if spend else None,
                      unknown_cost=unknown, caps=[c for r in rows for c in _cap_rows(r.column, r.entry, r.monthly)])
