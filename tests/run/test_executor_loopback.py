"""The executor driving the real openai/anthropic SDK clients against the loopback
server: response cache, --replay, fault injection with spend accounting, secrets."""

from __future__ import annotations

from collections import Counter

import pytest
from runhelpers import FAST_RETRY, make_calls, opts, run

from evalkit.errors import DataError, RunFailed
from evalkit.pricing import lookup_price
from evalkit.providers._anthropic import AnthropicProvider
from evalkit.providers._openai import OpenAIProvider
from evalkit.run._cache import ResponseCache
from evalkit.run._executor import execute
from evalkit.run._journal import read_journal
from evalkit.testing import FaultPlan, LoopbackServer, echo_responder, request_key

PRICE = lookup_price("gpt-4o-mini")
HAIKU = lookup_price("claude-haiku-4-5")


async def _run(srv_kwargs, calls, options, *, provider="openai", run_dir=None, **kw):
    async with LoopbackServer(responder=echo_responder, **srv_kwargs) as srv:
        prov = (OpenAIProvider(base_url=srv.openai_base_url, timeout_s=options.timeout_s) if provider == "openai"
                else AnthropicProvider(base_url=srv.base_url, timeout_s=options.timeout_s))
        try:
            recs = await execute(calls, providers={"cfg": prov}, prices={"cfg": PRICE if provider == "openai" else HAIKU},
                                 options=options, run_dir=run_dir, retry_policy=FAST_RETRY, **kw)
        finally:
            await prov.aclose()
        return recs, srv


def test_cache_then_replay_makes_no_network_call(home):
    calls = make_calls(15, samples=2)
    first, srv1 = run(_run({}, calls, opts()))
    assert sum(srv1.hits.values()) == 30 and all(not r.cache_hit for r in first)
    again, srv2 = run(_run({}, calls, opts(cache_mode="replay")))
    assert sum(srv2.hits.values()) == 0
    assert [r.response for r in again] == [r.response for r in first]  # reproduced exactly
    assert all(r.cache_hit and r.cost_usd == 0.0 and r.attempts == 0 for r in again)
    assert [r.nominal_cost_usd for r in again] == pytest.approx([r.cost_usd for r in first])
    rw, srv3 = run(_run({}, calls, opts()))  # read-write also serves from the cache
    assert sum(srv3.hits.values()) == 0 and all(r.cache_hit for r in rw)


def test_replay_cold_cache_names_first_missing_case(home):
    calls = make_calls(5)
    run(_run({}, calls[:2], opts()))
    with pytest.raises(RunFailed, match=r"--replay: no cached answer for case 'case-0002' in configuration 'cfg'.*"
                                        r"\(and 2 more\)") as err:
        run(_run({}, calls, opts(cache_mode="replay")))
    assert err.value.exit_code == 3


@pytest.mark.parametrize("mode", ["read-write", "replay"])
def test_corrupt_cache_entry_is_named_never_served_never_paid_again(home, tmp_path, mode):
    calls = make_calls(4)
    first, _ = run(_run({}, calls, opts()))
    path = ResponseCache().path_for(first[2].cache_key)
    path.write_bytes(path.read_bytes().replace(b'"text":"', b'"text":"X', 1))  # other valid JSON
    with pytest.raises(DataError) as err:
        run(_run({}, calls, opts(cache_mode=mode), run_dir=tmp_path / "r"))
    message = str(err.value)
    assert "corrupt" in message and str(path) in message and "'case-0002'" in message
    assert "disappeared" not in message and "no cached answer" not in message
    assert message.startswith("--replay: ") == (mode == "replay")
    assert not (tmp_path / "r" / "journal.jsonl").exists()  # refused before anything was sent
    path.unlink()  # deleting it re-sends that one call, knowingly
    recs, srv = run(_run({}, calls, opts(cache_mode="read-write")))
    assert sum(srv.hits.values()) == 1 and [r.cache_hit for r in recs] == [True, True, False, True]


def test_cache_key_changes_with_template_and_params(home):
    calls = make_calls(3)
    run(_run({}, calls, opts()))
    changed = [c.__class__(**{**c.__dict__, "request": c.request.model_copy(update={"template_version": "t2"})})
               for c in calls]
    recs, srv = run(_run({}, changed, opts()))
    assert sum(srv.hits.values()) == 3 and not any(r.cache_hit for r in recs)


