"""Every flipped or failed case, packed for the report's case table and drill-downs.

The table and its drill-downs are rendered in the browser, on demand, by the report's
own inline script (``report.js``) from one document embedded gzip-compressed and
Base85-encoded in a non-executable ``<script type="application/octet-stream">`` block
(the wire format is ``_casewire``'s). That keeps a drill-down for *every* flipped or failed
case within the file-size budget and never needs the network. The script inserts every
value with ``textContent``: model output and case facts are untrusted and are never
parsed as HTML.

The logical document (what ``unpack`` returns; all lists positional)::

    {"v": 2,
     "cols": [[key, label, ref label | null, facts source, template diff | null], ...],
     "rows": [[col, case_id, segment, kind, reasons, action, expected, ref reasons | null], ...],
     "det": [{"raw": [...], "parsed": [[k, v]...], "expected": [[k, v]...],
              "prompt": str | null, "pnote": str}, ...],       # parallel to rows
     "facts": {case_id: [[k, v], ...]}}                         # shared by configurations

Rows are in table order: kind, then configuration, then case id. ``kind`` is ``regressed``
(good in the reference, not good here), ``improved`` (the reverse) or ``failed`` (not good
here, and not a flip).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evalkit.errors import DataError
from evalkit.report._assemble import Column
from evalkit.report._casewire import decode, encode
from evalkit.report._prompts import rendered_prompts, template_diff
from evalkit.runs import read_parquet
from evalkit.stats import outcome_mask

MAX_TEXT = 6000
MAX_FACT = 500
MAX_LIST_ITEMS = 4
KINDS = ("regressed", "improved", "failed")
SCORE_FACTS = ("segment", "variant", "history_turns_total", "history_turns_included", "history_tokens",
               "deciding_turn_from_end", "input_tokens", "output_tokens", "cost_usd", "attempts", "cache_hit")
PARSED = ("status", "action", "deferred", "confidence", "invalid_reason", "wrong_fields", "correct", "good",
          "judge_good", "judge_reason", "human_good")

def expected_keys(manifest: Mapping[str, Any]) -> tuple[str, ...]:
    """The case fields the run's task declares as expected decisions (none if the task is not installed here)."""
    from evalkit.errors import EvalkitError
    from evalkit.tasks import DEFAULT_TASK, get_task

    if hasattr(manifest, "model_dump"):  # a typed evalkit.runs.Manifest
        manifest = manifest.model_dump(mode="json")
    suite = manifest.get("suite")
    spec = suite.get("spec") if isinstance(suite, Mapping) else None
    name = spec.get("task") if isinstance(spec, Mapping) else None
    try:
        return tuple(get_task(str(name or DEFAULT_TASK)).expectation_fields)
    except EvalkitError:  # the run's task is not installed where the report is built
        return ()



@dataclass(frozen=True, kw_only=True)
class CaseData:
    """The packed document and what the page says about it."""

    encoded: str
    """The wire text: Base85 of the gzip-compressed JSON document (see ``_casewire``)."""
    counts: dict[str, int]
    """kind -> number of listed cases."""
    n_prompts: int
    raw_bytes: int


def anchor(col: Column, case_id: str) -> str:
    """The drill-down's id (ASCII letters, digits, - and _ only; report.js computes the same)."""
    safe = "".join(ch if (ch.isascii() and ch.isalnum()) or ch in "-_" else "_" for ch in case_id)[:80]
    return f"case-{col.key}-{safe}"


def _truncate(text: str, limit: int = MAX_TEXT) -> str:
    return text if len(text) <= limit else text[:limit] + f"\n… ({len(text) - limit} more characters not shown)"


def _as_list(v: Any) -> list[str]:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return []
    return [str(x) for x in v] if isinstance(v, (list, tuple, np.ndarray)) else [str(v)]


def _fmt(v: Any, limit: int = MAX_FACT) -> str:
    """One value as short text; long lists keep their last items (the latest history turns)."""
    if isinstance(v, np.ndarray):
        v = v.tolist()
    if isinstance(v, (list, tuple)):
        v = list(v)
        note = ""
        if len(v) > MAX_LIST_ITEMS:
            note = f"({len(v)} items; the last {MAX_LIST_ITEMS} shown)\n"
            v = v[-MAX_LIST_ITEMS:]
        return _truncate(note + json.dumps(v, default=str, ensure_ascii=False), limit)
    if isinstance(v, dict):
        return _truncate(json.dumps(v, default=str, ensure_ascii=False), limit)
    if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
        return "—"
    if isinstance(v, (float, np.floating)):
        return f"{float(v):.6g}"
    return _truncate(str(v), limit)


