"""Turn run folders into the report's view model: columns, leaderboard, segment matrix,
verdict. No HTML here and no charts: the template and ``_charts`` consume this.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evalkit.formatting import money, p_value, signed_parts
from evalkit.runs import ConfigEntry, ConfigProjection, ConfigThresholds, Rate, Thresholds, threshold_policy
from evalkit.runs import RunFolder as RunData
from evalkit.stats import ALL, Estimate, outcome_mask, quantile_interval, rate, wilson


@dataclass(kw_only=True)
class Column:
    """One configuration of one run: a leaderboard row and a matrix column."""

    key: str
    label: str
    run: RunData
    config: str
    meta: ConfigEntry
    """The manifest's entry for this configuration (typed, evalkit.runs)."""
    is_baseline: bool
    simulated: bool
    df: pd.DataFrame
    ref: Column | None = None
    thresholds: Thresholds | None = None
    """The threshold set the report uses for this run (see ``threshold_set_for``)."""
    threshold_set: str = "suite"

    @property
    def sim_label(self) -> str:
        """The label with ' (simulated)' for a simulated configuration: for plain text (charts, a reference
        named in a sentence) that may be copied out of the report. HTML marks it with ``col_name``'s badge.
        ``simulated`` is ``RunFolder.simulated``'s answer, the one owner of the question."""
        return self.label + (" (simulated)" if self.simulated else "")

    def other_label(self, other: Column) -> str:
        """``other``'s label where a figure of this configuration is stated against it (a difference, a
        comparison): ' (simulated)' added when ``other`` is simulated and this configuration is not, as the
        figure then rests on simulated numbers that this configuration's own label does not mark."""
        return other.label + (" (simulated)" if other.simulated and not self.simulated else "")

    @property
    def all_what_if(self) -> tuple[str, ...]:
        """Every setting the run's saved projection changed from the suite's (projection.json ``what_if``,
        written by ``evalkit project --save``); empty for the suite's own projection or none."""
        proj = self.run.projection
        return tuple(proj.what_if) if proj is not None else ()

    @property
    def what_if(self) -> tuple[str, ...]:
        """The what-if settings that produced the projection's headline figures (automation, errors, review
        hours, net value): every change but a context cap, which changes only its own context-cap row."""
        return tuple(w for w in self.all_what_if if what_if_kind(w) != "cap")

    @property
    def cost_what_if(self) -> tuple[str, ...]:
        """The what-if settings that produced the projected spend (cost per case at the mix, monthly spend):
        the volume and mix; a threshold changes which cases are automated, not what the model calls cost."""
        return tuple(w for w in self.all_what_if if what_if_kind(w) == "scale")

    @property
    def what_if_text(self) -> str:
        """'what-if: --threshold 0.8' (every change behind the headline figures), '' for the suite's projection."""
        return "what-if: " + "; ".join(self.what_if) if self.what_if else ""

    @property
    def cost_what_if_text(self) -> str:
        return "what-if: " + "; ".join(self.cost_what_if) if self.cost_what_if else ""

    @property
    def prompt_version(self) -> str:
        v = str(self.meta.prompt_version or "")
        return v.removeprefix("sha256:")[:12] or "unknown"


def what_if_kind(setting: str) -> str:
    """What a what-if setting (``evalkit.project.what_if_settings``' text) changes: 'cap' (a context cap: only
    its own context-cap row), 'scale' (volume or mix: every projected figure, spend included) or 'threshold'
    (a hand-given threshold or thresholds file, and anything unrecognised: the decision figures)."""
    if setting.startswith("context cap"):
        return "cap"
    if setting.startswith(("volume ", "mix ")):
        return "scale"
    return "threshold"


