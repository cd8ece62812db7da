"""``evalkit --help`` wall time with PYTHONDONTWRITEBYTECODE=1 (target <= 0.3 s).

Depends on every CLI module importing only typer and the standard library at module
level, and on bytecode compiled at install (``uv pip install --compile-bytecode``, plus
``compileall`` for the editable source: see the Makefile), because machines that set
PYTHONDONTWRITEBYTECODE never write .pyc files themselves. The script also lists heavy
modules that got imported, to point at the culprit, and the child's CPU time, which a
loaded machine inflates far less than wall time.

    .venv/bin/python bench/bench_cli_startup.py [--runs 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

TARGET_S = 0.3

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
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    subprocess.run(cmd, capture_output=True, check=False, env=env)  # warm the page cache
    times, cpu = [], []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        times.append(time.perf_counter() - t0)
        cpu.append(usage.ru_utime + usage.ru_stime)
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"evalkit --help failed: {proc.stderr.read().decode()[-2000:]}")
    probe = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=False, env=env)
    heavy = next((ln.split(" ", 1)[1] for ln in probe.stdout.splitlines() if ln.startswith("HEAVY")), "?")
    median = statistics.median(times)
    print(f"evalkit --help (PYTHONDONTWRITEBYTECODE=1): median {median:.3f}s, min {min(times):.3f}s over "
          f"{args.runs} runs (target <= {TARGET_S} s, ratio {median / TARGET_S:.2f})  "
          f"{'PASS' if median <= TARGET_S else 'MISS'}")
    print(f"  CPU time per run: median {statistics.median(cpu):.3f}s (wall minus this is waiting for a core)")
    print(f"heavy modules imported by --help: {heavy or 'none'}")


if __name__ == "__main__":
    main()