def listed_cases(cols: Sequence[Column]) -> list[tuple[Column, str, str, str]]:
    """(column, case_id, segment, kind) for every case the table lists: regressions first, then
    by configuration, then by case id (the order ``_casewire`` reproduces from the data)."""
    out: dict[str, list[tuple[Column, str, str, str]]] = {k: [] for k in KINDS}
    for c in cols:
        if c.is_baseline:
            continue
        good = outcome_mask(c.df, "good").to_numpy()
        ids = c.df["case_id"].astype(str).to_numpy()
        segs = c.df["segment"].astype(str).to_numpy()
        ref_good: dict[str, bool] = {}
        if c.ref is not None:
            ref_good = dict(zip(c.ref.df["case_id"].astype(str), outcome_mask(c.ref.df, "good").tolist()))
        for cid, seg, g in zip(ids, segs, good.tolist()):
            r = ref_good.get(cid)
            if r is True and not g:
                out["regressed"].append((c, cid, seg, "regressed"))
            elif r is False and g:
                out["improved"].append((c, cid, seg, "improved"))
            elif not g:
                out["failed"].append((c, cid, seg, "failed"))
    col_ix = {c.key: i for i, c in enumerate(cols)}
    return [x for k in KINDS for x in sorted(out[k], key=lambda t: (col_ix[t[0].key], t[1]))]


def _results_for(run_path: Path, ids: set[str]) -> tuple[dict[tuple[str, str], list[str]], dict[tuple[str, str], str]]:
    """(config, case_id) -> raw outputs in sample order, and -> the prompt as sent when stored."""
    path = run_path / "results.parquet"
    if not path.is_file() or not ids:
        return {}, {}
    import pyarrow.parquet as pq

    try:
        names = set(pq.read_schema(path).names)
    except Exception as exc:  # noqa: BLE001 - a damaged file names itself, not a traceback
        raise DataError(f"{path}: unreadable or corrupt parquet file ({type(exc).__name__}: {exc})") from None
    if not {"case_id", "config", "raw_output"} <= names:
        return {}, {}
    cols = [c for c in ("config", "case_id", "sample_index", "raw_output", "prompt") if c in names]
    df = read_parquet(path, columns=cols, case_ids=ids).to_pandas()
    if "sample_index" in df:
        df = df.sort_values("sample_index", kind="stable")
    out: dict[tuple[str, str], list[str]] = {}
    for cfg, cid, raw in zip(df["config"].astype(str), df["case_id"].astype(str), df["raw_output"]):
        if raw is not None:
            out.setdefault((cfg, cid), []).append(_truncate(str(raw)))
    prompts: dict[tuple[str, str], str] = {}
    if "prompt" in df:
        for cfg, cid, prompt in zip(df["config"].astype(str), df["case_id"].astype(str), df["prompt"]):
            if prompt is not None and (cfg, cid) not in prompts:
                prompts[(cfg, cid)] = str(prompt)
    return out, prompts


def _dataset_facts(col: Column, ids: set[str]) -> DatasetRows | None:
    """The listed cases' rows of the run's dataset version, when the dataset store is reachable."""
    from evalkit._home import datasets_dir

    ds = col.run.manifest.dataset if col.run.manifest else None
    if ds is None or not ds.name or not ds.version:
        return None
    path = datasets_dir() / ds.name / ds.version / "cases.parquet"
    if not ids or not path.is_file():
        return None
    try:
        from evalkit.dataset import load_dataset

        try:  # hash-checked, and the very table the run decoded to plan (the dataset store keeps it)
            table = load_dataset(f"{ds.name}@{ds.version}", store=datasets_dir()).arrow
        except Exception:  # noqa: BLE001 - a bare case table (no manifest) still shows its facts
            table = read_parquet(path)
        rows = DatasetRows(table, ids)
    except Exception:  # noqa: BLE001 - a dataset we cannot read must not stop the report
        return None
    return rows or None


