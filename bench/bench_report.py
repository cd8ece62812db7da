"""Benchmark: HTML report for 5 configurations x 10,000 cases must build in < 10 s and
weigh < 10 MB. Standalone: `python bench/bench_report.py [--cases N] [--configs K]`.

Imports (pandas, matplotlib, jinja2, statsmodels) are warmed first and timed
separately: they are a per-process cost, not report generation, and this tree runs
with PYTHONDONTWRITEBYTECODE, which makes them slow and noisy.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

TIME_TARGET_S = 10.0
SIZE_TARGET_MB = 10.0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=10_000)
    ap.add_argument("--configs", type=int, default=5)
    ap.add_argument("--keep", type=Path, default=None, help="Write the report here instead of a temp dir.")
    args = ap.parse_args()

    t0 = time.perf_counter()
    import matplotlib  # noqa: F401
    import pandas  # noqa: F401
    import statsmodels.stats.proportion  # noqa: F401

    from evalkit.report import build_report
    from evalkit.testing import write_synthetic_run

    import_s = time.perf_counter() - t0

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        configs = {f"config-{i}": {"noise_seed": 100 + i, "shift": {"legacy_discount": -0.05 * (i % 3)},
                                   "cost_scale": 1 + 0.2 * i, "model": f"sim-{i}"}
                   for i in range(args.configs)}
        t1 = time.perf_counter()
        run = write_synthetic_run(root / "run", run_id="20261121-130000-bench-000000", configs=configs,
                                  n_cases=args.cases, xss_case=True)
        synth_s = time.perf_counter() - t1
        out = args.keep or root / "report.html"
        t2 = time.perf_counter()
        build_report([run], out=out)
        build_s = time.perf_counter() - t2
        size_mb = out.stat().st_size / 1e6

    ok_time, ok_size = build_s < TIME_TARGET_S, size_mb < SIZE_TARGET_MB
    print(f"report bench: {args.configs} configurations x {args.cases:,} cases")
    print(f"  imports (warm-up, not counted): {import_s:6.2f} s")
    print(f"  synthetic run folder (not counted): {synth_s:6.2f} s")
    print(f"  build_report: {build_s:6.2f} s  target < {TIME_TARGET_S:.0f} s  "
          f"ratio {build_s / TIME_TARGET_S:.2f}  {'PASS' if ok_time else 'MISS'}")
    print(f"  file size:    {size_mb:6.2f} MB target < {SIZE_TARGET_MB:.0f} MB "
          f"ratio {size_mb / SIZE_TARGET_MB:.2f}  {'PASS' if ok_size else 'MISS'}")
    return 0 if ok_time and ok_size else 1


if __name__ == "__main__":
    sys.exit(main())