@dataclass(frozen=True, kw_only=True)
class Change:
    diff: float
    lo: float
    hi: float
    n: int
    p_adjusted: float
    significant: bool
    adjusted: bool = True
    """False for the overall row: one pre-specified test, its p-value is not Holm-adjusted."""
    paired: bool = True
    """False: the two sides did not evaluate the same cases, compared as independent samples."""
    n_ref: int = 0

    @property
    def arrow(self) -> str:
        if not self.significant:
            return ""
        return "▲" if self.diff > 0 else "▼"

    @property
    def how(self) -> str:
        return f"paired, n={self.n}" if self.paired else f"UNPAIRED (different cases), n={self.n} vs {self.n_ref}"

    alpha: float = 0.05

    @property
    def interval_excludes_zero(self) -> bool:
        return self.lo > 0 or self.hi < 0

    @property
    def text(self) -> str:
        """'significant drop -12.7 pts [-16.0, -9.4] (adj. p=0.0001, paired, n=331)'. The interval is the
        segment's own 95% interval, not adjusted for multiplicity; significance is Holm's adjusted p-value
        (segments). Where the two disagree (an interval excluding 0 that is n.s. after adjustment) the
        cell says so in words."""
        d, lo, hi = signed_parts(100 * self.diff, 100 * self.lo, 100 * self.hi)
        pts = f"{d} pts [{lo}, {hi}]"
        p = f"{'adj. ' if self.adjusted else ''}p={p_value(self.p_adjusted, self.alpha)}"
        if self.adjusted and self.significant != self.interval_excludes_zero:
            pts += " (unadjusted 95% interval)"
        if self.significant:
            word = "significant gain" if self.diff > 0 else "significant drop"
            return f"{word} {pts} ({p}, {self.how})"
        after = " after Holm's adjustment" if self.adjusted and self.interval_excludes_zero else ""
        return f"{pts}, n.s.{after} ({p}, {self.how})"


@dataclass(frozen=True, kw_only=True)
class LeaderRow:
    column: Column
    n: int
    good: Estimate
    correct: Estimate
    gap: Estimate
    invalid: Estimate
    escalated: Estimate
    cost_mean: float | None
    cost_p95: Estimate | None
    cost_unknown: int
    automation: Estimate | None
    threshold: float | str | None
    """The cut on raw confidence, "per segment" when each segment has its own, or why there is none."""
    net_value: Estimate | None


@dataclass(kw_only=True)
class Matrix:
    segments: list[str]
    cells: dict[tuple[str, str], Estimate]
    """(segment, column key) -> good rate."""
    changes: dict[tuple[str, str], Change] = field(default_factory=dict)
    pairs: dict[tuple[str, str], tuple[Estimate, Estimate]] = field(default_factory=dict)
    """(segment, column key) -> (the column's good rate, its reference's) on the cases the change compares:
    the shared cases when paired, each side's own cases when unpaired."""


def _short_run_id(run: RunData, runs: Sequence[RunData]) -> str:
    """The run id's random suffix (``YYYYMMDD-HHMMSS-<suite>-<6 hex>``) when that is unambiguous."""
    short = run.run_id.rsplit("-", 1)[-1]
    if sum(r.run_id.rsplit("-", 1)[-1] == short for r in runs) == 1 and len(short) >= 4:
        return short
    return run.run_id


def _label_columns(runs: Sequence[RunData], baseline: RunData | None) -> list[Column]:
    pairs = [(run, cfg, False) for run in runs for cfg in run.configs]
    if baseline is not None and all(baseline.path.resolve() != r.path.resolve() for r in runs):
        pairs = [(baseline, cfg, True) for cfg in baseline.configs] + pairs
    names = [cfg for _, cfg, is_base in pairs if not is_base]
    cols = []
    for i, (run, cfg, is_base) in enumerate(pairs):
        # Short, unambiguous labels: "prod" / "prod (baseline)"; the run id suffix only
        # when two compared runs share a config name.
        if is_base:
            label = f"{cfg} (baseline)"
        else:
            label = cfg if names.count(cfg) == 1 else f"{cfg} @ {_short_run_id(run, runs)}"
        cols.append(Column(key=f"c{i}", label=label, run=run, config=cfg, meta=run.config_meta(cfg),
                           is_baseline=is_base, simulated=run.simulated(cfg), df=run.config_scores(cfg)))
    return cols


def suite_spec(run: RunData) -> dict[str, Any]:
    """The suite as recorded by `evalkit run` (manifest.suite.spec), or {}."""
    return run.suite_spec


def dataset_of(run: RunData) -> dict[str, Any] | None:
    return run.manifest.dataset.model_dump(exclude_none=True) if run.manifest else None


def _baseline_pairs(baseline: RunData, run: RunData) -> dict[str, str]:
    """Each configuration of ``run`` -> the baseline configuration it is compared with, paired as
    ``evalkit compare`` and the gates pair two runs (``evalkit.score.config_pairs``); a configuration
    without a pair (or a baseline that pairs with none) is shown without a comparison, saying so."""
    from evalkit.errors import ConfigError
    from evalkit.score import config_pairs

    try:
        pairs = config_pairs(list(baseline.configs), list(run.configs))
    except ConfigError:
        return {}
    return {cand: base for base, cand in pairs}