class DatasetRows:
    """Dataset rows by case id, read from the arrow table one case at a time when its drill-down is
    packed: every listed case's JSON at once (as Python text, then parsed) held tens of MB."""

    def __init__(self, table: Any, ids: set[str]) -> None:
        self._table = table
        self._at = {cid: i for i, cid in enumerate(table.column("case_id").to_pylist()) if cid in ids}

    def __bool__(self) -> bool:
        return bool(self._at)

    def get(self, case_id: str) -> tuple[dict[str, Any], str | None] | None:
        """(the row's columns, its case JSON when it has one as text)."""
        i = self._at.get(case_id)
        if i is None:
            return None
        row = {name: self._table.column(name)[i].as_py() for name in self._table.column_names}
        raw = row.pop("case_json") if isinstance(row.get("case_json"), str) else None
        return row, raw


def _parsed(row: Mapping[str, Any], raw: str | None) -> dict[str, Any]:
    """A dataset row's facts: its columns and, from the task's canonical case JSON, the case's fields."""
    out = dict(row)
    if raw is not None:
        try:
            out.update(json.loads(raw))
        except ValueError:
            out["case_json"] = raw
    return out


@dataclass(kw_only=True)
class _Sources:
    """What the listed cases are read from: raw outputs, dataset facts and the score rows."""

    raw: dict[Path, tuple[dict[tuple[str, str], list[str]], dict[tuple[str, str], str]]]
    facts_by_run: dict[Path, DatasetRows | None]
    sources: dict[str, str]
    records: dict[str, dict[str, dict[str, Any]]]

    def row_of(self, col: Column, cid: str) -> dict[str, Any] | None:
        # One conversion per column: a per-case ``df.iloc`` dominated the build time.
        if col.key not in self.records:
            self.records[col.key] = {str(r["case_id"]): r for r in col.df.to_dict("records")}
        return self.records[col.key].get(cid)


def _gather(cols: Sequence[Column], listed: Sequence[tuple[Column, str, str, str]]) -> _Sources:
    by_run: dict[Path, set[str]] = {}
    for c, cid, _, _ in listed:
        by_run.setdefault(c.run.path, set()).add(cid)
    raw = {p: _results_for(p, ids) for p, ids in by_run.items()}
    facts_by_run: dict[Path, DatasetRows | None] = {}
    sources: dict[str, str] = {}
    for c in cols:
        if c.run.path in by_run and c.run.path not in facts_by_run:
            facts_by_run[c.run.path] = _dataset_facts(c, by_run[c.run.path])
        ds = c.run.manifest.dataset if c.run.manifest else None
        sources[c.key] = (f"dataset {ds.ref or ''}".strip() if ds is not None else "dataset") \
            if facts_by_run.get(c.run.path) else "scores (dataset not available here)"
    return _Sources(raw=raw, facts_by_run=facts_by_run, sources=sources, records={})


def _case_facts(c: Column, r: Mapping[str, Any], fdict: Mapping[str, Any] | None) -> tuple[list[list[str]], list[list[str]]]:
    """(case facts, the task's expected decision fields) for one case."""
    if fdict is None:
        return [[k, _fmt(r[k])] for k in SCORE_FACTS if k in r], []
    expected = expected_keys(c.run.manifest)
    rest = {k: v for k, v in fdict.items() if k not in expected}
    return ([[str(k), _fmt(v)] for k, v in list(rest.items())[:60]],
            [[k, _fmt(fdict[k])] for k in expected if k in fdict])


def _jobs(candidates: Sequence[tuple[Any, Column, str]]) -> list[tuple[str, str, str]]:
    return [(str(c.run.path), c.config, cid) for _, c, cid in candidates]


def _attach_prompts(candidates: Sequence[tuple[dict[str, Any], Column, str]], src: _Sources,
                    max_prompts: int, first: Any = None) -> int:
    """Put a prompt into the first drill-downs (re-rendered, else as stored) until ``max_prompts``
    carry one; how many do. Rendered a batch at a time (``rendered_prompts``: in a forked child when
    this process does not hold the tokenizer); a run whose prompts cannot be re-rendered is not
    tried again. ``first``: the first batch's rendering, already started."""
    embedded, start = 0, 0
    failed: frozenset[tuple[str, str]] = frozenset()
    while embedded < max_prompts and start < len(candidates):
        batch = candidates[start:start + max_prompts - embedded]
        jobs = _jobs(batch)
        wanted = [job for job in jobs if job[:2] not in failed]  # a run that failed is not tried again
        if start == 0 and first is not None:
            rendered, newly_failed = first()  # the first batch, before anything failed
        else:
            rendered, newly_failed = rendered_prompts(wanted, failed)()
        by_job = dict(zip(wanted, rendered, strict=True))
        prompts = [by_job.get(job) for job in jobs]
        start += len(batch)
        failed |= newly_failed
        for (d, c, cid), prompt in zip(batch, prompts, strict=True):
            stored = src.raw[c.run.path][1].get((c.config, cid))
            if prompt is not None:
                d["prompt"], d["pnote"] = _truncate(prompt), "re-rendered from the stored template"
            elif stored is not None:
                d["prompt"], d["pnote"] = _truncate(stored), "as sent (stored)"
            else:
                d["pnote"] = "prompt not stored"
                continue
            embedded += 1
    return embedded


