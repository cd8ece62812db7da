"""kill -9 / resume cycles against the loopback server, for the engine's tests and
``bench/bench_kill_resume.py``.

A child process runs ``execute`` with a journal against the server (real openai SDK,
injected faults); the parent kills it with SIGKILL while calls are in flight, again and
again, then lets a last child finish. ``cycle_kills`` returns what a user would check:
lost calls, calls recorded twice, and the spend the journal accounts for (recorded +
possibly billed) against what the server billed.

Every SDK route runs: ``route`` is ``openai``, ``anthropic`` or ``litellm`` (its openai/
route), each through the real SDK against the same server.

    python -m evalkit.testing._chaos PORT RUN_DIR N_CALLS [ROUTE]     # the child
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PRICE_MODEL = "gpt-4o-mini"
ROUTES = {  # route -> (provider, model as the SDK names it, the model whose price it is billed at)
    "openai": ("openai", "gpt-4o-mini", "gpt-4o-mini"),
    "anthropic": ("anthropic", "claude-haiku-4-5", "claude-haiku-4-5"),
    "litellm": ("litellm", "openai/gpt-4o-mini", "gpt-4o-mini"),
}


def route_provider(route: str, port: int, *, timeout_s: float) -> Any:
    """The route's real-SDK provider pointed at the loopback server on ``port``."""
    from evalkit.providers import create_provider

    base = f"http://127.0.0.1:{port}"
    return create_provider(ROUTES[route][0], base_url=base if route == "anthropic" else base + "/v1",
                           timeout_s=timeout_s)


def planned_calls(n: int, *, tag: str = "chaos-", max_tokens: int = 200, route: str = "openai") -> list[Any]:
    from evalkit.providers import Message, ModelRequest, estimate_input_tokens
    from evalkit.run import PlannedCall

    calls = []
    for i in range(n):
        messages = (Message(role="system", content="Decide the upgrade request."),
                    Message(role="user", content=f"case {tag}{i}: customer asks to upgrade plan {i % 7}"))
        req = ModelRequest(provider=ROUTES[route][0], model=ROUTES[route][1], messages=messages,
                           params={"temperature": 0, "max_tokens": max_tokens}, template_version="t1")
        est = estimate_input_tokens(m.content for m in messages)
        calls.append(PlannedCall(config="cfg", case_id=f"case-{i:04d}", segment=f"seg{i % 3}", sample_index=0,
                                 request=req, est_input_tokens=est, est_output_tokens=40, max_output_tokens=max_tokens))
    return calls


async def _child(port: int, run_dir: Path, n: int, route: str = "openai") -> None:
    from evalkit.pricing import lookup_price
    from evalkit.run import ExecutionOptions, RetryPolicy, execute

    prov = route_provider(route, port, timeout_s=0.5)
    try:
        await execute(planned_calls(n, route=route), providers={"cfg": prov}, prices={"cfg": lookup_price(ROUTES[route][2])},
                      run_dir=run_dir, retry_policy=RetryPolicy(base_s=0.005, cap_s=0.05),
                      options=ExecutionOptions(concurrency=8, max_attempts=4, timeout_s=0.5, max_error_share=1.0,
                                               cache_mode="off", progress=False))
    finally:
        await prov.aclose()


@dataclass(frozen=True, kw_only=True)
class ChaosResult:
    cycles: int
    planned: int
    recorded: int
    lost: int
    duplicates: int
    recorded_usd: float
    possibly_billed_usd: float
    server_billed_usd: float
    repeated_requests: int
    """Requests the server saw more than once (retries and calls re-sent after a kill)."""


def _lines(journal: Path) -> int:
    try:
        return journal.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def cycle_kills(server: Any, run_dir: Path, *, cycles: int, n_calls: int, seed: int = 0,
                env: dict[str, str] | None = None, route: str = "openai") -> ChaosResult:
    """Kill ``cycles`` children mid-run, let one more finish, and account for everything."""
    from evalkit.pricing import call_cost, lookup_price
    from evalkit.providers import Usage
    from evalkit.run import JOURNAL_NAME, SpendLedger, read_journal_state

    rng = random.Random(seed)
    journal = Path(run_dir) / JOURNAL_NAME
    child_env = {**os.environ, **(env or {})}
    cmd = [sys.executable, "-m", "evalkit.testing._chaos", str(server.port), str(run_dir), str(n_calls), route]
    for _ in range(cycles):
        before = _lines(journal)
        child = subprocess.Popen(cmd, env=child_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        target = before + rng.randint(4, 24)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and child.poll() is None and _lines(journal) < target:
            time.sleep(0.005)
        if child.poll() is None:
            os.kill(child.pid, signal.SIGKILL)
        child.wait(30)
    last = subprocess.run(cmd, check=False, env=child_env, capture_output=True, text=True, timeout=300)
    if last.returncode != 0:
        raise AssertionError(f"the final resume failed ({last.returncode}): {last.stderr[-2000:]}")

    state = read_journal_state(journal)
    record_lines = Counter()
    for raw in journal.read_text().splitlines():
        if raw.startswith('{"attempt"'):
            continue
        import json

        data = json.loads(raw)
        record_lines[(data["config"], data["case_id"], data["sample_index"])] += 1
    price = lookup_price(ROUTES[route][2])
    ledger = SpendLedger(prices={"cfg": price})
    ledger.add_prior(state.records.values(), [(k[0], a.worst_usd) for k, s in state.orphans.items() for a in s])
    billed = sum(call_cost(Usage(**h.billed), price) or 0.0 for h in server.log if h.billed)
    planned = {c.key for c in planned_calls(n_calls, route=route)}
    return ChaosResult(cycles=cycles, planned=len(planned), recorded=len(state.records),
                       lost=len(planned - set(state.records)), duplicates=sum(n - 1 for n in record_lines.values()),
                       recorded_usd=ledger.spent, possibly_billed_usd=ledger.possibly_billed,
                       server_billed_usd=billed, repeated_requests=sum(1 for n in server.hits.values() if n > 1))


if __name__ == "__main__":
    asyncio.run(_child(int(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]), *sys.argv[4:5]))