def threshold_set_for(run: RunData, requested: str | None) -> str:
    """The set to show: the one asked for; else the one the run's projection applied; else the suite's."""
    if requested:
        return requested
    proj = run.projection
    used = (proj.threshold_set or {}).get("name") if proj is not None else None
    return str(used) if used else "suite"


def describe_threshold_set(run_dir: Path, requested: str | None = None) -> str:
    """The threshold set a report of ``run_dir`` shows, described (for the CLI)."""
    from evalkit.calibrate import describe_set, read_threshold_set
    from evalkit.runs import RunFolder

    name = threshold_set_for(RunFolder(path=Path(run_dir)), requested)
    return describe_set(name, read_threshold_set(Path(run_dir), name))


def build_columns(runs: Sequence[RunData], baseline: RunData | None, *, threshold_set: str | None = None) -> list[Column]:
    """Columns with their reference: the baseline run's configuration paired as ``evalkit compare``
    pairs them (B against A, configuration by configuration: ``evalkit.score.config_pairs``); without a baseline run, the suite's ``baseline_config``
    within the same run, else the first column."""
    from evalkit.calibrate import read_threshold_set

    cols = _label_columns(runs, baseline)
    sets: dict[Path, tuple[str, Thresholds | None]] = {}
    for c in cols:
        if c.run.path not in sets:
            name = threshold_set_for(c.run, threshold_set)
            sets[c.run.path] = (name, read_threshold_set(c.run.path, name))
        c.threshold_set, c.thresholds = sets[c.run.path]
    base_cols = [c for c in cols if c.is_baseline]
    paired: dict[Path, dict[str, str]] = {}
    for c in cols:
        if c.is_baseline:
            continue
        if baseline is not None and base_cols:
            if c.run.path not in paired:
                paired[c.run.path] = _baseline_pairs(baseline, c.run)
            bname = paired[c.run.path].get(c.config)
            c.ref = next((b for b in base_cols if b.config == bname), None)
            continue
        named = suite_spec(c.run).get("baseline_config")
        ref = next((o for o in cols if o.run is c.run and o.config == named), None) if named else None
        ref = ref or cols[0]
        if ref is not c:
            c.ref = ref
    return cols


def _threshold_entry(col: Column) -> ConfigThresholds | None:
    return col.thresholds.configs.get(col.config) if col.thresholds is not None else None


def projection_entry(col: Column) -> ConfigProjection | None:
    return col.run.projection.configs.get(col.config) if col.run.projection is not None else None


def naive_monthly_text(monthly: dict[str, Any]) -> str:
    """The projection's naive monthly spend as ``evalkit project`` prints it: with some costs unknown it is
    unknown, said with the figure over the known-cost calls and how many are unknown."""
    if not monthly:
        return "not projected"
    if monthly.get("naive") is not None:
        return money(monthly["naive"], 0)
    if monthly.get("naive_known_rows_only") is not None:
        return (f"unknown ({money(monthly['naive_known_rows_only'], 0)} over known-cost calls; "
                f"{monthly.get('n_unknown') if monthly.get('n_unknown') is not None else 'some'} unknown)")
    return "unknown"


def tail_ratio_text(monthly: dict[str, Any]) -> str:
    """Tail-aware p50 ÷ naive: '—' (not applicable) for a cost known to be $0, 'unknown' when a cost is."""
    if not monthly:
        return "not projected"
    ratio = monthly.get("tail_to_naive_ratio")
    if ratio is not None:
        return f"×{ratio:,.2f}"
    if monthly.get("known") and monthly.get("naive") == 0:
        return "—"
    return "unknown"


def _as_estimate(r: Rate | None) -> Estimate | None:
    return None if r is None or r.value is None else r.estimate()


def _gap(col: Column, correct: pd.Series, good: pd.Series) -> Estimate:
    """Correct but not good: the run's own figure (summary.json, Newcombe's paired interval, as the console
    shows it); for a folder without one, the same paired interval computed by evalkit.score."""
    summary = col.run.summary
    entry = summary.configs.get(col.config) if summary is not None else None
    if entry is not None and entry.overall.n == len(col.df) and entry.overall.gap.value is not None:
        return entry.overall.gap.estimate()
    from evalkit.score import paired_diff_newcombe

    c, g = correct.to_numpy(bool), good.to_numpy(bool)
    cells = [int(np.sum(c & g)), int(np.sum(c & ~g)), int(np.sum(~c & g)), int(np.sum(~c & ~g))]
    if len(c) == 0:
        return Estimate(value=None, n=0)
    diff, lo, hi = (float(np.asarray(v).item()) for v in paired_diff_newcombe(*cells))
    return Estimate(value=diff, lo=lo, hi=hi, n=len(c), k=cells[1])