def test_cache_mode_off_neither_reads_nor_writes(home):
    calls = make_calls(3)
    run(_run({}, calls, opts(cache_mode="off")))
    assert ResponseCache().stats().entries == 0


def test_replay_calls_offline_providers(home):
    class Offline:
        name, simulated, offline = "simish", True, True
        calls = 0

        async def complete(self, request):
            Offline.calls += 1
            return echo_responder(request)

        async def aclose(self):
            pass

    recs = run(execute(make_calls(4), providers={"cfg": Offline()}, prices={"cfg": None},
                       options=opts(cache_mode="replay")))
    assert Offline.calls == 4 and all(r.status == "ok" and not r.cache_hit for r in recs)


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_fault_injection_every_call_accounted(home, tmp_path, provider):
    calls = make_calls(60)
    faults = FaultPlan(rate=0.3, seed=3, kinds=("429", "500", "500_billed", "529", "400", "drop", "truncate",
                                                  "nonjson", "slow"))
    recs, srv = run(_run({"faults": faults, "slow_s": 1.5}, calls,
                         opts(timeout_s=1.0, max_error_share=1.0, concurrency=16),
                         provider=provider, run_dir=tmp_path / "r"))
    faulty = [h for h in srv.log if h.fault]
    assert len(faulty) / len(srv.log) >= 0.10
    assert len({h.fault for h in faulty}) >= 6  # mixed kinds
    assert len(recs) == 60 and len({r.key for r in recs}) == 60
    for rec in recs:
        assert rec.status in ("ok", "failed")
        if rec.status == "failed":
            assert rec.error_class and rec.error_message
    assert any(r.status == "failed" and r.error_class == "client_error" for r in recs)  # the injected 400s
    # Spend: every attempt the server reported usage for is in the record's billed usage.
    by_key = {request_key(c.request): rec for c, rec in zip(calls, recs)}
    reported = Counter()
    for hit in srv.log:
        if hit.usage_reported:
            reported[hit.key] += hit.usage_reported["input_tokens"] + hit.usage_reported["output_tokens"]
    for key, rec in by_key.items():
        billed = sum(u.input_tokens + u.output_tokens for u in rec.billed_usage)
        assert billed == reported[key], (rec, [h for h in srv.log if h.key == key])
        # A retry on a pooled connection the server had already closed never reaches it.
        assert rec.attempts >= srv.hits[key]
    assert any(len(r.billed_usage) > 1 for r in recs)  # a billed 500 followed by a success
    # A possibly billed attempt (timeout, drop, truncated body) makes the cost unknown, never a known $0.
    assert all((r.cost_usd is None) == (r.possibly_billed_attempts > 0) for r in recs)
    assert any(r.possibly_billed_attempts for r in recs)
    assert all(r.possibly_billed_usd > 0 for r in recs if r.possibly_billed_attempts)
    journaled = read_journal(tmp_path / "r" / "journal.jsonl")
    assert {k: v.status for k, v in journaled.items()} == {r.key: r.status for r in recs}


@pytest.mark.parametrize("provider", ["openai", "anthropic", "litellm"])
def test_no_api_key_in_any_written_file(home, tmp_path, monkeypatch, provider):
    secret = "sk-test-SECRET-123"
    monkeypatch.setenv("EVALKIT_TEST_KEY", secret)
    model = {"openai": "gpt-4o-mini", "anthropic": "claude-haiku-4-5", "litellm": "openai/gpt-4o-mini"}[provider]
    calls = make_calls(4, provider=provider, model=model)

    async def go():
        from evalkit.providers import create_provider

        async with LoopbackServer(responder=echo_responder) as srv:
            url = srv.base_url if provider == "anthropic" else srv.openai_base_url
            prov = create_provider(provider, base_url=url, api_key_env="EVALKIT_TEST_KEY")
            assert secret not in repr(getattr(prov, "spec", ""))
            await execute(calls, providers={"cfg": prov}, prices={"cfg": PRICE}, options=opts(),
                          run_dir=tmp_path / "run")
            await prov.aclose()

    run(go())
    written = [p for root in (home, tmp_path / "run") for p in root.rglob("*") if p.is_file()]
    assert len(written) >= 5
    for path in written:
        assert secret.encode() not in path.read_bytes(), path
