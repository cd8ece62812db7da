"""Executor benchmarks against the loopback server (run in its own process).

1. Throughput through the openai SDK at a fixed server latency: evalkit's executor
   (limiter, retry loop, records; cache off) vs a bare asyncio loop over the same SDK
   client with the same concurrency. Target ratio >= 0.9.
2. Under a server-enforced tokens-per-minute limit, with the executor's TPM limiter set
   to the same limit: share of the limit used in steady state (target >= 0.9) and share
   of calls answered 429 (target <= 2%).

    .venv/bin/python bench/bench_executor.py [--calls 1500] [--concurrency 64] [--latency 0.02]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import random
import subprocess
import sys
import time
import urllib.request


def start_server(*extra: str) -> tuple[subprocess.Popen, int]:
    proc = subprocess.Popen([sys.executable, "-m", "evalkit.testing", *extra], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    if not line.startswith("PORT "):
        raise SystemExit(f"loopback server did not start: {line!r}")
    return proc, int(line.split()[1])


def stop_server(proc: subprocess.Popen) -> None:
    proc.stdin.close()
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()


def server_call(port: int, path: str, method: str = "GET") -> dict:
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method, data=b"" if method == "POST" else None)
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


def planned(n: int, tag: str, words: int = 8):
    from evalkit.providers._base import Message, ModelRequest
    from evalkit.run._records import PlannedCall
    from evalkit.testing import echo_responder

    calls = []
    filler = " ".join(["policy"] * words)
    for i in range(n):
        req = ModelRequest(provider="openai", model="bench-model",
                           messages=(Message(role="system", content=f"Decide upgrade requests. {filler}"),
                                     Message(role="user", content=f"{tag} case {i}: add {i % 9 + 1} seats")),
                           params={"temperature": 0, "max_tokens": 100})
        usage = echo_responder(req).usage
        calls.append(PlannedCall(config="bench", case_id=f"{tag}-{i}", segment="s", sample_index=0, request=req,
                                 est_input_tokens=usage.input_tokens, est_output_tokens=usage.output_tokens))
    return calls


async def bare_loop(provider, calls, concurrency: int) -> float:
    """The baseline: a semaphore-bounded gather over the same SDK client and payloads."""
    client = provider._get_client()
    sem = asyncio.Semaphore(concurrency)

    async def one(call):
        async with sem:
            resp = await client.chat.completions.create(**provider._kwargs(call.request))
            return resp.choices[0].message.content

    t0 = time.perf_counter()
    await asyncio.gather(*(one(c) for c in calls))
    return time.perf_counter() - t0


async def via_executor(provider, calls, concurrency: int, run_dir=None, cache_mode="off", **opts) -> tuple[float, list]:
    from evalkit.run._executor import execute
    from evalkit.run._records import ExecutionOptions

    options = ExecutionOptions(concurrency=concurrency, cache_mode=cache_mode, progress=False, **opts)
    t0 = time.perf_counter()
    recs = await execute(calls, providers={"bench": provider}, prices={}, options=options, run_dir=run_dir)
    return time.perf_counter() - t0, recs


async def throughput(port: int, n: int, concurrency: int) -> tuple[float, float, float]:
    import os
    import tempfile

    from evalkit.providers._openai import OpenAIProvider

    provider = OpenAIProvider(base_url=f"http://127.0.0.1:{port}/v1")
    await bare_loop(provider, planned(200, "warm"), concurrency)  # imports, connection pool
    best_bare = best_exec = best_full = float("inf")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["EVALKIT_HOME"] = tmp  # a private, cold response cache
        for round_ in range(3):  # interleaved, best of 3: the machine may be shared
            best_bare = min(best_bare, await bare_loop(provider, planned(n, f"b{round_}"), concurrency))
            elapsed, recs = await via_executor(provider, planned(n, f"e{round_}"), concurrency)
            assert all(r.status == "ok" for r in recs)
            best_exec = min(best_exec, elapsed)
            elapsed, recs = await via_executor(provider, planned(n, f"f{round_}"), concurrency,
                                               run_dir=f"{tmp}/run{round_}", cache_mode="read-write")
            assert all(r.status == "ok" for r in recs)
            best_full = min(best_full, elapsed)
    await provider.aclose()
    return n / best_bare, n / best_exec, n / best_full


async def tpm_run(port: int, tpm: float, seconds: float, concurrency: int, noise: float) -> dict:
    from evalkit.providers._openai import OpenAIProvider

    provider = OpenAIProvider(base_url=f"http://127.0.0.1:{port}/v1")
    calls = planned(int(tpm / 60 * seconds / 300) + 50, f"tpm{noise}", words=200)
    rng = random.Random(7)
    if noise:  # estimates off by up to +-noise: the limiter corrects with the actual usage
        calls = [dataclasses.replace(c, est_input_tokens=int(c.est_input_tokens * rng.uniform(1 - noise, 1 + noise)))
                 for c in calls]
    await provider.complete(planned(1, "warm")[0].request)
    server_call(port, "/_reset", "POST")
    t0 = time.monotonic()
    elapsed, recs = await via_executor(provider, calls, concurrency, tokens_per_minute=tpm)
    stats = server_call(port, "/_stats")
    await provider.aclose()
    served = stats["served"]
    start = served[0][0] if served else t0
    # steady state: skip the first 2 s (the server's initial burst allowance)
    window = [tok for ts, tok in served if ts >= start + 2.0]
    steady_s = (served[-1][0] - (start + 2.0)) if served else 0
    return {
        "calls": len(recs), "failed": sum(r.status != "ok" for r in recs), "elapsed_s": elapsed,
        "requests": stats["requests"], "rejected_429": stats["statuses"].get("429", 0),
        "used_share": sum(window) / (tpm / 60 * steady_s) if steady_s > 0 else float("nan"),
    }


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=1500)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--latency", type=float, default=0.02)
    ap.add_argument("--tpm", type=float, default=600_000)
    ap.add_argument("--seconds", type=float, default=10.0)
    args = ap.parse_args()

    proc, port = start_server("--latency", str(args.latency))
    try:
        bare, ours, full = asyncio.run(throughput(port, args.calls, args.concurrency))
    finally:
        stop_server(proc)
    ratio = ours / bare
    print(f"throughput  latency={args.latency * 1000:.0f}ms concurrency={args.concurrency} calls={args.calls}")
    print(f"  bare asyncio loop over openai SDK : {bare:8.1f} calls/s")
    print(f"  evalkit executor (cache off)      : {ours:8.1f} calls/s")
    print(f"  ratio {ratio:.3f} (target >= 0.9)  {verdict(ratio >= 0.9)}")
    print(f"  info: with journal + cold read-write cache: {full:8.1f} calls/s (ratio {full / bare:.3f})")

    for noise in (0.0, 0.2):
        proc, port = start_server("--tpm", str(args.tpm), "--tpm-burst", "2")
        try:
            r = asyncio.run(tpm_run(port, args.tpm, args.seconds, args.concurrency, noise))
        finally:
            stop_server(proc)
        share_429 = r["rejected_429"] / max(r["requests"], 1)
        print(f"tpm limit {args.tpm:.0f}/min, estimates within +-{noise:.0%}: {r['calls']} calls in "
              f"{r['elapsed_s']:.1f}s, {r['failed']} failed")
        print(f"  share of limit used (steady state): {r['used_share']:.3f} (target >= 0.9)  "
              f"{verdict(r['used_share'] >= 0.9)}")
        print(f"  share of requests answered 429    : {share_429:.3%} (target <= 2%)  {verdict(share_429 <= 0.02)}")


if __name__ == "__main__":
    main()