def leaderboard(cols: Sequence[Column]) -> list[LeaderRow]:
    rows = []
    for c in cols:
        df = c.df
        good = outcome_mask(df, "good")
        correct = outcome_mask(df, "correct")
        status = df["status"].astype(str)
        deferred = df["deferred"].astype("boolean").fillna(False).astype(bool) if "deferred" in df else \
            pd.Series(False, index=df.index)
        cost = df["cost_usd"] if "cost_usd" in df else pd.Series(np.nan, index=df.index)
        unknown = int(cost.isna().sum())
        # A mean or quantile over partly unknown costs would understate spend: show unknown.
        known = cost.to_numpy(dtype=float) if unknown == 0 and len(df) else None
        th = _threshold_entry(c)
        auto = _as_estimate(th.coverage) if th is not None else None
        policy = threshold_policy(c.thresholds, c.config) if th is not None else None
        # per_segment mode has one threshold per segment by design, certified or not
        per_segment = policy is not None and (policy.segmented or c.thresholds.mode == "per_segment")
        if auto is None and th is not None and policy.threshold is None and not policy.segmented:
            auto = wilson(0, int(th.n or len(df)))  # nothing certified: every case escalated
        proj = projection_entry(c)
        rows.append(LeaderRow(
            column=c, n=len(df), good=rate(good), correct=rate(correct), gap=_gap(c, correct, good),
            invalid=rate(status != "ok"), escalated=rate(deferred),
            cost_mean=float(known.mean()) if known is not None else None,
            cost_p95=quantile_interval(known, 0.95, resamples=100) if known is not None else None,
            cost_unknown=unknown, automation=auto,
            threshold="per segment" if per_segment else (th.threshold if th is not None and th.threshold is not None
                                                         else "none certified: every case escalated"),
            net_value=_as_estimate(proj.net_value_per_month) if proj is not None else None))
    return rows


def segment_matrix(cols: Sequence[Column], *, alpha: float = 0.05) -> Matrix:
    from evalkit.report._compare import segment_changes
    from evalkit.score import holm

    segs = sorted({str(s) for c in cols for s in c.df["segment"].unique()})
    cells: dict[tuple[str, str], Estimate] = {}
    changes: dict[tuple[str, str], Change] = {}
    matrix_pairs: dict[tuple[str, str], tuple[Estimate, Estimate]] = {}
    for c in cols:
        good = outcome_mask(c.df, "good").to_numpy()
        seg = c.df["segment"].astype(str).to_numpy()
        cells[(ALL, c.key)] = rate(good)
        for s in segs:
            cells[(s, c.key)] = rate(good[seg == s])
        if c.ref is None:
            continue
        rows = segment_changes(c.ref.df, c.df, ref_dataset=dataset_of(c.ref.run), cand_dataset=dataset_of(c.run))
        per_seg = [r for r in rows if r.segment != ALL]
        adjusted, _ = holm([r.p_value for r in per_seg], alpha) if per_seg else ([], [])
        padj = {r.segment: float(a) for r, a in zip(per_seg, adjusted)}
        ref_good = outcome_mask(c.ref.df, "good").to_numpy()
        ref_seg = c.ref.df["segment"].astype(str).to_numpy()
        ids, ref_ids = c.df["case_id"].astype(str), c.ref.df["case_id"].astype(str)
        shared = set(ids) & set(ref_ids)
        in_shared, ref_in_shared = ids.isin(shared).to_numpy(), ref_ids.isin(shared).to_numpy()
        for r in rows:
            mine = np.ones(len(seg), bool) if r.segment == ALL else seg == r.segment
            theirs = np.ones(len(ref_seg), bool) if r.segment == ALL else ref_seg == r.segment
            if r.paired:  # both rates on the pairs the change is computed on
                mine, theirs = mine & in_shared, theirs & ref_in_shared
            matrix_pairs[(r.segment, c.key)] = (rate(good[mine]), rate(ref_good[theirs]))
            p = padj.get(r.segment, r.p_value)
            changes[(r.segment, c.key)] = Change(diff=r.diff, lo=r.lo, hi=r.hi, n=r.n, n_ref=r.n_ref,
                                                 p_adjusted=p, significant=bool(p < alpha), paired=r.paired,
                                                 adjusted=r.segment != ALL, alpha=alpha)
    return Matrix(segments=[ALL, *segs], cells=cells, changes=changes, pairs=matrix_pairs)
