"""Benchmark: scoring 1,000,000 synthetic case-results in < 20 s and < 2 GB.

What is measured (all of it actually done, nothing extrapolated):
  1. parse     - ``parse_decision`` on every one of the N model outputs (a realistic mix:
                 bare JSON, fenced JSON with prose, tool-call envelopes, truncated and
                 garbage answers);
  2. read      - reading the N-row ``scores.parquet`` back from a run folder;
  3. aggregate - ``aggregate()`` per config x segment (+ ALL) and ``summary_dict()``;
  4. compare   - paired ``compare()`` of the two configs (N/2 pairs, both outcomes, flips)
                 and ``comparison_to_dict()``.
Not included yet: the task's per-case correctness/goodness rubric (``Task.score``),
owned by the upgrades task; add it here when it lands.

Peak memory is the process's max RSS (``resource.getrusage``), which also counts
building the synthetic data - so it is an upper bound on what scoring needs.

Usage: .venv/bin/python bench/bench_score.py [--rows 1000000] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from evalkit.score import aggregate, compare, comparison_to_dict, parse_decision, read_scores, summary_dict

TARGET_S = 20.0
TARGET_MB = 2048.0
SEGMENTS = ("routine", "legacy_pricing", "open_dispute", "promotion_end", "injected_instruction",
            "seat_reduction", "undocumented_exception", "mid_cycle_change")


class BenchDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action: Literal["approve", "deny", "escalate", "counter_offer"]
    plan: str
    seats: int
    new_price: Decimal
    effective: str
    confidence: float
    message: str


def _peak_mb() -> float:
    # ru_maxrss is KiB on Linux, bytes on macOS.
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024


def make_outputs(n: int, rng: np.random.Generator) -> list[str]:
    actions = np.array(["approve", "deny", "escalate", "counter_offer"])[rng.integers(0, 4, n)]
    seats = rng.integers(1, 200, n)
    cents = rng.integers(500, 500_000, n)
    shape = rng.choice(5, size=n, p=[0.70, 0.15, 0.07, 0.05, 0.03])
    out: list[str] = []
    for a, s, c, k in zip(actions.tolist(), seats.tolist(), cents.tolist(), shape.tolist()):
        body = (f'{{"action": "{a}", "plan": "pro_annual", "seats": {s}, "new_price": {c // 100}.{c % 100:02d}, '
                f'"effective": "2026-07-01", "confidence": 0.87, "message": "Your new price is '
                f'${c // 100}.{c % 100:02d} per month from July 1 {{incl. tax}}."}}')
        if k == 0:
            out.append(body)
        elif k == 1:
            out.append(f"Here is my decision.\n```json\n{body}\n```\nI checked the legacy discount.")
        elif k == 2:
            out.append(json.dumps({"name": "submit_decision", "arguments": body}))
        elif k == 3:
            out.append(body[: len(body) // 2])  # truncated at max_tokens
        else:
            out.append("I'm sorry, I can't decide this case without more information.")
    return out


def make_scores(n: int, rng: np.random.Generator) -> pd.DataFrame:
    half = n // 2
    case_ids = np.array([f"case-{i:07d}" for i in range(half)], dtype=object)
    segment = np.array(SEGMENTS)[rng.integers(0, len(SEGMENTS), half)]
    # Joint outcome per case: 3% symmetric discordance, plus a planted drop in one segment.
    cat = rng.choice(4, size=half, p=[0.785, 0.015, 0.015, 0.185])  # both, base only, cand only, neither
    base_good = (cat == 0) | (cat == 1)
    cand_good = (cat == 0) | (cat == 2)
    cand_good &= ~((segment == "legacy_pricing") & (rng.random(half) < 0.2))
    frames = []
    for cfg, good in (("full", base_good), ("no_legacy_clause", cand_good)):
        status = np.where(rng.random(half) < 0.02, "invalid", "ok")
        correct = good | (rng.random(half) < 0.4)
        cost = rng.gamma(2.0, 0.0015, half)
        cost[rng.random(half) < 0.001] = np.nan  # some unknown prices
        reasons = [[] if g else ["price.missed_legacy_discount"] for g in good.tolist()]
        frames.append(pd.DataFrame({
            "run_id": "bench", "config": cfg, "case_id": case_ids, "segment": segment, "variant": "base",
            "status": status, "action": "approve", "expected_action": "approve",
            "deferred": rng.random(half) < 0.08, "correct": correct, "good": good, "reasons": reasons,
            "confidence": rng.random(half), "total_tokens": rng.integers(800, 4000, half),
            "cost_usd": cost, "cache_hit": False, "attempts": 1, "simulated": True,
        }))
    return pd.concat(frames, ignore_index=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)

    t0 = time.perf_counter()
    outputs = make_outputs(args.rows, rng)
    scores = make_scores(args.rows, rng)
    tmp = Path(tempfile.mkdtemp(prefix="bench_score_"))
    scores.to_parquet(tmp / "scores.parquet", index=False)
    del scores
    setup_s = time.perf_counter() - t0
    print(f"setup (not timed): {args.rows:,} outputs + scores.parquet in {setup_s:.1f} s, rss {_peak_mb():.0f} MB")

    phases: dict[str, float] = {}
    cpu0 = time.process_time()
    load0 = os.getloadavg()[0]
    t = time.perf_counter()
    # One-off library imports (statsmodels/scipy, loaded lazily by the first interval)
    # are real cost of a fresh process: time them rather than hide them in setup.
    import statsmodels.stats.contingency_tables
    import statsmodels.stats.multitest
    import statsmodels.stats.proportion  # noqa: F401
    phases["imports"] = time.perf_counter() - t
    t = time.perf_counter()
    # The runner consumes each result into columns; it does not keep 1M result objects.
    n_invalid = 0
    for text in outputs:
        if parse_decision(text, BenchDecision).decision is None:
            n_invalid += 1
    phases["parse"] = time.perf_counter() - t
    del outputs

    t = time.perf_counter()
    table = read_scores(tmp)
    phases["read"] = time.perf_counter() - t

    t = time.perf_counter()
    agg = aggregate(table)
    summary = summary_dict(agg)
    json.dumps(summary, allow_nan=False)
    phases["aggregate"] = time.perf_counter() - t

    t = time.perf_counter()
    comp = compare(table, table, base_config="full", cand_config="no_legacy_clause")
    comp_dict = comparison_to_dict(comp, max_flips=1000)
    phases["compare"] = time.perf_counter() - t

    total = sum(phases.values())
    cpu = time.process_time() - cpu0
    peak = _peak_mb()
    for name, secs in phases.items():
        print(f"  {name:<10} {secs:7.2f} s")
    print(f"rows {len(table):,}; invalid outputs {n_invalid:,}; aggregate rows {len(agg)}; "
          f"paired {comp.n_paired:,}; flips {len(comp.flips):,}; "
          f"significant regressions (synthetic, legacy_pricing planted) {comp_dict['outcomes']['good']['significant_regressions']}")
    print(f"cpu time {cpu:.2f} s; load average {load0:.1f} -> {os.getloadavg()[0]:.1f} on {os.cpu_count()} cpus "
          "(wall time is inflated when other processes compete for the cpus)")
    ok_t, ok_m = total < TARGET_S, peak < TARGET_MB
    print(f"time   {total:6.2f} s  target {TARGET_S:.0f} s   ratio {total / TARGET_S:.2f}  {'PASS' if ok_t else 'MISS'}")
    print(f"memory {peak:6.0f} MB target {TARGET_MB:.0f} MB ratio {peak / TARGET_MB:.2f}  {'PASS' if ok_m else 'MISS'}")
    (tmp / "scores.parquet").unlink()
    tmp.rmdir()
    return 0 if ok_t and ok_m else 1


if __name__ == "__main__":
    raise SystemExit(main())
