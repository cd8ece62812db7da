"""Benchmark: scoring 1,000,000 synthetic case-results in < 20 s and < 2 GB.

What is measured (all of it actually done, nothing extrapolated):
  1. parse+rubric - (``evalkit.score.judge_outputs``, the runner's path: forked workers
                 for large batches) ``parse_decision`` into the upgrades ``Decision`` on every one of the N
                 model outputs (a realistic mix: bare JSON, fenced JSON with prose,
                 tool-call envelopes, truncated and garbage answers), then the task's
                 correctness/goodness rubric (``task.score``) against its real case;
  2. read      - reading the N-row ``scores.parquet`` back from a run folder;
  3. aggregate - ``aggregate()`` per config x segment (+ ALL) and ``summary_dict()``;
  4. compare   - paired ``compare()`` of the two configs (N/2 pairs, both outcomes, flips)
                 and ``comparison_to_dict()``.
The N outputs answer 2,000 real generated cases round-robin (the reviewed decision, a
missed discount, a wrong action, a thin message...), so the rubric does real work.

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
from pathlib import Path

import numpy as np
import pandas as pd

from evalkit.runs import RunFolder
from evalkit.score import aggregate, compare, comparison_to_dict, summary_dict

TARGET_S = 20.0
TARGET_MB = 2048.0
SEGMENTS = ("routine", "legacy_pricing", "open_dispute", "promotion_end", "injected_instruction",
            "seat_reduction", "undocumented_exception", "mid_cycle_change")


class PssSampler:
    """Peak of the summed PSS (proportional set size) of this process and its children,
    sampled from /proc every 250 ms. PSS counts pages shared copy-on-write with forked
    workers once, so the sum is the real memory the machine gives the job (Linux only)."""

    def __init__(self) -> None:
        import threading

        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "PssSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(0.25):
            self.peak_kb = max(self.peak_kb, self._total_kb())

    @staticmethod
    def _total_kb() -> int:
        from evalkit.testing import child_pids, pss_kb

        me = os.getpid()
        return sum(pss_kb(pid) for pid in [me, *child_pids(me)])



def _peak_mb() -> float:
    # ru_maxrss is KiB on Linux, bytes on macOS.
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024


def make_outputs(n: int, rng: np.random.Generator, cases: list) -> list[str]:
    """Model outputs for real cases: right, wrong in a known way, thin, or malformed."""
    variants = []
    for case in cases:
        base = case.reviewed.model_dump(mode="json")
        full = dict(base, message="Your new recurring price is $%s. Today we will charge $%s. It takes effect on %s."
                    % (base.get("new_recurring_price"), base.get("prorated_charge_today"), base.get("effective_date")),
                    confidence=0.9)
        wrong = dict(full, action="approve" if base["action"] != "approve" else "deny", confidence=0.8)
        thin = dict(full, message="Done.", confidence=0.95)
        body = [json.dumps(v) for v in (full, wrong, thin)]
        variants.append(body)
    shape = rng.choice(6, size=n, p=[0.55, 0.15, 0.12, 0.08, 0.05, 0.05])
    out: list[str] = []
    for i, k in enumerate(shape.tolist()):
        right, wrong, thin = variants[i % len(variants)]
        if k == 0:
            out.append(right)
        elif k == 1:
            out.append(f"Here is my decision.\n```json\n{wrong}\n```\nI checked the legacy discount.")
        elif k == 2:
            out.append(json.dumps({"name": "submit_decision", "arguments": thin}))
        elif k == 3:
            out.append(right + "\n\nLet me know if you need anything else.")
        elif k == 4:
            out.append(right[: len(right) // 2])  # truncated at max_tokens
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
    from evalkit.score import judge_outputs
    from evalkit.tasks.upgrades import task

    cases = list(task.generate(2000, 1))
    outputs = make_outputs(args.rows, rng, cases)
    scores = make_scores(args.rows, rng)
    tmp = Path(tempfile.mkdtemp(prefix="bench_score_"))
    scores.to_parquet(tmp / "scores.parquet", index=False)
    del scores
    setup_s = time.perf_counter() - t0
    print(f"setup (not timed): {args.rows:,} outputs + scores.parquet in {setup_s:.1f} s, rss {_peak_mb():.0f} MB")

    phases: dict[str, float] = {}
    cpu0 = time.process_time()
    sampler = PssSampler()
    sampler.__enter__()
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
    # The runner's own path: parse + rubric, in forked workers for large batches.
    case_map = {c.case_id: c for c in cases}
    ids = [c.case_id for c in cases]
    items = [(ids[i % len(ids)], text, True) for i, text in enumerate(outputs)]
    judged = judge_outputs(task, case_map, items)
    n_invalid = sum(j.status != "ok" for j in judged)
    n_good = sum(j.good for j in judged)
    del items, judged
    phases["parse+rubric"] = time.perf_counter() - t
    del outputs

    t = time.perf_counter()
    table = RunFolder(path=tmp).scores
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
    sampler.__exit__(None, None, None)
    parent = _peak_mb()
    peak = max(parent, sampler.peak_kb / 1024) if sampler.peak_kb else parent
    print(f"peak memory: {peak:.0f} MB (summed PSS of this process and its workers; parent max RSS {parent:.0f} MB)")
    for name, secs in phases.items():
        print(f"  {name:<13} {secs:7.2f} s")
    print(f"rows {len(table):,}; invalid outputs {n_invalid:,}; good {n_good:,}; aggregate rows {len(agg)}; "
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
