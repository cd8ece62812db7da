"""Benchmark: the sequential drop gate over many simulated comparisons.

Run: .venv/bin/python bench/bench_sequential.py [--reps N] [--seed S]
Prints the false-failure rate over N null comparisons (candidate = baseline in
distribution, monitored after every case) as a ratio to alpha (must be <= 1), and, under a
planted 60-point drop in one segment, the median share of cases sent before the gate
fails as a ratio to the 25% target (must be <= 1). Simulation model: tests/ci/seqsim.py.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ALPHA = 0.05
TARGET_SHARE = 0.25


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "ci"))
    from seqsim import false_failure_rate, stopping_share

    t0 = time.perf_counter()
    rates = [false_failure_rate(1000, seed=args.seed + i, alpha=ALPHA) for i in range(max(1, args.reps // 1000))]
    rate = float(np.mean(rates))
    n = 1000 * len(rates)
    se = (rate * (1 - rate) / n) ** 0.5
    print(f"null: {n:,} comparisons, false gate failures {rate:.4f} (±{1.96 * se:.4f}), alpha {ALPHA}: "
          f"ratio {rate / ALPHA:.2f} (<= 1 required)  [{time.perf_counter() - t0:.1f}s]")
    t1 = time.perf_counter()
    stops = stopping_share(1000, seed=args.seed, shift={"legacy_pricing": -0.6})
    median = float(np.median(stops))
    print(f"planted 60-point drop in one segment: median share of cases sent before FAIL {median:.3f}, "
          f"caught {(stops < 1).mean():.3f}; ratio to the {TARGET_SHARE:.0%} target {median / TARGET_SHARE:.2f}  "
          f"[{time.perf_counter() - t1:.1f}s]")
    return 0 if rate <= ALPHA and median <= TARGET_SHARE else 1


if __name__ == "__main__":
    sys.exit(main())
