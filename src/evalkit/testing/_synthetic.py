"""Synthetic run folders in the contract's shape (docs/dev/contracts.md), for the
report/gate tests and the report benchmark. Not part of the public API.

Outcomes of different configurations share one latent draw per case, so they are
paired the way real re-runs of the same cases are: a planted ``shift`` in one
segment is a real paired effect, and ``noise`` adds independent flips both ways.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evalkit._io import write_parquet, write_text
from evalkit.runs import Manifest, Projection, Thresholds, write_file

SEGMENTS = ("routine", "legacy_discount", "promotion_end", "injected_instruction", "billing_escalation",
            "undocumented_exception")
BASE_GOOD = {"routine": 0.92, "legacy_discount": 0.8, "promotion_end": 0.78, "injected_instruction": 0.7,
             "billing_escalation": 0.75, "undocumented_exception": 0.6}
XSS_PAYLOAD = ('I approve. <script>window.__evalkit_xss = 1</script>'
               '<img src="x" onerror="window.__evalkit_xss = 2"> done')
DEFAULT_TEMPLATE = ("You decide subscription upgrades.\n"
                    "Policy: honour legacy discounts.\n"
                    "Policy: disclose when a promotion ends.\n"
                    "Case: {{ case.facts }}\nAnswer in JSON.\n")


def write_synthetic_run(path: Path, *, run_id: str, configs: Mapping[str, Mapping[str, Any]],
                        n_cases: int = 1200, seed: int = 0, segments: Sequence[str] = SEGMENTS,
                        simulated: bool = True, results: bool = True, thresholds: bool = True,
                        projection: bool = True, xss_case: bool = False, force_good: Sequence[str] = (),
                        prompt_chars: int = 600, suite_spec: Mapping[str, Any] | None = None,
                        dataset_root: Path | None = None) -> Path:
    """Write manifest.json, scores.parquet (+ results.parquet, thresholds.json, projection.json, prompts/).

    ``configs`` maps a config name to options: ``shift`` {segment: delta good rate},
    ``noise`` (share of independently flipped outcomes, default 0.02), ``noise_seed``,
    ``model``, ``template`` (prompt template source), ``cost_scale``, ``unknown_cost``.
    ``xss_case``: case-00000 is not good and its raw output is an HTML/JS payload;
    ``force_good``: case ids that are good in every config (e.g. the payload case in a
    baseline, so it becomes a flipped case with a drill-down in the candidate).
    ``dataset_root``: also write ``<root>/upgrades/v3/cases.parquet`` (case facts as
    ``case_json``, the dataset store's layout) so drill-downs can show case facts.
    """
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    cases = _Cases.draw(n_cases, segments, seed)
    frames, result_frames, manifest_configs = [], [], []
    for ci, (name, opt) in enumerate(configs.items()):
        df, action, conf = _config_scores(cases, run_id=run_id, name=name, opt=opt, ci=ci, simulated=simulated,
                                  xss_case=xss_case, force_good=force_good)
        frames.append(df)
        template = opt.get("template", DEFAULT_TEMPLATE)
        prompt_file = f"prompts/{name}.j2"
        write_text(path / prompt_file, template)
        manifest_configs.append(_manifest_config(name, opt, template, prompt_file, simulated))
        if results:
            result_frames.append(_config_results(cases, name, action, conf, template,
                                                 xss_case=xss_case, prompt_chars=prompt_chars))
        if thresholds:
            write_file(path, _thresholds(path, name, df, simulated), Thresholds)
        if projection:
            write_file(path, _projection(path, name, df), Projection)
    if dataset_root is not None:
        _write_dataset(Path(dataset_root), cases)
    write_parquet(path / "scores.parquet", pd.concat(frames, ignore_index=True))
    if results:
        write_parquet(path / "results.parquet", pd.concat(result_frames, ignore_index=True))
    write_file(path, {
        "run_id": run_id, "created": "2026-11-21T12:00:00+00:00", "evalkit_version": "0.1.0",
        "suite": {"name": "upgrades-ci", "path": "suites/upgrades-ci.yaml", "sha256": "0" * 64,
                  **({"spec": dict(suite_spec)} if suite_spec is not None else {})},
        "dataset": {"ref": "upgrades@v3", "name": "upgrades", "version": "v3", "sha256": "ab" * 32},
        "seed": seed, "configs": manifest_configs, "status": "complete",
        "counts": {"cases": n_cases, "calls": n_cases * len(configs), "failed_calls": 0, "cache_hits": 0},
        "fingerprint": "0" * 16}, Manifest)
    return path


@dataclass(frozen=True, kw_only=True)
class _Cases:
    """The cases and their latent draws, shared by every configuration (so outcomes are paired)."""

    ids: np.ndarray
    segment: np.ndarray
    latent: np.ndarray
    latent_correct: np.ndarray
    tokens_in: np.ndarray
    turns: np.ndarray

    @classmethod
    def draw(cls, n: int, segments: Sequence[str], seed: int) -> _Cases:
        # Same seed -> same cases and same latent draws, whichever run folder is written.
        rng = np.random.default_rng(seed)
        return cls(ids=np.array([f"case-{i:05d}" for i in range(n)]), segment=np.array(segments)[np.arange(n) % len(segments)],
                   latent=rng.random(n), latent_correct=rng.random(n),
                   tokens_in=(700 + rng.lognormal(5.0, 0.9, n)).astype(int), turns=rng.integers(1, 30, n))


def _config_scores(cases: _Cases, *, run_id: str, name: str, opt: Mapping[str, Any], ci: int, simulated: bool,
                   xss_case: bool, force_good: Sequence[str]) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """One configuration's scores rows, and the drawn actions and confidences (the raw outputs quote them)."""
    n, seg, tokens_in, turns = len(cases.ids), cases.segment, cases.tokens_in, cases.turns
    crng = np.random.default_rng(opt.get("noise_seed", 1000 + ci))
    shift = opt.get("shift", {})
    good = cases.latent < np.array([BASE_GOOD.get(s, 0.8) + shift.get(s, 0.0) for s in seg])
    good = np.where(crng.random(n) < opt.get("noise", 0.02), ~good, good)
    invalid = crng.random(n) < opt.get("invalid", 0.02)
    correct = (good | (cases.latent_correct < 0.35)) & ~invalid
    good &= ~invalid
    deferred = ~invalid & (crng.random(n) < 0.08)
    conf = np.clip(np.where(good, crng.beta(8, 2, n), crng.beta(4, 3, n)), 0, 1)
    out_tok = (120 + crng.lognormal(4.0, 0.7, n)).astype(int)
    cost = pd.array((tokens_in * 2.5e-6 + out_tok * 1e-5) * opt.get("cost_scale", 1.0), dtype="Float64")
    if opt.get("unknown_cost"):
        cost[:] = pd.NA
    action = np.where(invalid, None, np.where(deferred, "escalate", np.where(good, "approve", "deny")))
    reasons = [[] if g else (["output.invalid_json"] if inv else
                             [f"check.missing_disclosure:{s}", "price.missed_legacy_discount"][: 1 + (k % 2)])
               for k, (g, inv, s) in enumerate(zip(good, invalid, seg))]
    df = pd.DataFrame({
        "run_id": run_id, "config": name, "case_id": cases.ids, "segment": seg, "variant": "base",
        "status": np.where(invalid, "invalid", "ok"),
        "invalid_reason": np.where(invalid, "output is not valid JSON", None),
        "action": action, "expected_action": "approve", "deferred": deferred,
        "correct": correct, "good": good,
        "wrong_fields": [[] if c else ["action"] for c in correct], "reasons": reasons,
        "confidence": pd.array(np.where(invalid, np.nan, conf), dtype="Float64"),
        "input_tokens": tokens_in, "output_tokens": out_tok, "total_tokens": tokens_in + out_tok,
        "cost_usd": cost, "history_turns_total": turns, "history_turns_included": np.minimum(turns, 10),
        "history_tokens": turns * 40, "cache_hit": False, "attempts": 1, "simulated": simulated,
    })
    df.loc[invalid, "confidence"] = pd.NA
    if xss_case:
        # The payload case is a regression in every config, so it gets a drill-down.
        df.loc[0, ["good", "correct", "status", "action"]] = [False, False, "ok", "approve"]
    if force_good:
        sel = df["case_id"].isin(list(force_good))
        df.loc[sel, ["good", "correct", "status", "action"]] = [True, True, "ok", "approve"]
        df.loc[sel, "reasons"] = pd.Series([[] for _ in range(int(sel.sum()))], index=df.index[sel])
    return df, action, conf


def _config_results(cases: _Cases, name: str, action: np.ndarray, conf: np.ndarray, template: str, *,
                    xss_case: bool, prompt_chars: int) -> pd.DataFrame:
    raw = [json.dumps({"action": a, "confidence": round(float(c), 3)}) if a else "Sure! I think approve??"
           for a, c in zip(action, conf)]
    if xss_case:
        raw[0] = XSS_PAYLOAD
    filler = ("History turn: customer asked about the upgrade price. " * (prompt_chars // 55 + 1))
    return pd.DataFrame({"config": name, "case_id": cases.ids, "sample_index": 0, "raw_output": raw,
                         "prompt": [f"{template}\n[{c}] {filler[:prompt_chars]}" for c in cases.ids], "error": None})


def _manifest_config(name: str, opt: Mapping[str, Any], template: str, prompt_file: str,
                     simulated: bool) -> dict[str, Any]:
    return {"name": name, "provider": "sim" if simulated else "openai", "model": opt.get("model", "sim-small"),
            "params": {"temperature": 0}, "prompt": prompt_file,
            "prompt_version": hashlib.sha256(template.encode()).hexdigest(),
            "context": {"max_history_turns": 10}, "simulated": simulated,
            "price": {"input": 2.5e-6, "output": 1e-5, "source": "table"}}


def _write_dataset(root: Path, cases: _Cases) -> None:
    """``<root>/upgrades/v3/cases.parquet`` in the dataset store's layout, so drill-downs show case facts."""
    cases_json = [json.dumps({"case_id": c, "segment": s, "variant": "base",
                              "account": {"plan": "team", "seats": int(t) + 3, "pricing_cohort": "legacy-2019"},
                              "request": {"target_plan": "business", "message": "Please upgrade us."},
                              "reviewed": {"action": "approve", "new_recurring_price": "220.00"},
                              "alternatives": []}) for c, s, t in zip(cases.ids, cases.segment, cases.turns)]
    write_parquet(root / "upgrades" / "v3" / "cases.parquet",
                  pd.DataFrame({"case_id": cases.ids, "segment": cases.segment, "variant": "base",
                                "case_json": cases_json}))


def _merge(path: Path, name: str, key: str, entry: dict[str, Any], head: dict[str, Any]) -> dict[str, Any]:
    existing = path / key
    doc = json.loads(existing.read_text()) if existing.is_file() else {**head, "configs": {}}
    doc["configs"][name] = entry
    return doc


def _thresholds(path: Path, name: str, df: pd.DataFrame, simulated: bool) -> dict[str, Any]:
    ok = (df["status"] == "ok") & ~df["deferred"]
    conf = df["confidence"].astype(float).fillna(0).to_numpy()
    t = 0.8
    auto = ok.to_numpy() & (conf >= t)
    n = len(df)
    cov = auto.mean()
    half = 1.96 * np.sqrt(cov * (1 - cov) / n)
    errors = int((auto & ~df["good"].to_numpy()).sum())
    entry = {"threshold": t, "threshold_calibrated": 0.9, "certified": True, "n": n,
             "n_automated": int(auto.sum()), "n_errors": errors,
             "coverage": {"value": float(cov), "lo": float(cov - half), "hi": float(cov + half), "n": n},
             "risk_upper_bound": 0.04, "segments": {}, "uncertified_segments": ["undocumented_exception"],
             "simulated": simulated}
    return _merge(path, name, "thresholds.json", entry,
                  {"schema": 1, "run_id": path.name, "created": "2026-11-21T12:00:00+00:00", "outcome": "good",
                   "alpha": 0.05, "delta": 0.05, "mode": "global", "simulated": simulated})


def _projection(path: Path, name: str, df: pd.DataFrame) -> dict[str, Any]:
    cost = df["cost_usd"].astype(float)
    known = bool(cost.notna().all())
    q = {k: (float(cost.quantile(v)) if known else None)
         for k, v in (("p50", .5), ("p90", .9), ("p95", .95), ("p99", .99), ("max", 1.0))}
    mean = float(cost.mean()) if known else None
    vol = 50000

    def r(v: float) -> dict[str, float]:
        return {"value": v, "lo": v * 0.95, "hi": min(1.0, v * 1.05), "n": len(df)}

    entry = {"n": len(df), "outcome": "good", "threshold_source": "thresholds.json",
             "threshold": 0.8, "effective_sample_size": 812.4, "flagged_segments": [],
             "automation_rate": r(0.55), "naive_automation_rate": r(0.6), "escalated_rate": r(0.45),
             "automated_error_rate": r(0.03),
             "review_hours_per_month": {"value": 2250.0, "lo": 2100.0, "hi": 2400.0, "n": len(df)},
             "cost_per_case": {"mean": mean, **q, "cvar95": q["p99"], "known": known},
             "monthly_cost": {"known": known, "p50": mean * vol if known else None, "p95": mean * vol * 1.08 if known else None,
                              "naive": q["p50"] * vol if known else None,
                              "tail_to_naive_ratio": (mean * 1.08 / q["p50"]) if known else None},
             "net_value_per_month": {"value": 120000.0, "lo": 110000.0, "hi": 130000.0, "n": len(df)},
             "value_optimal_threshold": 0.85,
             "curve": [{"threshold": t, "automation": 0.9 - t * 0.5, "error": 0.08 - t * 0.06}
                       for t in np.linspace(0.5, 0.95, 10)]}
    return _merge(path, name, "projection.json", entry,
                  {"schema": 1, "run_id": path.name, "created": "2026-11-21T12:00:00+00:00", "outcome": "good",
                   "volume_per_month": vol, "mix": {"routine": 0.7, "legacy_discount": 0.3},
                   "bootstrap": {"resamples": 1000, "seed": 7}, "monte_carlo": {"months": 2000, "seed": 7}})
