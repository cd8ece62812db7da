"""``evalkit --help`` wall time (target < 0.5 s).

Depends on every CLI module importing only typer and the standard library at module
level; the script also lists heavy modules that got imported, to point at the culprit.

    .venv/bin/python bench/bench_cli_startup.py [--runs 7]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

HEAVY = ("pandas", "numpy", "sklearn", "scipy", "matplotlib", "openai", "anthropic", "litellm", "pyarrow",
         "aiohttp", "httpx", "pydantic", "jinja2", "tiktoken", "rich.progress")

PROBE = (
    "import sys\n"
    "sys.argv = ['evalkit', '--help']\n"
    "from evalkit.cli.main import app\n"
    "try:\n    app()\nexcept SystemExit:\n    pass\n"
    f"print('HEAVY', ','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    cmd = [sys.executable, "-m", "evalkit.cli.main", "--help"]
    subprocess.run(cmd, capture_output=True, check=False)  # warm the .pyc files and the page cache
    times = []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        times.append(time.perf_counter() - t0)
        if proc.returncode != 0:
            raise SystemExit(f"evalkit --help failed ({proc.returncode}): {proc.stderr[-2000:]}")
    probe = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=False)
    heavy = next((ln.split(" ", 1)[1] for ln in probe.stdout.splitlines() if ln.startswith("HEAVY")), "?")
    median = statistics.median(times)
    print(f"evalkit --help: median {median:.3f}s, min {min(times):.3f}s over {args.runs} runs "
          f"(target < 0.5 s, ratio {median / 0.5:.2f})  {'PASS' if median < 0.5 else 'MISS'}")
    print(f"heavy modules imported by --help: {heavy or 'none'}")


if __name__ == "__main__":
    main()
