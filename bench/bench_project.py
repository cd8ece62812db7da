"""Benchmark: projection over 1,000,000 case-results with 1,000 bootstrap resamples (target < 30 s).

Run: .venv/bin/python bench/bench_project.py [--rows N] [--configs K] [--resamples B]
Times ``project_run`` end to end (parquet read, bootstrap, curve, cost tail, Monte Carlo, one
context-cap what-if, atomic JSON write) on a synthetic scores.parquet; data generation is not timed.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

TARGET_S = 30.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="case-results in total (all configs)")
    parser.add_argument("--configs", type=int, default=2)
    parser.add_argument("--resamples", type=int, default=1000)
    args = parser.parse_args()

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "project"))
    from project_synth import MIX, SEGMENTS, make_scores, write_run

    from evalkit.economics import EconomicsSpec
    from evalkit.project import ContextCap, ProjectionSpec, project_run

    configs = tuple(f"cfg{i}" for i in range(args.configs))
    per_scale = sum(s[0] for s in SEGMENTS.values()) * len(configs)
    scale = max(1, round(args.rows / per_scale))
    t0 = time.perf_counter()
    df = make_scores(0, configs=configs, scale=scale)
    with tempfile.TemporaryDirectory() as tmp:
        run = write_run(Path(tmp), df, manifest={"run_id": "bench", "configs": [
            {"name": c, "price": {"input": 1e-6, "output": 4e-6, "source": "bench"}} for c in configs]})
        print(f"generated {len(df):,} rows x {len(df.columns)} columns ({len(configs)} configs) "
              f"in {time.perf_counter() - t0:.1f} s")
        spec = ProjectionSpec(volume_per_month=1_000_000, mix=MIX, resamples=args.resamples, seed=1,
                              context_caps=[ContextCap(turns=10)])
        t1 = time.perf_counter()
        result = project_run(run, spec=spec, economics=EconomicsSpec(), threshold=0.8)
        elapsed = time.perf_counter() - t1
    a = result.projection["configs"][configs[0]]
    print(f"{configs[0]}: automation {a['automation_rate']['value']:.3f} "
          f"[{a['automation_rate']['lo']:.3f}, {a['automation_rate']['hi']:.3f}], "
          f"tail/naive {a['monthly_cost']['tail_to_naive_ratio']:.2f}x")
    ratio = elapsed / TARGET_S
    verdict = "PASS" if elapsed < TARGET_S else "MISS"
    print(f"project_run: {len(df):,} case-results, {args.resamples} resamples: {elapsed:.2f} s "
          f"({ratio:.2f} of the {TARGET_S:.0f} s target) {verdict}")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    raise SystemExit(main())
