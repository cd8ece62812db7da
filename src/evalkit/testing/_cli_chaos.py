"""kill -9 / resume cycles through the CLI: ``evalkit run`` and then ``evalkit run --resume RUN_ID``
are killed with SIGKILL while calls are in flight, again and again, then one resume finishes
the run. What a user would check afterwards: the run is complete, every planned call has
exactly one result row, and the manifest's recorded + possibly billed spend covers what the
loopback server billed. Used by ``tests/run/test_kill_cycles.py`` and
``bench/bench_cli_kill_resume.py``.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROUTES = {  # route -> (provider, model the loopback server answers as, which base url)
    "openai": ("openai", "large", "openai"),
    "anthropic": ("anthropic", "large", "anthropic"),
    "litellm": ("litellm", "openai/large", "openai"),
}
PRICE = {"input": 2.5, "output": 10.0}  # $ per million tokens, as the suite states it


@dataclass(frozen=True, kw_only=True)
class CliChaosResult:
    cycles: int
    kills: int
    """Processes actually killed mid-run (a cycle whose process finished first kills nothing)."""
    planned: int
    rows: int
    unique_rows: int
    status: str
    recorded_usd: float
    possibly_billed_usd: float
    server_billed_usd: float
    repeated_requests: int


def write_suite(folder: Path, server: Any, *, route: str, limit: int, prompt: Path) -> Path:
    provider, model, which = ROUTES[route]
    url = server.openai_base_url if which == "openai" else server.anthropic_base_url
    (folder / "prompts").mkdir(parents=True, exist_ok=True)
    (folder / "prompts" / "p.j2").write_bytes(prompt.read_bytes())
    suite = folder / "suite.yaml"
    suite.write_text(f"""name: cli-chaos
dataset: upgrades@v1
seed: 3
sample: {{limit: {limit}, seed: 1}}
execution: {{concurrency: 8, max_attempts: 4, timeout_s: 5, max_error_share: 1.0}}
configs:
  - name: c
    provider: {provider}
    model: {model}
    prompt: prompts/p.j2
    params: {{temperature: 0, max_tokens: 300}}
    price: {{input: {PRICE["input"]}, output: {PRICE["output"]}}}
    options: {{base_url: "{url}", api_key_env: EVALKIT_CHAOS_KEY}}
""", encoding="utf-8")
    return suite


def _journal_lines(reports: Path) -> tuple[str | None, int]:
    runs = sorted(p for p in reports.glob("*/journal.jsonl")) if reports.is_dir() else []
    if not runs:
        return None, 0
    return runs[0].parent.name, runs[0].read_bytes().count(b"\n")


def cli_kill_cycles(server: Any, folder: Path, *, route: str, cycles: int, limit: int, prompt: Path,
                    seed: int = 0, env: dict[str, str] | None = None) -> CliChaosResult:
    """Kill ``cycles`` CLI processes mid-run (the first ``evalkit run``, then ``--resume``), finish, check."""
    rng = random.Random(seed)
    folder = Path(folder)
    suite = write_suite(folder, server, route=route, limit=limit, prompt=prompt)
    reports = folder / "reports"
    child_env = {**os.environ, "EVALKIT_CHAOS_KEY": "sk-test-chaos-0000", **(env or {})}
    base = [sys.executable, "-m", "evalkit.cli.main", "run"]
    tail = ["--reports", str(reports), "--quiet", "--no-cache"]
    kills = 0
    for _ in range(cycles):
        run_id, before = _journal_lines(reports)
        cmd = base + (["--resume", run_id] if run_id else [str(suite)]) + tail
        child = subprocess.Popen(cmd, cwd=folder, env=child_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        target = before + rng.randint(3, 12)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and child.poll() is None and _journal_lines(reports)[1] < target:
            time.sleep(0.005)
        if child.poll() is None:
            os.kill(child.pid, signal.SIGKILL)
            kills += 1
        child.wait(30)
    run_id, _ = _journal_lines(reports)
    cmd = base + (["--resume", run_id] if run_id else [str(suite)]) + tail
    last = subprocess.run(cmd, cwd=folder, env=child_env, capture_output=True, text=True, timeout=600, check=False)
    if last.returncode != 0:
        raise AssertionError(f"the final resume failed ({last.returncode}): {last.stderr[-2000:]}")
    return _account(server, reports, cycles=cycles, kills=kills, limit=limit)


def _account(server: Any, reports: Path, *, cycles: int, kills: int, limit: int) -> CliChaosResult:
    import pyarrow.parquet as pq

    from evalkit.pricing import call_cost, lookup_price
    from evalkit.providers import Usage

    (run_dir,) = [p for p in reports.iterdir() if p.is_dir()]
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    rows = pq.read_table(run_dir / "results.parquet", columns=["config", "case_id", "sample_index"]).to_pylist()
    counts = manifest.get("counts") or {}
    price = lookup_price("chaos", PRICE)
    billed = sum(call_cost(Usage(**h.billed), price) or 0.0 for h in server.log if h.billed)
    return CliChaosResult(
        cycles=cycles, kills=kills, planned=limit, rows=len(rows),
        unique_rows=len({(r["config"], r["case_id"], r["sample_index"]) for r in rows}),
        status=str(manifest.get("status")), recorded_usd=float(counts.get("recorded_usd") or 0.0),
        possibly_billed_usd=float(counts.get("possibly_billed_usd") or 0.0), server_billed_usd=billed,
        repeated_requests=sum(1 for n in server.hits.values() if n > 1))
