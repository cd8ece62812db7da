"""The full ``evalkit run`` against the loopback server, as ratios to a bare openai-SDK asyncio loop.

Everything is measured in this run, on this machine, against the same loopback server
(``python -m evalkit.testing``, its own process, fixed latency), with the same 2,000 prompts:

* bare     : a separate process running a semaphore-bounded asyncio.gather over the openai SDK
             (interpreter start and ``import openai`` included, like the evalkit process)
* evalkit  : ``evalkit run SUITE --fresh --no-cache`` end to end (load and sample the dataset, render,
             execute, journal, score, write the tables, the console summary and the HTML report;
             with ``--stages`` also calibrate and project), once with the SDK transport and once
             with ``http_client: aiohttp``
* fixed    : the same evalkit run on 10 cases (what every run pays regardless of size), with each transport
* server   : the simulated brain, memoized and warmed by one untimed pass (``--memo``), so that the
             server process is never the bottleneck being measured
* transport: in-process request rate of the aiohttp transport vs the SDK loop at the same concurrency

CPU: the seconds of CPU each run used (its process, the helper processes it waited for, and the
loopback server meanwhile) over the machine's cores is a floor no wall time can go under: it shows
whether a target is reachable on this machine without doing less work.

Memory: the peak RSS of the largest process (what wait4 reports) and the peak PSS of the run's whole
process tree (its sender, planning, scoring and chart processes included; sampled every 50 ms), the
larger of the two against the target.

Targets (issue 11): wall <= 1.3x bare (SDK), <= 0.6x bare (aiohttp), peak memory <= 250 MB,
fixed overhead <= 2 s, aiohttp transport >= 2x the SDK loop's request rate.
Each timing is the best of ``--rounds`` interleaved rounds (the machine may be shared).

    .venv/bin/python bench/bench_end_to_end.py [--cases 2000] [--latency 0.05] [--concurrency 64] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_executor import start_server, stop_server

SUITE = """\
name: e2e-bench
task: upgrades
dataset: upgrades@v1
seed: 7
configs:
  - name: bench
    provider: openai
    model: large
    prompt: upgrade-v1.j2
    params: {{temperature: 0, max_tokens: 200}}
    options: {{base_url: "http://127.0.0.1:{port}/v1", http_client: {client}}}
execution: {{concurrency: {concurrency}}}
{stages}"""

STAGES = """\
calibration: {outcome: good, alpha: 0.1, delta: 0.1, mode: global}
projection:
  volume_per_month: 50000
  mix: {routine: 0.62, promotion: 0.08, legacy_pricing: 0.07, custom_contract: 0.06,
        undocumented_exception: 0.04, operational_context: 0.06, adversarial: 0.03, long_context: 0.04}
  resamples: 200
  seed: 7
"""

BARE = """\
import asyncio, json, sys, time
import openai

async def main(path, base_url, concurrency):
    bodies = json.load(open(path))
    client = openai.AsyncOpenAI(api_key="not-needed", base_url=base_url, max_retries=0, timeout=60)
    sem = asyncio.Semaphore(concurrency)

    async def one(body):
        async with sem:
            resp = await client.chat.completions.create(**body)
            return resp.choices[0].message.content

    out = await asyncio.gather(*(one(b) for b in bodies))
    await client.close()
    assert len(out) == len(bodies)

asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
"""


@dataclass(frozen=True, kw_only=True)
class Measured:
    wall: float
    """seconds"""
    rss: float
    """peak RSS of the largest process, MB"""
    pss: float
    """peak PSS of the whole process tree, MB (``tree_pss`` runs only, else 0)"""
    cpu: float
    """CPU seconds of the process, the children it waited for, and the loopback server meanwhile"""


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(cmd: list[str], env: dict[str, str], cwd: Path, ok: tuple[int, ...] = (0, 1), *,
            server_pid: int, tree_pss: bool = False) -> Measured:
    """One child process's wall time, memory and CPU; exit codes outside ``ok`` stop the bench. A run's sender, planning, scoring
    and chart processes count in the tree's PSS (pages they share copy-on-write count once). Reading
    PSS walks the page tables of every process, which slows them: ``tree_pss`` runs are never timed."""
    import threading

    from evalkit.testing import tree_pss_kb

    server_cpu = _cpu_seconds(server_pid)
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak_pss = [0.0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.05):
            peak_pss[0] = max(peak_pss[0], tree_pss_kb(proc.pid) / 1024)

    sampler = threading.Thread(target=sample, daemon=True)
    if tree_pss:
        sampler.start()
    _, status, usage = os.wait4(proc.pid, 0)
    done.set()
    if tree_pss:
        sampler.join()
    wall = time.perf_counter() - t0
    server_cpu = _cpu_seconds(server_pid) - server_cpu
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.returncode not in ok:
        raise SystemExit(f"{' '.join(cmd[:4])}... failed ({proc.returncode}):\n{err[-3000:]}")
    return Measured(wall=wall, rss=usage.ru_maxrss / 1024, pss=peak_pss[0],
                    cpu=usage.ru_utime + usage.ru_stime + server_cpu)


def write_suite(folder: Path, *, port: int, client: str, concurrency: int, stages: bool) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(REPO / "suites" / "prompts" / "upgrade-v1.j2", folder / "upgrade-v1.j2")
    path = folder / "suite.yaml"
    path.write_text(SUITE.format(port=port, client=client, concurrency=concurrency, stages=STAGES if stages else ""))
    return path


def bodies(suite: Path, cases: int, port: int) -> list[dict]:
    """The exact request bodies the run sends (evalkit's own planning), for the bare loop."""
    from evalkit.dataset import load_dataset
    from evalkit.providers._openai import OpenAIProvider
    from evalkit.run._plan import plan_config, stratified_subset
    from evalkit.suite import load_suite, load_template
    from evalkit.tasks import get_task

    loaded = load_suite(suite)
    task = get_task(loaded.suite.task)
    dataset = load_dataset(loaded.suite.dataset, task=task, store=REPO / "datasets")
    picked = stratified_subset(dataset.cases, limit=cases, fraction=None, seed=loaded.suite.sample.seed)
    config = loaded.suite.configs[0]
    calls, _ = plan_config(config, load_template(loaded.prompt_path(config.prompt)), picked, task,
                           response_schema=task.decision_json_schema(), endpoint=None, seed=loaded.suite.seed)
    provider = OpenAIProvider(base_url=f"http://127.0.0.1:{port}/v1")
    return [provider._kwargs(c.request) for c in calls]


async def transport_rates(port: int, body_list: list[dict], concurrency: int) -> tuple[float, float]:
    """Requests/s of the SDK loop and of the aiohttp transport, in this process, same bodies."""
    import openai

    from evalkit.providers._aiohttp import AiohttpChatTransport

    sdk = openai.AsyncOpenAI(api_key="x", base_url=f"http://127.0.0.1:{port}/v1", max_retries=0, timeout=60)
    aio = AiohttpChatTransport(base_url=f"http://127.0.0.1:{port}/v1", api_key="x", organization=None, timeout_s=60)

    async def loop(send) -> float:
        sem = asyncio.Semaphore(concurrency)

        async def one(body):
            async with sem:
                await send(body)

        t0 = time.perf_counter()
        await asyncio.gather(*(one(b) for b in body_list))
        return len(body_list) / (time.perf_counter() - t0)

    async def via_sdk(body):
        await sdk.chat.completions.create(**body)

    async def via_aio(body):
        body = dict(body)
        await aio.post(body, body.pop("extra_headers"))

    await loop(via_sdk), await loop(via_aio)  # warm both pools
    rates = [(await loop(via_sdk), await loop(via_aio)) for _ in range(2)]
    await sdk.close()
    await aio.aclose()
    return max(r[0] for r in rates), max(r[1] for r in rates)


def child(argv: list[str]) -> None:
    """Work done in child processes, so the measuring parent stays small (a forked child inherits
    its parent's peak RSS on Linux, which would inflate every RSS reading)."""
    mode, *rest = argv
    if mode == "bodies":
        suite, cases, port, out = rest
        Path(out).write_text(json.dumps(bodies(Path(suite), int(cases), int(port))))
    elif mode == "transport":
        port, path, concurrency = rest
        body_list = json.loads(Path(path).read_text())[:1000]
        print(json.dumps(asyncio.run(transport_rates(int(port), body_list, int(concurrency)))))


def main() -> int | None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        return child(sys.argv[2:])
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=2000)
    ap.add_argument("--latency", type=float, default=0.05)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--stages", action="store_true",
                    help="also calibrate and project in the run (the suite sections most runs do not have)")
    args = ap.parse_args()

    # The simulated brain costs ~1 ms a request: memoized, and warmed by one untimed bare pass, the
    # server (its own process) answers at wire speed and only the clients are compared.
    server, port = start_server("--latency", str(args.latency), "--responder", "sim", "--memo")
    tmp = Path(tempfile.mkdtemp(prefix="evalkit-e2e-"))
    try:
        env = {**os.environ, "EVALKIT_HOME": str(tmp / "home"), "EVALKIT_DATASETS": str(REPO / "datasets"),
               "EVALKIT_REPORTS": str(tmp / "reports")}
        suites = {c: write_suite(tmp / c, port=port, client=c, concurrency=args.concurrency, stages=args.stages)
                  for c in ("httpx", "aiohttp")}
        body_file = tmp / "bodies.json"
        me = [sys.executable, str(Path(__file__).resolve()), "--child"]
        subprocess.run([*me, "bodies", str(suites["httpx"]), str(args.cases), str(port), str(body_file)],
                       env=env, cwd=REPO, check=True)
        (tmp / "bare.py").write_text(BARE)
        bare_cmd = [sys.executable, str(tmp / "bare.py"), str(body_file), f"http://127.0.0.1:{port}/v1",
                    str(args.concurrency)]

        def evalkit_cmd(client: str, limit: int) -> list[str]:
            return [sys.executable, "-m", "evalkit.cli.main", "run", str(suites[client]), "--fresh", "--quiet",
                    "--no-cache", "--limit", str(limit)]

        measure(bare_cmd, env, REPO, ok=(0,), server_pid=server.pid)  # warm-up: the server learns every answer
        best: dict[str, Measured] = {}
        for _ in range(args.rounds):
            for name, cmd in (("bare", bare_cmd), ("sdk", evalkit_cmd("httpx", args.cases)),
                              ("aiohttp", evalkit_cmd("aiohttp", args.cases)), ("fixed", evalkit_cmd("httpx", 10)),
                              ("fixed-aiohttp", evalkit_cmd("aiohttp", 10))):
                got = measure(cmd, env, REPO, ok=(0,) if name == "bare" else (0, 1), server_pid=server.pid)
                old = best.get(name, got)
                best[name] = Measured(wall=min(got.wall, old.wall), rss=max(got.rss, old.rss), pss=0.0,
                                      cpu=min(got.cpu, old.cpu))
        for name, client in (("sdk", "httpx"), ("aiohttp", "aiohttp")):  # memory of the whole tree, untimed
            got = measure(evalkit_cmd(client, args.cases), env, REPO, server_pid=server.pid, tree_pss=True)
            best[name] = replace(best[name], rss=max(got.rss, best[name].rss), pss=got.pss)
        out = subprocess.run([*me, "transport", str(port), str(body_file), str(args.concurrency)], env=env,
                             cwd=REPO, check=True, capture_output=True, text=True).stdout
        sdk_rate, aio_rate = json.loads(out.strip().splitlines()[-1])
    finally:
        stop_server(server)
        shutil.rmtree(tmp, ignore_errors=True)

    bare, sdk, aio, fixed, fixed_aio = (best[k].wall for k in ("bare", "sdk", "aiohttp", "fixed", "fixed-aiohttp"))
    rss = max(best["sdk"].rss, best["aiohttp"].rss)
    pss = max(best["sdk"].pss, best["aiohttp"].pss)
    cores = len(os.sched_getaffinity(0))

    def verdict(ok: bool) -> str:
        return "PASS" if ok else "MISS"

    print(f"end to end: {args.cases} cases, latency {args.latency * 1000:.0f} ms, concurrency {args.concurrency}, "
          f"best of {args.rounds}{', with calibrate + project' if args.stages else ''}")
    print(f"  bare openai-SDK asyncio loop (own process) : {bare:6.2f} s  peak RSS {best['bare'].rss:5.0f} MB")
    print(f"  evalkit run, SDK transport                 : {sdk:6.2f} s  peak RSS {best['sdk'].rss:5.0f} MB, "
          f"tree PSS {best['sdk'].pss:5.0f} MB")
    print(f"  evalkit run, http_client: aiohttp          : {aio:6.2f} s  peak RSS {best['aiohttp'].rss:5.0f} MB, "
          f"tree PSS {best['aiohttp'].pss:5.0f} MB")
    # No run can take less wall time than its CPU work spread perfectly over the machine's cores.
    print(f"  CPU seconds (the process, its helpers, the loopback server): bare {best['bare'].cpu:5.2f}, "
          f"SDK run {best['sdk'].cpu:5.2f}, aiohttp run {best['aiohttp'].cpu:5.2f}")
    print(f"  wall floor on {cores} cores (CPU / cores): SDK run {best['sdk'].cpu / cores:4.2f} s "
          f"({best['sdk'].cpu / cores / bare:4.2f}x bare), aiohttp run {best['aiohttp'].cpu / cores:4.2f} s "
          f"({best['aiohttp'].cpu / cores / bare:4.2f}x bare)")
    print(f"  wall ratio SDK transport     {sdk / bare:5.2f}x bare (target <= 1.3)  {verdict(sdk / bare <= 1.3)}")
    print(f"  wall ratio aiohttp transport {aio / bare:5.2f}x bare (target <= 0.6)  {verdict(aio / bare <= 0.6)}")
    print(f"  peak RSS of the largest process {rss:5.0f} MB; peak PSS of the whole process tree {pss:5.0f} MB "
          f"(target <= 250)  {verdict(max(rss, pss) <= 250)}")
    print(f"  fixed overhead (10-case run), SDK transport     {fixed:5.2f} s (target <= 2)  {verdict(fixed <= 2)}")
    print(f"  fixed overhead (10-case run), aiohttp transport {fixed_aio:5.2f} s (target <= 2)  "
          f"{verdict(fixed_aio <= 2)}")
    print(f"  transport request rate: SDK loop {sdk_rate:6.0f}/s, aiohttp {aio_rate:6.0f}/s, "
          f"ratio {aio_rate / sdk_rate:4.2f} (target >= 2)  {verdict(aio_rate / sdk_rate >= 2)}")
    met = [sdk / bare <= 1.3, aio / bare <= 0.6, max(rss, pss) <= 250, fixed <= 2, fixed_aio <= 2,
           aio_rate / sdk_rate >= 2]
    return 0 if all(met) else 1  # like every bench: a missed target fails `make bench`


if __name__ == "__main__":
    raise SystemExit(main())
