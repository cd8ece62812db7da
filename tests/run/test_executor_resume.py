"""A run killed with SIGKILL part-way, then resumed: exactly one record per call, and
no finished call was sent to the server again."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from resume_child import N_CALLS, planned
from runhelpers import opts, run

from evalkit.pricing import lookup_price
from evalkit.providers._openai import OpenAIProvider
from evalkit.run._executor import execute
from evalkit.run._journal import read_journal
from evalkit.testing import LoopbackServer, echo_responder, request_key

CHILD = Path(__file__).with_name("resume_child.py")


def _valid_lines(path: Path) -> list[dict]:
    """The journal's call records (not its attempt lines)."""
    out = []
    for line in path.read_text().splitlines():
        try:
            data = json.loads(line)
        except ValueError:
            continue
        if "attempt" not in data:
            out.append(data)
    return out


def test_sigkill_then_resume(tmp_path):
    run_dir = tmp_path / "run"
    journal = run_dir / "journal.jsonl"
    calls = planned()
    with LoopbackServer(responder=echo_responder, latency_s=0.05) as srv:
        env = {**os.environ, "EVALKIT_HOME": str(tmp_path / "home")}
        child = subprocess.Popen([sys.executable, str(CHILD), str(srv.port), str(run_dir)], env=env)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                if journal.exists() and len(_valid_lines(journal)) >= 12:
                    break
                if child.poll() is not None:
                    raise AssertionError(f"child exited early with {child.returncode}")
                time.sleep(0.01)
            os.kill(child.pid, signal.SIGKILL)
        finally:
            child.wait(10)
        assert child.returncode == -signal.SIGKILL
        finished_before = read_journal(journal)
        assert 12 <= len(finished_before) < N_CALLS  # killed part-way
        hits_before = dict(srv.hits)

        async def resume():
            prov = OpenAIProvider(base_url=srv.openai_base_url)
            recs = await execute(calls, providers={"cfg": prov}, prices={"cfg": lookup_price("gpt-4o-mini")},
                                 options=opts(concurrency=4, cache_mode="off"), run_dir=run_dir)
            await prov.aclose()
            return recs

        recs = run(resume())

    assert len(recs) == N_CALLS and len({r.key for r in recs}) == N_CALLS
    assert all(r.status == "ok" for r in recs)
    lines = _valid_lines(journal)
    assert len(lines) == N_CALLS  # nothing counted twice
    by_key = {(c.config, c.case_id, c.sample_index): request_key(c.request) for c in calls}
    for key in finished_before:
        assert srv.hits[by_key[key]] == 1, f"finished call {key} was sent again"
    # calls in flight at the kill were sent again (at most once more); none was lost
    assert all(1 <= srv.hits[k] <= 2 for k in by_key.values())
    assert sum(hits_before.values()) >= len(finished_before)


def test_a_resumed_run_keeps_its_cache_mode_unless_the_resuming_command_sets_another(tmp_path):
    """`evalkit run --no-cache`, Ctrl-C, then the printed `evalkit run --resume ID`: the resumed part
    read answers from the cache (the mode was this invocation's default). The manifest records the
    mode, the printed command carries it, and a resume without a cache flag keeps it."""
    from evalkit.run._request import RunRequest, resume_command, resumed_request

    for mode, flag in (("off", "--no-cache"), ("replay", "--replay")):
        old = {"request": {"configs": [], "cache_mode": mode}}
        assert resumed_request(RunRequest(), tmp_path, old, tmp_path).cache_mode == mode
        assert flag in resume_command("20260101-000000-x-abcdef", RunRequest(cache_mode=mode)).split()
    old = {"request": {"cache_mode": "off"}}
    assert resumed_request(RunRequest(cache_mode="replay"), tmp_path, old, tmp_path).cache_mode == "replay"
    assert resumed_request(RunRequest(), tmp_path, {"request": {}}, tmp_path).cache_mode == "read-write"
    assert "--no-cache" not in resume_command("20260101-000000-x-abcdef", RunRequest())
