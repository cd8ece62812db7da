"""Pick the cases that get a drill-down and gather what each one shows.

The file must stay small for 5 configs x 10,000 cases, so: every flipped case is
listed in the regression table, but only ``max_drilldowns`` cases (flipped first,
then failed, round-robin across configurations) carry the full drill-down, plus a
few sampled good cases per configuration for contrast. Long texts are truncated.
All text here is untrusted (model output, case facts) and is escaped by the template.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import zip_longest
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evalkit.gate._stats import outcome_mask
from evalkit.report._assemble import Column
from evalkit.report._prompts import prompt_renderer, template_diff

MAX_TEXT = 8000
MAX_FACT = 1500


@dataclass(frozen=True, kw_only=True)
class Flip:
    column: Column
    case_id: str
    segment: str
    reasons: tuple[str, ...]
    ref_reasons: tuple[str, ...]
    anchor: str | None = None


@dataclass(kw_only=True)
class CaseDetail:
    anchor: str
    kind: str  # regression | failed | sample
    column: Column
    case_id: str
    segment: str
    good: bool
    facts: list[tuple[str, str]] = field(default_factory=list)
    facts_source: str = ""
    prompt: str | None = None
    prompt_note: str = ""
    diff: str | None = None
    raw_outputs: list[str] = field(default_factory=list)
    parsed: list[tuple[str, str]] = field(default_factory=list)
    expected: list[tuple[str, str]] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    ref_reasons: list[str] | None = None


def _truncate(text: str, limit: int = MAX_TEXT) -> str:
    return text if len(text) <= limit else text[:limit] + f"\n… ({len(text) - limit} more characters not shown)"


def _as_list(v: Any) -> list[str]:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return []
    return [str(x) for x in v] if isinstance(v, (list, tuple, np.ndarray)) else [str(v)]


def _anchor(col: Column, case_id: str) -> str:
    # Ids only from a safe alphabet: case ids are data, and an id is an attribute value.
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in case_id)[:80]
    return f"case-{col.key}-{safe}"


def find_flips(cols: Sequence[Column], *, limit_per_column: int = 2000) -> tuple[list[Flip], dict[str, int]]:
    """Cases good in the reference and not good in the column (regressions); improvements counted."""
    flips: list[Flip] = []
    improved: dict[str, int] = {}
    for c in cols:
        if c.ref is None:
            continue
        ref = c.ref.df[["case_id"]].assign(ref_good=outcome_mask(c.ref.df, "good").to_numpy(),
                                           ref_reasons=c.ref.df["reasons"].to_numpy() if "reasons" in c.ref.df else None)
        cand = c.df[["case_id", "segment"]].assign(cand_good=outcome_mask(c.df, "good").to_numpy(),
                                                   cand_reasons=c.df["reasons"].to_numpy() if "reasons" in c.df else None)
        m = cand.merge(ref, on="case_id")
        improved[c.key] = int((~m["ref_good"] & m["cand_good"]).sum())
        for r in m[m["ref_good"] & ~m["cand_good"]].head(limit_per_column).itertuples(index=False):
            flips.append(Flip(column=c, case_id=str(r.case_id), segment=str(r.segment),
                              reasons=tuple(_as_list(r.cand_reasons)), ref_reasons=tuple(_as_list(r.ref_reasons))))
    return flips, improved


def _round_robin(groups: Sequence[Sequence[Any]]) -> list[Any]:
    return [x for tier in zip_longest(*groups) for x in tier if x is not None]


def select_cases(cols: Sequence[Column], flips: Sequence[Flip], *, max_drilldowns: int,
                 sample_per_column: int = 3, seed: int = 0) -> list[tuple[str, Column, str]]:
    """(kind, column, case_id) for every drill-down, flipped first, within the cap."""
    chosen: list[tuple[str, Column, str]] = []
    seen: set[tuple[str, str]] = set()
    by_col: dict[str, list[Flip]] = {}
    for f in flips:
        by_col.setdefault(f.column.key, []).append(f)
    for f in _round_robin(list(by_col.values()))[:max_drilldowns]:
        chosen.append(("regression", f.column, f.case_id))
        seen.add((f.column.key, f.case_id))
    failed_groups = []
    for c in cols:
        if c.is_baseline:
            continue
        bad = c.df.loc[~outcome_mask(c.df, "good"), "case_id"].astype(str)
        failed_groups.append([(c, cid) for cid in bad if (c.key, cid) not in seen])
    for c, cid in _round_robin(failed_groups)[: max(0, max_drilldowns - len(chosen))]:
        chosen.append(("failed", c, cid))
    rng = np.random.default_rng(seed)
    for c in cols:
        if c.is_baseline or sample_per_column <= 0:
            continue
        good_ids = c.df.loc[outcome_mask(c.df, "good"), "case_id"].astype(str).to_numpy()
        if good_ids.size:
            for cid in rng.choice(good_ids, size=min(sample_per_column, good_ids.size), replace=False):
                chosen.append(("sample", c, str(cid)))
    return chosen


def _results_for(run_path: Path, wanted: dict[str, set[str]]) -> pd.DataFrame | None:
    """Rows of results.parquet for the wanted (config -> case ids); only needed columns are read."""
    import pyarrow.parquet as pq

    path = run_path / "results.parquet"
    if not path.is_file() or not wanted:
        return None
    names = set(pq.read_schema(path).names)
    cols = [c for c in ("config", "case_id", "sample_index", "raw_output", "prompt", "error") if c in names]
    if "case_id" not in names:
        return None
    ids = sorted({cid for s in wanted.values() for cid in s})
    table = pq.read_table(path, columns=cols, filters=[("case_id", "in", ids)])
    return table.to_pandas()


def _case_facts(col: Column, ids: set[str]) -> pd.DataFrame | None:
    """The dataset's case rows (facts) when the dataset store is reachable from here."""
    from evalkit._home import datasets_dir

    ds = col.run.manifest.get("dataset") or {}
    if not isinstance(ds, dict) or not ds.get("name") or not ds.get("version"):
        return None
    path = datasets_dir() / str(ds["name"]) / str(ds["version"]) / "cases.parquet"
    if not path.is_file():
        return None
    import pyarrow.parquet as pq

    try:
        return pq.read_table(path, filters=[("case_id", "in", sorted(ids))]).to_pandas()
    except Exception:  # noqa: BLE001 - a dataset we cannot read must not stop the report
        return None


