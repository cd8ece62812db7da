#!/usr/bin/env python
"""Benchmark: generate 100,000 upgrade cases and publish them as parquet.

Target (issue 2): under 30 s on the 2-core reference machine, generation plus the
parquet write (canonical JSON, zstd, sha256, manifest) into a throwaway store, the way
``evalkit dataset generate`` does it (``evalkit.dataset.Generated``: a task that generates
ranges is generated, validated and serialised on every core, in order).

    .venv/bin/python bench/bench_generate.py [--n 100000] [--seed 7] [--target 30] [--task upgrades]

Prints wall time, cases/s, the generator's own cost per case on one core (measured on the
first 2,000 cases, for context), the ratio to the target and PASS/MISS. Exits 1 on MISS,
like every bench (``make bench`` lists it).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

SAMPLE = 2000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--target", type=float, default=30.0, help="seconds")
    parser.add_argument("--task", default="upgrades")
    args = parser.parse_args(argv)

    from evalkit.dataset import Generated, load_dataset, write_dataset
    from evalkit.tasks import get_task

    task = get_task(args.task)
    sample = min(SAMPLE, args.n)
    start = time.perf_counter()
    for _ in task.generate(sample, args.seed):
        pass
    per_case = (time.perf_counter() - start) / sample
    with tempfile.TemporaryDirectory(prefix="evalkit-bench-") as store:
        start = time.perf_counter()
        folder = write_dataset(Generated(task=task, n=args.n, seed=args.seed), name="bench", version="v1",
                               task=task, description="benchmark", store=store,
                               generator={"task": task.name, "n": args.n, "seed": args.seed})
        total = time.perf_counter() - start
        size = (Path(folder) / "cases.parquet").stat().st_size
        load_start = time.perf_counter()
        rows = len(load_dataset(folder))  # hash-checked read, for context
        load = time.perf_counter() - load_start

    rate = args.n / total if total else float("inf")
    ratio = total / args.target
    verdict = "PASS" if total <= args.target else "MISS"
    print(f"task={task.name} n={args.n:,} seed={args.seed} cpus={os.cpu_count()} python={sys.version.split()[0]}")
    print(f"generator alone, one core: {per_case * 1e3:.2f} ms/case (first {sample:,} cases)")
    print(f"generate+validate+write {total:8.2f} s   {rate:,.0f} cases/s ({size / 1e6:.1f} MB parquet, {rows:,} rows)")
    print(f"hash-checked load {load:6.2f} s")
    print(f"target {args.target:.0f} s: ratio {ratio:.2f} -> {verdict}")
    return 1 if verdict == "MISS" else 0


if __name__ == "__main__":
    sys.exit(main())
