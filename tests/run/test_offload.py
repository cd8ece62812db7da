"""Offline providers that compute their answers (the simulated model, the rules baseline) answer
in forked workers: the same answers as inline, a worker that dies hands its requests back to the
parent, and no worker outlives a killed run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

from runhelpers import make_calls, opts, run

from evalkit.providers import ModelResponse, Usage
from evalkit.providers._sim import SimProvider
from evalkit.run import execute
from evalkit.run._offload import MIN_CALLS, OffloadedAnswers
from evalkit.tasks import get_task
from evalkit.testing import child_pids


class Computing:
    """An offline provider whose answer names the process that computed it (and can die in a worker)."""

    offline = True
    simulated = True

    def __init__(self, *, die_in_worker: bool = False) -> None:
        self.parent = os.getpid()
        self.die_in_worker = die_in_worker

    def answer(self, request):
        if self.die_in_worker and os.getpid() != self.parent:
            os._exit(1)  # a worker killed mid-answer (out of memory, kill -9)
        text = request.messages[-1].content.upper()
        return ModelResponse(text=f'{{"action": "approve", "confidence": 0.9, "echo": "{text}", "pid": {os.getpid()}}}',
                             usage=Usage(input_tokens=1, output_tokens=1), model_version="computing")

    async def complete(self, request):
        return self.answer(request)

    async def aclose(self):
        return None


def _records(provider, n, tmp_path):
    calls = make_calls(n, config="c", provider="sim", model="large")
    return run(execute(calls, providers={"c": provider}, prices={"c": None}, options=opts(concurrency=16,
                                                                                           cache_mode="off"),
                       run_dir=tmp_path))


def test_the_simulated_model_answers_the_same_in_workers_as_inline(tmp_path):
    task = get_task("upgrades")
    calls = make_calls(MIN_CALLS, config="c", provider="sim", model="large")
    provider = SimProvider(task=task, seed=3)
    offload = OffloadedAnswers.for_providers({"c": provider}, len(calls))
    assert offload is not None and offload.handles("c")

    async def both():
        try:
            return [(await offload.answer("c", c.request), provider.answer(c.request)) for c in calls[:40]]
        finally:
            offload.close()

    pairs = run(both())
    for worker, inline in pairs:
        assert worker.text == inline.text and worker.usage == inline.usage


def test_a_run_uses_workers_and_keeps_every_answer(tmp_path):
    records = _records(Computing(), MIN_CALLS, tmp_path)
    assert len(records) == MIN_CALLS and all(r.status == "ok" for r in records)
    pids = {r.response.text.rsplit('"pid": ', 1)[1].rstrip("}") for r in records}
    assert str(os.getpid()) not in pids and pids  # computed in the workers, not inline
    for r, call in zip(records, make_calls(MIN_CALLS, config="c"), strict=True):
        assert call.request.messages[-1].content.upper() in r.response.text


def test_few_calls_are_answered_inline():
    assert OffloadedAnswers.for_providers({"c": Computing()}, MIN_CALLS - 1) is None


def test_a_worker_that_dies_hands_its_requests_back(tmp_path):
    records = _records(Computing(die_in_worker=True), MIN_CALLS, tmp_path)
    assert len(records) == MIN_CALLS and all(r.status == "ok" for r in records)
    assert {r.response.text.rsplit('"pid": ', 1)[1].rstrip("}") for r in records} == {str(os.getpid())}


def test_no_worker_outlives_a_killed_run(tmp_path):
    """kill -9 of the run: its workers end with it (PR_SET_PDEATHSIG), none waits forever."""
    script = tmp_path / "child.py"
    script.write_text(textwrap.dedent(f"""
        import asyncio, sys, time
        sys.path.insert(0, {str(os.path.dirname(__file__))!r})
        from runhelpers import make_calls, opts
        from test_offload import Computing
        from evalkit.run._offload import OffloadedAnswers

        class Slow(Computing):
            def answer(self, request):
                time.sleep(60)

        async def main():
            calls = make_calls(4)
            offload = OffloadedAnswers.for_providers({{"c": Slow()}}, 1000)
            await asyncio.gather(*(offload.answer("c", c.request) for c in calls))

        print("ready", flush=True)
        asyncio.run(main())
    """))
    child = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True,
                             env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert child.stdout.readline().strip() == "ready"
    deadline = time.monotonic() + 30
    workers: list[int] = []
    while time.monotonic() < deadline and len(workers) < 2:
        workers = child_pids(child.pid)
        time.sleep(0.1)
    assert workers, "no worker was started"
    child.send_signal(signal.SIGKILL)
    child.wait(10)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(p) for p in workers):
        time.sleep(0.1)
    assert not any(_alive(p) for p in workers)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False