def _fmt(v: Any) -> str:
    if isinstance(v, (dict, list, tuple, np.ndarray)):
        v = v.tolist() if isinstance(v, np.ndarray) else v
        indent = 1 if isinstance(v, dict) or (v and isinstance(v[0], dict)) else None
        return _truncate(json.dumps(v, default=str, ensure_ascii=False, indent=indent), MAX_FACT)
    if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
        return "—"
    if isinstance(v, (float, np.floating)):
        return f"{float(v):.6g}"
    return _truncate(str(v), MAX_FACT)


EXPECTED_KEYS = ("reviewed", "alternatives")
SCORE_FACTS = ("segment", "variant", "history_turns_total", "history_turns_included", "history_tokens",
               "deciding_turn_from_end", "input_tokens", "output_tokens", "cost_usd", "attempts", "cache_hit")
PARSED = ("status", "action", "deferred", "confidence", "invalid_reason", "wrong_fields", "correct", "good",
          "judge_good", "judge_reason", "human_good")


def case_details(chosen: Sequence[tuple[str, Column, str]]) -> list[CaseDetail]:
    by_run: dict[Path, dict[str, set[str]]] = {}
    for _, c, cid in chosen:
        by_run.setdefault(c.run.path, {}).setdefault(c.config, set()).add(cid)
    results = {p: _results_for(p, w) for p, w in by_run.items()}
    facts_cache: dict[Path, pd.DataFrame | None] = {}
    diffs: dict[str, str | None] = {}
    renderers: dict[str, Any] = {}
    # Position indexes built once: a boolean filter per case is O(rows) and dominated
    # the build time at 5 x 10,000 cases.
    positions: dict[str, dict[str, int]] = {}

    def lookup(col: Column, cid: str) -> pd.Series | None:
        if col.key not in positions:
            positions[col.key] = {k: i for i, k in enumerate(col.df["case_id"].astype(str))}
        i = positions[col.key].get(cid)
        return None if i is None else col.df.iloc[i]

    res_groups: dict[Path, dict[tuple[str, str], pd.DataFrame]] = {}
    for p, res in results.items():
        if res is not None and "config" in res:
            res_groups[p] = {(str(k[0]), str(k[1])): g for k, g in res.groupby(["config", "case_id"], sort=False)}
    out = []
    for kind, c, cid in chosen:
        r = lookup(c, cid)
        if r is None:
            continue
        d = CaseDetail(anchor=_anchor(c, cid), kind=kind, column=c, case_id=cid, segment=str(r["segment"]),
                       good=bool(r["good"]) if pd.notna(r["good"]) else False)
        if c.run.path not in facts_cache:
            facts_cache[c.run.path] = _case_facts(c, {x for w in by_run[c.run.path].values() for x in w})
        facts = facts_cache[c.run.path]
        frow = facts[facts["case_id"].astype(str) == cid] if facts is not None and "case_id" in facts else None
        case_json: str | None = None
        expected_extra: list[tuple[str, str]] = []
        if frow is not None and not frow.empty:
            fdict = dict(frow.iloc[0].items())
            if isinstance(fdict.get("case_json"), str):
                # Datasets store the task's case model as canonical JSON: show its fields.
                case_json = fdict.pop("case_json")
                try:
                    fdict.update(json.loads(case_json))
                except ValueError:
                    fdict["case_json"] = case_json
            for key in EXPECTED_KEYS:
                if key in fdict:
                    expected_extra.append((key, _fmt(fdict.pop(key))))
            d.facts = [(str(k), _fmt(v)) for k, v in list(fdict.items())[:60]]
            ds = c.run.manifest.get("dataset")
            d.facts_source = f"dataset {ds.get('ref', '')}".strip() if isinstance(ds, dict) else "dataset"
        else:
            d.facts = [(k, _fmt(r[k])) for k in SCORE_FACTS if k in r.index]
            d.facts_source = "scores (dataset not available here)"
        rrows = res_groups.get(c.run.path, {}).get((c.config, cid))
        if rrows is not None and "sample_index" in rrows:
            rrows = rrows.sort_values("sample_index")
        if rrows is not None and "raw_output" in rrows:
            d.raw_outputs = [_truncate(str(x)) for x in rrows["raw_output"].tolist() if x is not None][:5]
        if c.key not in renderers:
            renderers[c.key] = prompt_renderer(c)
        prompt = None
        if renderers[c.key] is not None:
            try:
                prompt = renderers[c.key](cid, case_json)
            except Exception:  # noqa: BLE001 - one case that cannot be re-rendered falls back to the stored prompt
                prompt = None
        if prompt is not None:
            d.prompt, d.prompt_note = _truncate(prompt), "re-rendered from the stored template"
        elif rrows is not None and "prompt" in rrows and rrows["prompt"].notna().any():
            d.prompt, d.prompt_note = _truncate(str(rrows["prompt"].dropna().iloc[0])), "as sent (stored)"
        else:
            d.prompt_note = "prompt not stored"
        if c.key not in diffs:
            diffs[c.key] = template_diff(c)
        d.diff = diffs[c.key]
        d.parsed = [(k, _fmt(r[k])) for k in PARSED if k in r.index]
        d.expected = [(k, _fmt(r[k])) for k in r.index if str(k).startswith("expected_")] + expected_extra
        d.reasons = _as_list(r.get("reasons"))
        if c.ref is not None:
            ref_row = lookup(c.ref, cid)
            d.ref_reasons = _as_list(ref_row.get("reasons")) if ref_row is not None else None
        out.append(d)
    return out
