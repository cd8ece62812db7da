"""Calls sent from the run's forked sender processes (run/_senders): the real SDKs against the
loopback server with injected faults, every call accounted exactly as in process; a sender killed
mid-run costs only its calls in flight (retried), and the rest are sent in process."""

from __future__ import annotations

import os
import signal
from collections import Counter
from types import SimpleNamespace

import pytest
from runhelpers import FAST_RETRY, make_calls, opts, run

from evalkit._forked import can_fork
from evalkit.pricing import lookup_price
from evalkit.providers._anthropic import AnthropicProvider
from evalkit.providers._openai import OpenAIProvider
from evalkit.run._executor import execute
from evalkit.run._journal import read_journal
from evalkit.run._senders import sender_processes
from evalkit.testing import FaultPlan, LoopbackServer, echo_responder, request_key

pytestmark = pytest.mark.skipif(not can_fork(), reason="needs fork and two cores")

PRICES = {"openai": lookup_price("gpt-4o-mini"), "anthropic": lookup_price("claude-haiku-4-5")}


async def _run(srv_kwargs, calls, options, *, provider, senders, run_dir=None, on_record=None):
    async with LoopbackServer(responder=echo_responder, **srv_kwargs) as srv:
        prov = (OpenAIProvider(base_url=srv.openai_base_url, timeout_s=options.timeout_s) if provider == "openai"
                else AnthropicProvider(base_url=srv.base_url, timeout_s=options.timeout_s))
        try:
            recs = await execute(calls, providers={"cfg": prov}, prices={"cfg": PRICES[provider]}, options=options,
                                 run_dir=run_dir, retry_policy=FAST_RETRY, senders=senders, on_record=on_record)
        finally:
            await prov.aclose()
        return recs, srv


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_faults_through_the_senders_are_accounted_like_in_process(home, tmp_path, provider, monkeypatch):
    calls = make_calls(60)
    faults = FaultPlan(rate=0.3, seed=3, kinds=("429", "500", "500_billed", "529", "400", "drop", "truncate",
                                                  "nonjson", "slow"))
    with sender_processes([SimpleNamespace(provider=provider, options={})]) as senders:
        assert senders is not None
        recs, srv = run(_run({"faults": faults, "slow_s": 1.5}, calls,
                             opts(timeout_s=1.0, max_error_share=1.0, concurrency=16),
                             provider=provider, senders=senders, run_dir=tmp_path / "r"))
        assert len(senders._senders) == (os.cpu_count() or 2)  # one per core
        assert senders.attempts == sum(r.attempts for r in recs)  # every attempt went through a sender
    assert len(recs) == 60 and len({r.key for r in recs}) == 60
    assert any(r.status == "ok" for r in recs)
    assert any(r.status == "failed" and r.error_class == "client_error" for r in recs)  # the injected 400s
    assert any(r.status == "failed" and r.error_class == "bad_response" for r in recs) or \
        any(r.attempts > 1 for r in recs)
    by_key = {request_key(c.request): rec for c, rec in zip(calls, recs)}
    reported = Counter()
    for hit in srv.log:
        if hit.usage_reported:
            reported[hit.key] += hit.usage_reported["input_tokens"] + hit.usage_reported["output_tokens"]
    for key, rec in by_key.items():  # billed usage survives the trip back from the sender
        assert sum(u.input_tokens + u.output_tokens for u in rec.billed_usage) == reported[key]
    assert any(len(r.billed_usage) > 1 for r in recs)  # a billed 500 (usage in the error) then a success
    assert all((r.cost_usd is None) == (r.possibly_billed_attempts > 0) for r in recs)
    assert any(r.possibly_billed_attempts for r in recs)  # timeouts cancelled in the sender, drops
    journaled = read_journal(tmp_path / "r" / "journal.jsonl")
    assert {k: v.status for k, v in journaled.items()} == {r.key: r.status for r in recs}


def test_answers_are_the_same_as_in_process(home):
    calls = make_calls(30)
    with sender_processes([SimpleNamespace(provider="openai", options={})]) as senders:
        remote, _ = run(_run({}, calls, opts(), provider="openai", senders=senders))
    local, _ = run(_run({}, calls, opts(cache_mode="off"), provider="openai", senders=None))
    strip = ("latency_s",)
    assert [r.response.model_dump(exclude=set(strip)) for r in remote] == \
        [r.response.model_dump(exclude=set(strip)) for r in local]
    assert [r.cost_usd for r in remote] == [r.cost_usd for r in local]
    assert all(r.cost_usd and not r.cache_hit for r in remote)
    assert senders.attempts == 30


def test_killed_senders_cost_only_their_calls_in_flight(home, tmp_path):
    calls = make_calls(80)
    killed = []

    with sender_processes([SimpleNamespace(provider="openai", options={})]) as senders:
        first = senders._process  # it forked the others: they end with it (PR_SET_PDEATHSIG)

        def kill_once(_rec):
            if not killed and first.is_alive():
                killed.append(first.pid)
                os.kill(first.pid, signal.SIGKILL)

        recs, _ = run(_run({"latency_s": 0.02}, calls, opts(concurrency=8, max_error_share=1.0), provider="openai",
                           senders=senders, run_dir=tmp_path / "r", on_record=kill_once))
        assert senders.attempts < sum(r.attempts for r in recs)  # the rest were sent in process
    assert killed
    assert len(recs) == 80 and all(r.status == "ok" for r in recs)  # the lost ones were retried
    lost = [r for r in recs if r.possibly_billed_attempts]
    assert 1 <= len(lost) <= 8  # at most the concurrency was in flight at the kill
    # Lost at most once per sender, then answered; possibly billed: the cost is unknown, never 0.
    assert all(2 <= r.attempts <= 1 + len(senders._senders) and r.cost_usd is None for r in lost)
    assert all(r.attempts == 1 for r in recs if not r.possibly_billed_attempts)
    assert set(read_journal(tmp_path / "r" / "journal.jsonl")) == {r.key for r in recs}