def _row(col_index: int, c: Column, cid: str, seg: str, kind: str, r: Mapping[str, Any], src: _Sources) -> list[Any]:
    ref_reasons = None
    if c.ref is not None:
        ref_row = src.row_of(c.ref, cid)
        ref_reasons = ", ".join(_as_list(ref_row.get("reasons"))) if ref_row is not None else None
    return [col_index, cid, seg, kind, ", ".join(_as_list(r.get("reasons"))), _fmt(r.get("action")),
            _fmt(r.get("expected_action")), ref_reasons]


def _detail(c: Column, cid: str, r: Mapping[str, Any], expected: list[list[str]], src: _Sources) -> dict[str, Any]:
    return {
        "raw": src.raw[c.run.path][0].get((c.config, cid), [])[:5],
        "parsed": [[k, _fmt(r[k])] for k in PARSED if k in r],
        "expected": [[str(k), _fmt(r[k])] for k in r if str(k).startswith("expected_")] + expected,
        "prompt": None, "pnote": "not embedded (size budget): raise --max-prompts to embed more",
    }


def pack(cols: Sequence[Column], *, max_prompts: int = 50) -> CaseData:
    """Gather and pack every listed case; the first ``max_prompts`` regressions (then failures)
    also carry the prompt re-rendered from the stored template."""
    return start_pack(cols, max_prompts=max_prompts)()


def start_pack(cols: Sequence[Column], *, max_prompts: int = 50) -> Callable[[], CaseData]:
    """``pack`` in two steps: the cases are gathered and the first prompts start rendering now (in a
    child, see ``rendered_prompts``); what this returns waits for them and packs. The report does
    its other sections in between."""
    listed = listed_cases(cols)
    col_index = {c.key: i for i, c in enumerate(cols)}
    src = _gather(cols, listed)
    facts: dict[str, list[list[str]]] = {}
    expected_of: dict[str, list[list[str]]] = {}
    rows: list[list[Any]] = []
    det: list[dict[str, Any]] = []
    prompt_candidates: list[tuple[dict[str, Any], Column, str]] = []
    # The first max_prompts prompts render (in a child, see rendered_prompts) while the cases are packed.
    first_jobs = [(None, c, cid) for c, cid, _, kind in listed if kind != "improved" and src.row_of(c, cid) is not None]
    first = rendered_prompts(_jobs(first_jobs[:max_prompts])) if max_prompts > 0 else None
    for c, cid, seg, kind in listed:
        r = src.row_of(c, cid)
        if r is None:
            continue
        dataset_rows = src.facts_by_run.get(c.run.path)
        fact_row, case_json = (dataset_rows.get(cid) if dataset_rows is not None else None) or (None, None)
        if cid not in facts:
            fdict = _parsed(fact_row, case_json) if fact_row is not None else None
            facts[cid], expected_of[cid] = _case_facts(c, r, fdict)
        rows.append(_row(col_index[c.key], c, cid, seg, kind, r, src))
        d = _detail(c, cid, r, expected_of[cid], src)
        if kind != "improved":
            prompt_candidates.append((d, c, cid))
        det.append(d)

    def finish() -> CaseData:
        n_prompts = _attach_prompts(prompt_candidates, src, max_prompts, first)
        doc = {"cols": [[c.key, c.label, c.ref.label if c.ref else None, src.sources[c.key], template_diff(c)]
                        for c in cols],
               "rows": rows, "det": det, "facts": facts}
        encoded, raw_bytes = encode(doc, KINDS)
        counts = {k: sum(1 for r in rows if r[3] == k) for k in KINDS}
        return CaseData(encoded=encoded, counts=counts, n_prompts=n_prompts, raw_bytes=raw_bytes)

    return finish


def unpack(encoded: str) -> dict[str, Any]:
    """The document back from the page (for tests and tools)."""
    return decode(encoded)
